"""EcoTrack platform API v1 (many Algerian couriers): tracking pulls, parcel creation, remarks.

Contract, from the vendor's published Postman collection ("ECOTRACK API",
documenter.getpostman.com/view/14517169/Tz5je15g), per courier at
``https://<courier>.ecotrack.dz/api/v1/``:

* ``Authorization: Bearer <api_token>``; 401 ``{"message": "Unauthenticated."}``;
* 50 requests a minute, 1 500 an hour, 15 000 a day; 429 ``{"message": "Too Many
  Attempts."}`` with ``Retry-After``; ``X-RateLimit-Limit`` / ``-Remaining`` (minute),
  ``…-Hour`` and ``…-Day`` on every answer (:mod:`connectors.carriers.http`);
* ``POST create/order``: the fields in the **query string** (no body): ``reference,
  nom_client, telephone, telephone_2, adresse, code_postal, commune, code_wilaya,
  montant, remarque, produit, type (1 delivery, 2 exchange, 3 pickup, 4 recovery),
  stop_desk (0/1), weight, fragile, …``; ``{"success": true, "tracking": "…"}``, 422
  ``{"message": "The given data was invalid.", "errors": {"<field>": ["…"]}}`` or 200
  ``{"success": false, "error": 10002, "message": "…"}`` (wilaya not served);
* ``POST update/order``: ``tracking`` plus the fields to change, **named differently**
  (``client, tel, tel2, wilaya, product``; ``remarque`` keeps its name); only before the
  order is validated for shipping, else ``{"success": false, "error": 10001}``;
* ``POST add/maj?tracking=&content=`` (≤ 255 characters): a note on the parcel that the
  courier sees, at any time; ``GET get/maj?tracking=`` lists them;
* ``GET get/orders?page=&start_date=&end_date=``: a Laravel paginator (``current_page,
  data, last_page, per_page, total``), 40 a page, the last 90 days by default; rows
  carry ``tracking, reference, commune, wilaya_id, created_at, status`` (an enum key
  such as ``en_livraison``) — no update time;
* ``GET get/trackings/info?trackings[]=…`` (≤ 100): each parcel's ``activity``
  events ``{date, time, status, station}`` (``livred``, ``attempt_delivery``, …).

The pull therefore reads the parcels created in the last ``active_days`` (default
45) before the high-water mark, asks their activity 100 at a time — only for the
parcels whose list ``status`` changed since the last completed pull (a small status
memory beside the engine's state; a first pull or a lost memory asks all) — and
lands one envelope line per activity event, oldest first, keyed
``tracking|date time|status``. ``notification_on_order`` (a note was added) is not a
status change and is not landed.

Delivery instructions: ``remarque`` is the courier's free-text note (≤ 255) printed
on the parcel; cod360 puts the delivery-code requirement there at creation (after
the merchant's own note). For a parcel that exists, an ``add/maj`` note: the list
does not return the parcel's ``remarque``, and ``update/order`` would replace the
merchant's note with ours (and is refused once the order is validated, error 10001).

Unverified (the collection shows no success example): the ``get/trackings/info``
answer's shape — read either as a list of objects with ``tracking`` or as an object
keyed by tracking; activity ``date``/``time`` are Algerian wall-clock time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from common.transport import RetryableError, bearer_auth
from connectors.carriers.envelope import (
    ALGERIA_TZ,
    CarrierTrackingPuller,
    envelope_line,
    naive_local,
    order_ref_from,
)
from connectors.carriers.http import CarrierHttp, post_without_duplicates
from connectors.carriers.parcels import ParcelRequest, ParcelResult
from connectors.storefronts.base import Page, StorefrontPullError
from connectors.storefronts.http import HttpSettings, StoreRef

LIST_PAGE_SIZE = 40  # fixed by the API
TRACKINGS_PER_CALL = 100
DEFAULT_ACTIVE_DAYS = 45
INSTRUCTION_FIELD = "remarque"
NOTE_FIELD = "add/maj content"
MAX_REMARK = 255
PERMISSION = "an API token of the courier's EcoTrack account"
TYPE_DELIVERY = 1
# Activity events that are not a parcel status.
NOT_A_STATUS = frozenset({"notification_on_order"})


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:200]
    return str(body)[:200]


class EcoTrackClient:
    """One courier account on the EcoTrack platform."""

    def __init__(
        self,
        *,
        account: StoreRef,
        base_url: str,
        token: str,
        settings: HttpSettings | None = None,
    ) -> None:
        self.account = account
        self.http = CarrierHttp(
            store=account,
            base_url=base_url,
            auth=bearer_auth(token),
            # 50 a minute: a client pace under it keeps a pull from taking 429s.
            settings=settings or HttpSettings(rate_limit_per_s=0.8, backoff_max_s=60.0),
            secrets=(token,),
            describe_error=_error_text,
        )

    def _get(self, path: str, params: Any, what: str) -> Any:
        def read(response: httpx.Response) -> Any:
            if response.status_code >= 400:
                raise StorefrontPullError(
                    f"{self.account.label()}: {what} refused (HTTP {response.status_code}: "
                    f"{_error_text(response)})"
                )
            try:
                return response.json()
            except ValueError:
                raise RetryableError("a response that is not JSON") from None

        return self.http.call("GET", path, what=what, params=params, interpret=read)

    def orders(self, *, page: int, start_date: str | None = None) -> dict[str, Any]:
        """One page (40) of the account's orders created from ``start_date`` (YYYY-MM-DD) on."""
        params: dict[str, Any] = {"page": page}
        if start_date:
            params["start_date"] = start_date
        return self._get("get/orders", params, f"orders page {page}")

    def trackings_info(self, trackings: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Each tracking's activity events (≤ 100 trackings a call)."""
        params = [("trackings[]", t) for t in trackings]
        body = self._get("get/trackings/info", params, f"activity of {len(trackings)} parcels")
        entries: list[tuple[str, Any]]
        if isinstance(body, dict):
            body = body.get("data", body)
        if isinstance(body, dict):
            entries = [(str(k), v) for k, v in body.items()]
        elif isinstance(body, list):
            entries = [(str(e.get("tracking")), e) for e in body if isinstance(e, dict)]
        else:
            entries = []
        wanted = set(trackings)
        # Matched by the tracking asked for, never by position.
        return {
            tracking: list(entry.get("activity") or [])
            for tracking, entry in entries
            if tracking in wanted and isinstance(entry, dict)
        }

    def create_order(self, parcel: ParcelRequest, instruction: str) -> ParcelResult:
        """``POST create/order`` with the instruction in ``remarque``."""
        params = order_params(parcel, instruction)
        answer = post_without_duplicates(
            self.http, "create/order", None, "create order", params=params
        )
        return _result(parcel.order_ref, answer, INSTRUCTION_FIELD, params[INSTRUCTION_FIELD])

    def update_remark(self, order_ref: str, tracking: str, remark: str) -> ParcelResult:
        """``update/order`` with ``remarque``: it *replaces* the parcel's remark, so the
        caller passes the whole text; refused once the order is validated (10001)."""
        text = remark[:MAX_REMARK]
        answer = post_without_duplicates(
            self.http,
            "update/order",
            None,
            "update order",
            params={"tracking": tracking, INSTRUCTION_FIELD: text},
        )
        result = _result(order_ref, answer, INSTRUCTION_FIELD, text)
        result.tracking_number = result.tracking_number or tracking
        return result

    def add_note(self, order_ref: str, tracking: str, text: str) -> ParcelResult:
        """``add/maj``: a note on the parcel the courier sees, accepted at any stage and
        added beside the merchant's remark, never over it."""
        content = text[:MAX_REMARK]
        answer = post_without_duplicates(
            self.http,
            "add/maj",
            None,
            "add note",
            params={"tracking": tracking, "content": content},
        )
        result = _result(order_ref, answer, NOTE_FIELD, content)
        result.tracking_number = result.tracking_number or tracking
        return result

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> EcoTrackClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def local_phone(phone: str) -> str:
    """``+213550123456`` → ``0550123456``: the 9-10 digits ``telephone`` takes."""
    digits = "".join(c for c in phone if c.isdigit())
    if digits.startswith("213") and len(digits) in (11, 12):
        digits = "0" + digits[3:]
    return digits


def order_params(parcel: ParcelRequest, instruction: str) -> dict[str, Any]:
    """A :class:`ParcelRequest` as ``create/order``'s query fields; the merchant's note
    first, then the instruction, within the field's 255 characters (the instruction is
    never the part cut)."""
    room = MAX_REMARK - len(instruction) - 3
    own = parcel.remark.strip()[: max(room, 0)]
    remark = " | ".join(p for p in (own, instruction) if p)[:MAX_REMARK]
    return {
        "reference": parcel.order_ref,
        "nom_client": f"{parcel.first_name} {parcel.last_name}".strip(),
        "telephone": local_phone(parcel.phone),
        "adresse": parcel.address,
        "commune": parcel.commune,
        "code_wilaya": parcel.wilaya_code,
        "montant": parcel.amount,
        INSTRUCTION_FIELD: remark,
        "produit": parcel.products,
        "type": TYPE_DELIVERY,
        "stop_desk": 1 if parcel.stop_desk else 0,
    }


def _result(order_ref: str, answer: Any, field: str, sent: str) -> ParcelResult:
    if isinstance(answer, dict) and answer.get("success"):
        return ParcelResult(
            order_ref,
            True,
            tracking_number=answer.get("tracking"),
            instruction_field=field,
            instruction_sent=sent,
            detail=answer,
        )
    message = answer.get("message", "") if isinstance(answer, dict) else str(answer)
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if isinstance(errors, dict) and errors:
        message = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in sorted(errors.items()))
    elif isinstance(answer, dict) and answer.get("error"):
        message = f"error {answer['error']}: {message}"
    return ParcelResult(
        order_ref, False, instruction_field=field, message=str(message)[:300], detail=answer or {}
    )


class EcoTrackTrackingPuller(CarrierTrackingPuller):
    """The activity events of the account's recent parcels, oldest first (module docstring)."""

    def __init__(
        self,
        client: EcoTrackClient,
        *,
        carrier: str,
        order_ref_prefix: str | None = None,
        page_size: int = 100,
        active_days: int = DEFAULT_ACTIVE_DAYS,
        status_memory: Path | None = None,
    ) -> None:
        self.client = client
        self.platform = carrier
        self.order_ref_prefix = order_ref_prefix
        self.page_size = page_size
        self.active_days = active_days
        self.status_memory = status_memory
        self._statuses_seen: dict[str, str] = {}

    def pages(self, since: datetime | None) -> Iterator[Page]:
        start = None
        if since is not None:
            start = (since.astimezone(ALGERIA_TZ) - timedelta(days=self.active_days)).date()
        parcels = self._list(start.isoformat() if start else None)
        remembered = self._remembered()
        changed = [t for t, p in parcels.items() if remembered.get(t) != p.get("status")]
        lines: list[dict[str, Any]] = []
        for first in range(0, len(changed), TRACKINGS_PER_CALL):
            chunk = changed[first : first + TRACKINGS_PER_CALL]
            for tracking, events in self.client.trackings_info(chunk).items():
                lines.extend(self._lines(parcels[tracking], events))
        lines.sort(key=lambda line: (line.get("event_time") or "", line.get("event_id") or ""))
        self._statuses_seen = {t: str(p.get("status") or "") for t, p in parcels.items()}
        if not lines:
            yield Page(1, [], total_records=0)
        for number, first in enumerate(range(0, len(lines), self.page_size), start=1):
            yield Page(number, lines[first : first + self.page_size], total_records=len(lines))

    def _list(self, start_date: str | None) -> dict[str, dict[str, Any]]:
        parcels: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            body = self.client.orders(page=page, start_date=start_date)
            for order in body.get("data") or []:
                if order.get("tracking"):
                    parcels[str(order["tracking"])] = order
            last = body.get("last_page") or 1
            if page >= last or not body.get("data"):
                return parcels
            page += 1

    def _remembered(self) -> dict[str, str]:
        if self.status_memory is None or not self.status_memory.exists():
            return {}
        try:
            return dict(json.loads(self.status_memory.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            return {}  # a damaged memory only costs a full activity read

    def completed(self) -> None:
        """Remember the statuses read, once the pull's last batch is committed: a pull
        that failed keeps the old memory, so the next asks those parcels again (the
        engine lands each event once)."""
        if self.status_memory is None:
            return
        self.status_memory.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.status_memory.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._statuses_seen, sort_keys=True), encoding="utf-8")
        tmp.replace(self.status_memory)

    def _lines(self, parcel: dict[str, Any], events: list[dict[str, Any]]) -> list[dict]:
        tracking = str(parcel.get("tracking") or "")
        order_ref = order_ref_from(parcel.get("reference"), self.order_ref_prefix)
        out: list[dict[str, Any]] = []
        for event in events:
            status = str(event.get("status") or "")
            if status in NOT_A_STATUS:
                continue
            stamp = f"{event.get('date') or ''} {event.get('time') or ''}".strip()
            try:
                when = naive_local(stamp) if event.get("date") else None
            except ValueError:
                when = None
            if when is None:
                # Landed as read, without a key: ingestion quarantines it naming the field.
                out.append({"carrier": self.platform, "tracking_number": tracking, "vendor": event})
                continue
            out.append(
                envelope_line(
                    carrier=self.platform,
                    tracking_number=tracking,
                    order_ref=order_ref,
                    raw_status=status,
                    event_time=when,
                    event_id=f"{tracking}|{stamp}|{status}",
                    city=event.get("station") or parcel.get("commune"),
                )
            )
        return out

    def close(self) -> None:
        self.client.close()
