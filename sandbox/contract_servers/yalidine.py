"""A local Yalidine / Guepex REST API v1: ``parcels/`` (GET, POST) and ``histories/``.

Strict where the contract is known: ``X-API-ID`` + ``X-API-TOKEN`` on every call
(401 otherwise); list answers ``{"has_more", "total_data", "data", "links"}``
paged by ``page`` / ``page_size``; ``POST parcels/`` takes a JSON array and
answers one result per ``order_id``; the quota headers ``x-second-quota-left``,
``x-minute-quota-left``, ``x-hour-quota-left``, ``x-day-quota-left`` on every
answer, 429 when a window is used up. The error body ``{"error": {"code",
"message"}}`` and the history filters (``date_status=<from>,<to>``,
``order_by``, ``asc``) are assumptions shared with the client (see
``connectors/carriers/yalidine.py``).
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.contract_servers.common import ContractServer, Fault

WINDOWS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
DEFAULT_QUOTAS = {"second": 5, "minute": 50, "hour": 1000, "day": 10000}
REQUIRED_PARCEL_FIELDS = (
    "order_id",
    "firstname",
    "familyname",
    "contact_phone",
    "address",
    "to_commune_name",
    "to_wilaya_name",
    "product_list",
    "price",
    "freeshipping",
    "is_stopdesk",
    "has_exchange",
)


def yalidine_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message}}, status_code=status)


class YalidineContractServer(ContractServer):
    vendor = "yalidine"

    def __init__(
        self,
        *,
        api_id: str,
        api_token: str,
        quotas: dict[str, int] | None = None,
        faults: Any = None,
    ) -> None:
        super().__init__(faults=faults)
        self._id, self._token = api_id, api_token
        self.quotas = {**DEFAULT_QUOTAS, **(quotas or {})}
        self._used: dict[str, tuple[int, int]] = {}  # window -> (bucket, calls in it)
        self.parcels: dict[str, dict[str, Any]] = {}  # tracking -> parcel
        self.histories: list[dict[str, Any]] = []
        self._next = 1

    # -- seeding ------------------------------------------------------------------------

    def add_parcel(self, order_id: str, tracking: str | None = None, **fields: Any) -> str:
        with self.lock:
            tracking = tracking or f"yal-{self._next:06d}"
            self._next += 1
            self.parcels[tracking] = {"tracking": tracking, "order_id": order_id, **fields}
            return tracking

    def add_history(self, events: Iterable[dict[str, Any]]) -> None:
        """Status changes ``{tracking, status, date_status, reason, center_name, wilaya_name}``."""
        with self.lock:
            self.histories.extend(dict(e) for e in events)

    # -- pipeline hooks -----------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        given_id = request.headers.get("x-api-id", "").encode()
        given_token = request.headers.get("x-api-token", "").encode()
        ok_id = hmac.compare_digest(given_id, self._id.encode())
        ok_token = hmac.compare_digest(given_token, self._token.encode())
        if ok_id and ok_token:
            return None
        return yalidine_error(401, "Unauthorized: invalid API ID or API TOKEN")

    def fault_response(self, fault: Fault) -> Response:
        return yalidine_error(fault.status, "Internal Server Error")

    def throttled_response(self, retry_after_s: float) -> Response:
        response = yalidine_error(429, "Too Many Requests")
        response.headers.update({"x-second-quota-left": "0"})
        return response

    def _take_quota(self) -> tuple[dict[str, str], str | None]:
        """Count one call in every window; the headers and the window used up, if any."""
        now = time.time()
        headers, exhausted = {}, None
        for window, seconds in WINDOWS.items():
            bucket = math.floor(now / seconds)
            used_bucket, used = self._used.get(window, (bucket, 0))
            used = used if used_bucket == bucket else 0
            if used >= self.quotas[window]:
                exhausted = exhausted or window
            headers[f"x-{window}-quota-left"] = str(max(0, self.quotas[window] - used - 1))
            self._used[window] = (bucket, used)
        if exhausted:
            return {k: str(self.quotas[w] - self._used[w][1]) for w, k in _names()}, exhausted
        for window in WINDOWS:
            bucket, used = self._used[window]
            self._used[window] = (bucket, used + 1)
        return headers, None

    def _quota_wrapped(self, handler: Any) -> Any:
        def run(request: Request, body: Any) -> Response:
            headers, exhausted = self._take_quota()
            if exhausted:
                response: Response = yalidine_error(429, f"Too Many Requests ({exhausted} quota)")
            else:
                response = handler(request, body)
            response.headers.update(headers)
            return response

        return run

    def vendor_routes(self) -> list[Route]:
        return [
            self.route("/v1/parcels/", self._quota_wrapped(self._parcels), ["GET", "POST"]),
            self.route("/v1/histories/", self._quota_wrapped(self._histories), ["GET"]),
        ]

    # -- handlers -----------------------------------------------------------------------

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        try:
            page = int(request.query_params.get("page", "1"))
            size = int(request.query_params.get("page_size", "100"))
        except ValueError:
            return yalidine_error(400, "page and page_size must be integers")
        if page < 1 or not 1 <= size <= 1000:
            return yalidine_error(400, "page must be >= 1 and page_size between 1 and 1000")
        chunk = items[(page - 1) * size : page * size]
        has_more = page * size < len(items)
        base = str(request.url.replace(query=""))
        params = dict(request.query_params)

        def link(number: int) -> str:
            return f"{base}?{urlencode({**params, 'page': number})}"

        links = {
            "self": link(page),
            "before": link(page - 1) if page > 1 else None,
            "next": link(page + 1) if has_more else None,
        }
        return JSONResponse(
            {"has_more": has_more, "total_data": len(items), "data": chunk, "links": links}
        )

    def _histories(self, request: Request, body: Any) -> Response:
        events = list(self.histories)
        window = request.query_params.get("date_status")
        if window:
            first, _, last = window.partition(",")
            last = last or first
            events = [e for e in events if first <= str(e["date_status"])[:10] <= last]
        tracking = request.query_params.get("tracking")
        if tracking:
            wanted = set(tracking.split(","))
            events = [e for e in events if e.get("tracking") in wanted]
        order_by = request.query_params.get("order_by")
        if order_by:
            if order_by != "date_status":
                return yalidine_error(400, f"order_by: unknown field {order_by}")
            descending = request.query_params.get("desc") is not None
            events.sort(key=lambda e: str(e["date_status"]), reverse=descending)
        return self._page(request, events)

    def _parcels(self, request: Request, body: Any) -> Response:
        if request.method == "POST":
            return self._create(body)
        parcels = list(self.parcels.values())
        tracking = request.query_params.get("tracking")
        if tracking:
            wanted = set(tracking.split(","))
            parcels = [p for p in parcels if p["tracking"] in wanted]
        return self._page(request, parcels)

    def _create(self, body: Any) -> Response:
        if not isinstance(body, list) or not body:
            return yalidine_error(400, "the body must be a non-empty JSON array of parcels")
        results: dict[str, Any] = {}
        for parcel in body:
            if not isinstance(parcel, dict):
                return yalidine_error(400, "every parcel must be a JSON object")
            order_id = str(parcel.get("order_id") or "")
            missing = [f for f in REQUIRED_PARCEL_FIELDS if parcel.get(f) in (None, "")]
            wrong = [
                f
                for f in ("freeshipping", "is_stopdesk", "has_exchange")
                if f in parcel and not isinstance(parcel[f], bool)
            ]
            if missing or wrong:
                message = "; ".join(
                    [f"{f} is required" for f in missing]
                    + [f"{f} must be a boolean" for f in wrong]
                )
                results[order_id] = {"success": False, "order_id": order_id, "message": message}
                continue
            if self.duplicates.see("order_id", order_id):
                results[order_id] = {
                    "success": False,
                    "order_id": order_id,
                    "message": "order_id already exists",
                }
                continue
            tracking = self.add_parcel(**{**parcel, "order_id": order_id})
            results[order_id] = {
                "success": True,
                "order_id": order_id,
                "tracking": tracking,
                "import_id": self._next,
                "label": f"https://yalidine.app/app/bordereau.php?tracking={tracking}",
                "message": "",
            }
        return JSONResponse(results)


def _names() -> list[tuple[str, str]]:
    return [(w, f"x-{w}-quota-left") for w in WINDOWS]
