"""A local EcoTrack platform API v1 (one courier): orders, remarks, activity, rate limits.

Rules and their source (the vendor's Postman collection "ECOTRACK API",
documenter.getpostman.com/view/14517169/Tz5je15g, abbreviated [doc]; assumptions
shared with ``connectors/carriers/ecotrack.py`` are marked [assumed]):

* ``Authorization: Bearer <token>`` on every call, else 401 ``{"message":
  "Unauthenticated."}`` (Laravel Sanctum's answer) [doc];
* 50 calls a minute, 1 500 an hour, 15 000 a day; every answer carries
  ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` (minute), ``X-RateLimit-Limit-Hour``
  / ``-Remaining-Hour``, ``X-RateLimit-Limit-Day`` / ``-Remaining-Day``; over a limit:
  429 ``{"message": "Too Many Attempts."}`` with ``Retry-After`` (seconds to the
  window's end) [doc];
* ``POST create/order``: the fields in the query string [doc]; required ``nom_client,
  telephone (9-10 digits), adresse, commune, code_wilaya (1-58), montant, type (1-4)``;
  ``remarque, reference, produit, boutique`` ≤ 255; a bad field → 422 ``{"message":
  "The given data was invalid.", "errors": {"<field>": ["<French message>"]}}`` [doc];
  a wilaya the courier does not serve → 200 ``{"success": false, "error": 10002}``
  [doc]; ok → ``{"success": true, "tracking": "ECxxxx…"}`` [doc];
* ``POST update/order``: ``tracking`` + the fields to change (``client, tel, tel2,
  adresse, commune, wilaya, montant, remarque, product, …``); a validated order →
  ``{"success": false, "error": 10001, "message": "Commande non modifiable"}`` [doc];
* ``POST valid/order?tracking=``: validates the order for shipping (locks it) [doc];
* ``POST add/maj?tracking=&content=`` (≤ 255); ``GET get/maj?tracking=`` → a plain array
  ``[{remarque, station, livreur, created_at, tracking}]`` [doc]; adding one is an
  activity event ``notification_on_order`` [doc];
* ``GET get/orders?page=&start_date=&end_date=``: 40 a page, the last 90 days by default,
  a Laravel paginator ``{current_page, data, first_page_url, from, last_page,
  last_page_url, next_page_url, path, per_page, prev_page_url, to, total}`` [doc];
  ``start_date`` / ``end_date`` filter ``created_at`` by day, inclusive [assumed];
* ``GET get/tracking/info?tracking=`` → ``{recipientName, shippedBy, originCity,
  destLocationCity, currentStation, activity: [{date, time, status, station}],
  reasons}`` [doc]; ``GET get/trackings/info?trackings[]=…`` (≤ 100, else 422) → the
  same objects keyed by tracking [assumed: the collection shows no success example].

Faults (:class:`~sandbox.contract_servers.common.FaultPlan`) answer 5xx as Laravel
does (``{"message": "Server Error"}``); ``throttle`` answers the 429 above.
"""

from __future__ import annotations

import hmac
import itertools
import math
import re
import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.contract_servers.common import ContractServer, Fault

PREFIX = "/api/v1/"
PAGE_SIZE = 40
DEFAULT_WINDOW_DAYS = 90
MAX_TRACKINGS = 100
MAX_TEXT = 255
DEFAULT_LIMITS = {"minute": 50, "hour": 1500, "day": 15000}
WINDOWS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
# The list's enum keys [doc: get/orders/status].
STATUSES = (
    "prete_a_expedier",
    "en_ramassage",
    "en_preparation_stock",
    "vers_hub",
    "en_hub",
    "vers_wilaya",
    "en_preparation",
    "en_livraison",
    "suspendu",
    "livre_non_encaisse",
    "encaisse_non_paye",
    "paiements_prets",
    "paye_et_archive",
    "retour_chez_livreur",
    "retour_transit_entrepot",
    "retour_en_traitement",
    "retour_recu",
    "retour_archive",
    "annule",
)
_PHONE = re.compile(r"^\d{9,10}$")
_REQUIRED_CREATE = (
    "nom_client",
    "telephone",
    "adresse",
    "commune",
    "code_wilaya",
    "montant",
    "type",
)
# update/order's names for the fields create/order calls otherwise [doc].
_UPDATABLE = {
    "client": "nom_client",
    "tel": "telephone",
    "tel2": "telephone_2",
    "adresse": "adresse",
    "code_postal": "code_postal",
    "commune": "commune",
    "wilaya": "code_wilaya",
    "montant": "montant",
    "remarque": "remarque",
    "product": "produit",
    "boutique": "boutique",
    "type": "type",
    "stop_desk": "stop_desk",
    "fragile": "fragile",
    "gps_link": "gps_link",
}


def laravel(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra}, status_code=status)


def invalid(errors: dict[str, list[str]]) -> JSONResponse:
    return laravel(422, "The given data was invalid.", errors=errors)


class EcoTrackContractServer(ContractServer):
    vendor = "ecotrack"

    def __init__(
        self,
        *,
        token: str,
        limits: dict[str, int] | None = None,
        served_wilayas: Iterable[int] | None = None,
        today: date | None = None,
        faults: Any = None,
    ) -> None:
        super().__init__(faults=faults)
        self._token = token
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.served = set(served_wilayas) if served_wilayas is not None else set(range(1, 59))
        self.today = today  # None: the wall clock (the 90-day default window)
        self._used: dict[str, tuple[int, int]] = {}
        self.orders: dict[str, dict[str, Any]] = {}  # tracking -> order row
        self.activity: dict[str, list[dict[str, Any]]] = {}  # tracking -> events
        self.notes: dict[str, list[dict[str, Any]]] = {}  # tracking -> add/maj notes
        self.validated: set[str] = set()
        self._numbers = itertools.count(1)

    # -- seeding ------------------------------------------------------------------------

    def add_order(
        self,
        reference: str | None,
        *,
        created_at: str,
        status: str = "prete_a_expedier",
        tracking: str | None = None,
        validated: bool = False,
        **fields: Any,
    ) -> str:
        with self.lock:
            tracking = tracking or f"ECTEST{next(self._numbers):010d}"
            self.orders[tracking] = {
                "tracking": tracking,
                "reference": reference,
                "client": fields.pop("client", "Client"),
                "phone": fields.pop("phone", "0550000000"),
                "phone_2": None,
                "adresse": fields.pop("adresse", "Cité 1"),
                "commune": fields.pop("commune", "Bab Ezzouar"),
                "wilaya_id": fields.pop("wilaya_id", 16),
                "montant": str(fields.pop("montant", "2500")),
                "tarif_prestation": "400",
                "tarif_retour": "200",
                "type_id": 1,
                "created_at": created_at,
                "payment_id": None,
                "return_id": None,
                "status": status,
                "products": fields.pop("products", None),
                "remarque": fields.pop("remarque", ""),
                **fields,
            }
            self.activity.setdefault(tracking, [])
            if validated:
                self.validated.add(tracking)
            return tracking

    def add_activity(
        self, tracking: str, status: str, at: str, station: str = "", *, list_status: str | None
    ) -> None:
        """An activity event at ``at`` (``YYYY-MM-DD HH:MM:SS``), and the order's list status."""
        with self.lock:
            day, _, clock = at.partition(" ")
            self.activity[tracking].append(
                {"date": day, "time": clock, "status": status, "station": station}
            )
            if list_status is not None:
                self.orders[tracking]["status"] = list_status

    # -- pipeline hooks -----------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), self._token.encode()):
            return None
        return laravel(401, "Unauthenticated.")

    def fault_response(self, fault: Fault) -> Response:
        return laravel(fault.status, "Server Error")

    def throttled_response(self, retry_after_s: float) -> Response:
        response = laravel(429, "Too Many Attempts.")
        response.headers.update(
            {"Retry-After": str(max(1, math.ceil(retry_after_s))), "X-RateLimit-Remaining": "0"}
        )
        return response

    def _take(self) -> tuple[dict[str, str], float | None]:
        """Count one call in every window: the headers, and the wait when one is used up."""
        now = time.time()
        headers: dict[str, str] = {}
        wait: float | None = None
        for window, seconds in WINDOWS.items():
            bucket = math.floor(now / seconds)
            used_bucket, used = self._used.get(window, (bucket, 0))
            used = used if used_bucket == bucket else 0
            if used >= self.limits[window] and wait is None:
                wait = (bucket + 1) * seconds - now
            self._used[window] = (bucket, used)
        for window in WINDOWS:
            bucket, used = self._used[window]
            if wait is None:
                used += 1
                self._used[window] = (bucket, used)
            suffix = "" if window == "minute" else f"-{window.capitalize()}"
            headers[f"X-RateLimit-Limit{suffix}"] = str(self.limits[window])
            headers[f"X-RateLimit-Remaining{suffix}"] = str(max(0, self.limits[window] - used))
        return headers, wait

    def _limited(self, handler: Any) -> Any:
        def run(request: Request, body: Any) -> Response:
            headers, wait = self._take()
            response = self.throttled_response(wait) if wait is not None else handler(request, body)
            response.headers.update(headers)
            return response

        return run

    def vendor_routes(self) -> list[Route]:
        routes = {
            "create/order": (self._create, ["POST"]),
            "update/order": (self._update, ["POST"]),
            "valid/order": (self._validate, ["POST"]),
            "add/maj": (self._add_note, ["POST"]),
            "get/maj": (self._notes, ["GET"]),
            "get/orders": (self._list, ["GET"]),
            "get/tracking/info": (self._tracking_info, ["GET"]),
            "get/trackings/info": (self._trackings_info, ["GET"]),
        }
        return [
            self.route(PREFIX + path, self._limited(handler), methods)
            for path, (handler, methods) in routes.items()
        ]

    # -- handlers -----------------------------------------------------------------------

    def _create(self, request: Request, body: Any) -> Response:
        params = dict(request.query_params)  # [doc] the fields travel in the query string
        errors: dict[str, list[str]] = {}
        for name in _REQUIRED_CREATE:
            if not params.get(name, "").strip():
                errors.setdefault(name, []).append(f"Le champ {name} est obligatoire.")
        errors.update(_field_errors(params))
        if errors:
            return invalid(errors)
        wilaya = int(params["code_wilaya"])
        if wilaya not in self.served:
            return JSONResponse(
                {
                    "success": False,
                    "error": 10002,
                    "message": "Pas de livraison pour la wilaya sélectionnée",
                }
            )
        reference = params.get("reference") or None
        if reference:
            self.duplicates.see("reference", reference)
        tracking = f"ECQ{next(self._numbers):010d}"
        self.orders[tracking] = {
            "tracking": tracking,
            "reference": reference,
            "client": params["nom_client"],
            "phone": params["telephone"],
            "phone_2": params.get("telephone_2"),
            "adresse": params["adresse"],
            "commune": params["commune"],
            "wilaya_id": wilaya,
            "montant": params["montant"],
            "tarif_prestation": "400",
            "tarif_retour": "200",
            "type_id": int(params["type"]),
            "created_at": self._now().strftime("%Y-%m-%d"),
            "payment_id": None,
            "return_id": None,
            "status": "prete_a_expedier",
            "products": params.get("produit"),
            "remarque": params.get("remarque", ""),
        }
        self.activity[tracking] = [self._event("order_information_received_by_carrier")]
        return JSONResponse({"success": True, "tracking": tracking})

    def _update(self, request: Request, body: Any) -> Response:
        params = dict(request.query_params)
        tracking = params.pop("tracking", "")
        if not tracking:
            return invalid({"tracking": ["Le champ tracking est obligatoire."]})
        if tracking not in self.orders:
            return invalid({"tracking": ["Le tracking sélectionné est invalide."]})
        unknown = sorted(set(params) - set(_UPDATABLE))
        mapped = {_UPDATABLE[k]: v for k, v in params.items() if k in _UPDATABLE}
        errors = _field_errors(mapped)
        if unknown:  # strict: a create/order name sent here would be silently dropped by the vendor
            errors.update({k: [f"Le champ {k} n'est pas modifiable."] for k in unknown})
        if errors:
            return invalid(errors)
        if tracking in self.validated:
            return JSONResponse(
                {"success": False, "error": 10001, "message": "Commande non modifiable"}
            )
        order = self.orders[tracking]
        for name, value in mapped.items():
            key = {"nom_client": "client", "telephone": "phone", "produit": "products"}.get(
                name, name
            )
            order[key] = value
        return JSONResponse({"success": True, "message": "Commande modifiée avec succès"})

    def _validate(self, request: Request, body: Any) -> Response:
        tracking = request.query_params.get("tracking", "")
        if tracking not in self.orders:
            return invalid({"tracking": ["Le tracking sélectionné est invalide."]})
        self.validated.add(tracking)
        return JSONResponse({"success": True, "message": "Commande expedier avec succès"})

    def _add_note(self, request: Request, body: Any) -> Response:
        tracking = request.query_params.get("tracking", "")
        content = request.query_params.get("content", "")
        errors: dict[str, list[str]] = {}
        if tracking not in self.orders:
            errors["tracking"] = ["Le tracking sélectionné est invalide."]
        if not content.strip():
            errors["content"] = ["Le champ content est obligatoire."]
        elif len(content) > MAX_TEXT:
            errors["content"] = [
                f"Le texte content ne peut contenir plus de {MAX_TEXT} caractères."
            ]
        if errors:
            return invalid(errors)
        self.notes.setdefault(tracking, []).append(
            {
                "remarque": f"Boutique : {content}",
                "commentaires": "",
                "station": "",
                "livreur": "",
                "created_at": self._now().strftime("%Y-%m-%d %H:%M:%S"),
                "tracking": tracking,
            }
        )
        self.activity[tracking].append(self._event("notification_on_order"))
        return JSONResponse({"success": True, "message": "Mise a jour avec success"})

    def _notes(self, request: Request, body: Any) -> Response:
        tracking = request.query_params.get("tracking", "")
        if tracking not in self.orders:
            return invalid({"tracking": ["Le tracking sélectionné est invalide."]})
        return JSONResponse(self.notes.get(tracking, []))

    def _list(self, request: Request, body: Any) -> Response:
        try:
            page = int(request.query_params.get("page", "1"))
            first = _day(request.query_params.get("start_date"))
            last = _day(request.query_params.get("end_date"))
        except ValueError as exc:
            return invalid({"page" if "page" in str(exc) else "start_date": [str(exc)]})
        if page < 1:
            return invalid({"page": ["Le champ page doit être au moins 1."]})
        if first is None:
            first = self._now().date() - timedelta(days=DEFAULT_WINDOW_DAYS)
        rows = [
            o
            for o in self.orders.values()
            if first <= date.fromisoformat(o["created_at"][:10])
            and (last is None or date.fromisoformat(o["created_at"][:10]) <= last)
        ]
        rows.sort(key=lambda o: (o["created_at"], o["tracking"]), reverse=True)
        total = len(rows)
        last_page = max(1, math.ceil(total / PAGE_SIZE))
        chunk = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        base = str(request.url.replace(query=""))
        params = dict(request.query_params)

        def link(number: int) -> str:
            return f"{base}?{urlencode({**params, 'page': number})}"

        public = [{k: v for k, v in o.items() if k != "remarque"} for o in chunk]
        return JSONResponse(
            {
                "current_page": page,
                "data": public,
                "first_page_url": link(1),
                "from": (page - 1) * PAGE_SIZE + 1 if chunk else None,
                "last_page": last_page,
                "last_page_url": link(last_page),
                "next_page_url": link(page + 1) if page < last_page else None,
                "path": base,
                "per_page": PAGE_SIZE,
                "prev_page_url": link(page - 1) if page > 1 else None,
                "to": (page - 1) * PAGE_SIZE + len(chunk) if chunk else None,
                "total": total,
            }
        )

    def _info(self, tracking: str) -> dict[str, Any]:
        order = self.orders[tracking]
        events = sorted(self.activity.get(tracking, []), key=lambda e: (e["date"], e["time"]))
        return {
            "tracking": tracking,
            "recipientName": order["client"],
            "shippedBy": "Boutique",
            "originCity": 16,
            "destLocationCity": order["wilaya_id"],
            "currentStation": events[-1]["station"] if events else "",
            "activity": events,
            "reasons": [],
        }

    def _tracking_info(self, request: Request, body: Any) -> Response:
        tracking = request.query_params.get("tracking", "")
        if tracking not in self.orders:
            return invalid({"tracking": ["Le tracking sélectionné est invalide."]})
        return JSONResponse(self._info(tracking))

    def _trackings_info(self, request: Request, body: Any) -> Response:
        wanted = request.query_params.getlist("trackings[]")
        if not wanted:
            return invalid({"trackings": ["Le champ trackings est obligatoire."]})
        if len(wanted) > MAX_TRACKINGS:
            return invalid(
                {
                    "trackings": [
                        f"Le tableau trackings ne peut contenir plus de {MAX_TRACKINGS} éléments."
                    ]
                }
            )
        return JSONResponse({t: self._info(t) for t in wanted if t in self.orders})

    # -- helpers ------------------------------------------------------------------------

    def _now(self) -> datetime:
        if self.today is not None:
            return datetime.combine(self.today, datetime.min.time()).replace(hour=12)
        return datetime.now()

    def _event(self, status: str) -> dict[str, Any]:
        now = self._now()
        return {
            "date": now.strftime("%Y-%m-%d"),
            "time": now.strftime("%H:%M:%S"),
            "status": status,
            "station": "",
        }


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"La date {value} n'est pas une date valide (YYYY-MM-DD).") from None


def _field_errors(params: dict[str, Any]) -> dict[str, list[str]]:
    """The format rules of create/order's fields [doc], for whichever are present."""
    errors: dict[str, list[str]] = {}
    for name in ("telephone", "telephone_2"):
        value = params.get(name)
        if value and not _PHONE.match(str(value)):
            errors[name] = [f"Le champ {name} doit contenir entre 9 et 10 chiffres."]
    if params.get("code_wilaya") not in (None, ""):
        try:
            ok = 1 <= int(params["code_wilaya"]) <= 58
        except ValueError:
            ok = False
        if not ok:
            errors["code_wilaya"] = ["Le champ code wilaya doit être entre 1 et 58."]
    if params.get("montant") not in (None, ""):
        try:
            float(params["montant"])
        except ValueError:
            errors["montant"] = ["Le champ montant doit être un nombre."]
    if params.get("type") not in (None, "") and str(params["type"]) not in ("1", "2", "3", "4"):
        errors["type"] = ["Le type sélectionné est invalide."]
    for name in ("stop_desk", "fragile", "stock"):
        if params.get(name) not in (None, "") and str(params[name]) not in ("0", "1"):
            errors[name] = [f"Le champ {name} doit être 0 ou 1."]
    for name in ("remarque", "reference", "produit", "boutique", "nom_client", "adresse"):
        if len(str(params.get(name) or "")) > MAX_TEXT:
            errors[name] = [f"Le texte {name} ne peut contenir plus de {MAX_TEXT} caractères."]
    return errors
