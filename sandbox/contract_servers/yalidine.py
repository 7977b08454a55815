"""A local Yalidine / Guepex REST API v1: ``parcels/`` (GET, POST) and ``histories/``.

Strict where the contract is known: ``X-API-ID`` + ``X-API-TOKEN`` on every call
(401 otherwise); list answers ``{"has_more", "total_data", "data", "links"}``
paged by ``page`` / ``page_size``; ``POST parcels/`` takes a JSON array, checks
each parcel's documented required fields, ranges and conditions (``stopdesk_id``
with ``is_stopdesk``, ``product_to_collect`` with ``has_exchange``, no order id twice),
creates none when one is wrong, and answers one result per ``order_id``; the quota headers ``x-second-quota-left``,
``x-minute-quota-left``, ``x-hour-quota-left``, ``x-day-quota-left`` on every
answer, 429 when a window is used up. The error body ``{"error": {"code",
"message"}}`` and the history filters (``date_status=<from>,<to>``,
``order_by``, ``asc``) are assumptions shared with the client (see
``connectors/carriers/yalidine.py``).

Webhooks: :meth:`YalidineContractServer.subscribe_webhook` attaches a
:class:`~sandbox.contract_servers.yalidine_webhooks.YalidineWebhookSender` (checked with
the ``crc_token`` handshake first); every parcel created (``parcel_created``, with the
parcel's fields), status added (``parcel_status_updated``: ``tracking``, ``status``,
``reason``; ``occurred_at`` is the status's ``date_status``) and payment status set
(``parcel_payment_updated``) is then signed and POSTed to it, with Yalidine's retries
and occasional duplicates. ``POST /_admin/webhook`` does the same for a server run
from the command line.
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

from sandbox.contract_servers.common import ContractServer, Fault, parse_body
from sandbox.contract_servers.yalidine_webhooks import YalidineWebhookSender

WINDOWS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
DEFAULT_QUOTAS = {"second": 5, "minute": 50, "hour": 1000, "day": 10000}
# The "required" column of POST /v1/parcels in Yalidine's developer documentation.
REQUIRED_PARCEL_FIELDS = (
    "order_id",
    "from_wilaya_name",
    "firstname",
    "familyname",
    "contact_phone",
    "address",
    "to_commune_name",
    "to_wilaya_name",
    "product_list",
    "price",
    "do_insurance",
    "declared_value",
    "length",
    "width",
    "height",
    "weight",
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
        self.webhook: YalidineWebhookSender | None = None

    # -- webhooks -----------------------------------------------------------------------

    def subscribe_webhook(self, sender: YalidineWebhookSender) -> YalidineWebhookSender:
        """Validate ``sender``'s URL (crc_token), start it, and send it every event from now
        on; raises if the URL fails the check (Yalidine then creates no webhook)."""
        if not sender.validate():
            sender.stop()
            raise RuntimeError(f"the webhook URL {sender.url} failed the crc_token check")
        self.webhook = sender.start()
        return sender

    def unsubscribe_webhook(self, *, drain_s: float = 30.0) -> None:
        """Deliver what is queued (up to ``drain_s``), then stop the sender."""
        sender, self.webhook = self.webhook, None
        if sender is not None:
            sender.wait_idle(drain_s)
            sender.stop()

    def _notify(self, kind: str, events: list[dict[str, Any]]) -> None:
        if self.webhook is not None and events:
            self.webhook.send(kind, events)

    # -- seeding ------------------------------------------------------------------------

    def add_parcel(self, order_id: str, tracking: str | None = None, **fields: Any) -> str:
        with self.lock:
            tracking = tracking or f"yal-{self._next:06d}"
            self._next += 1
            self.parcels[tracking] = {"tracking": tracking, "order_id": order_id, **fields}
            if self.webhook is not None:
                self._notify("parcel_created", [self.webhook.event(dict(self.parcels[tracking]))])
            return tracking

    def set_payment_status(self, tracking: str, status: str, payment_id: str | None = None) -> None:
        """A parcel's ``payment_status`` (``not-ready``, ``ready``, ``receivable``, ``payed``)."""
        with self.lock:
            self.parcels[tracking]["payment_status"] = status
            if self.webhook is not None:
                data = {"tracking": tracking, "status": status, "payment_id": payment_id}
                self._notify("parcel_payment_updated", [self.webhook.event(data)])

    def add_history(self, events: Iterable[dict[str, Any]]) -> None:
        """Status changes ``{tracking, status, date_status, reason, center_name, wilaya_name}``."""
        with self.lock:
            added = [dict(e) for e in events]
            self.histories.extend(added)
            if self.webhook is not None:
                self._notify(
                    "parcel_status_updated",
                    [
                        self.webhook.event(
                            {
                                "tracking": e.get("tracking"),
                                "status": e.get("status"),
                                "reason": e.get("reason") or None,
                            },
                            occurred_at=e.get("date_status"),
                        )
                        for e in added
                    ],
                )

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

    def admin_routes(self) -> list[Route]:
        async def webhook(request: Request) -> Response:
            """``{"url", "secret", "events"?, "duplicate_probability"?, "retry_delays_s"?}``."""
            config = parse_body(await request.body())
            if not isinstance(config, dict) or not config.get("url") or not config.get("secret"):
                return yalidine_error(400, "url and secret are required")
            options = {
                k: config[k]
                for k in ("events", "duplicate_probability", "retry_delays_s")
                if k in config
            }
            self.unsubscribe_webhook(drain_s=0)
            try:
                self.subscribe_webhook(
                    YalidineWebhookSender(config["url"], config["secret"], **options)
                )
            except (RuntimeError, ValueError) as exc:
                return yalidine_error(400, str(exc))
            return JSONResponse({"active": True, "url": config["url"]})

        return [Route("/_admin/webhook", webhook, methods=["POST"])]

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
        """Every parcel is checked first; one wrong parcel fails the whole request and none
        is created ("When an error occurs, the query will fail and no parcels will be
        created", Yalidine's docs); the answer still says which parcel and why."""
        if not isinstance(body, list) or not body:
            return yalidine_error(400, "the body must be a non-empty JSON array of parcels")
        if not all(isinstance(p, dict) for p in body):
            return yalidine_error(400, "every parcel must be a JSON object")
        ids = [str(p.get("order_id") or "") for p in body]
        problems: dict[str, str] = {}
        for order_id, parcel in zip(ids, body, strict=True):
            message = "; ".join(_parcel_problems(parcel))
            if ids.count(order_id) > 1:  # "you cannot use duplicated order id in the same request"
                message = "; ".join(
                    filter(None, [message, "order_id is duplicated in the request"])
                )
            if message:
                problems[order_id] = message
        if problems:
            return JSONResponse(
                {
                    order_id: {
                        "success": False,
                        "order_id": order_id,
                        "message": problems.get(order_id, "not created: another parcel is invalid"),
                    }
                    for order_id in ids
                }
            )
        results: dict[str, Any] = {}
        import_id = self._next
        for order_id, parcel in zip(ids, body, strict=True):
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
                "import_id": import_id,
                "label": f"https://yalidine.app/app/bordereau.php?tracking={tracking}",
                "labels": f"https://yalidine.app/app/bordereau.php?import_id={import_id}",
            }
        return JSONResponse(results)


def _parcel_problems(parcel: dict[str, Any]) -> list[str]:
    """The documented rules of one parcel of ``POST /v1/parcels``."""
    problems = [f"{f} is required" for f in REQUIRED_PARCEL_FIELDS if parcel.get(f) in (None, "")]
    for name in ("do_insurance", "freeshipping", "is_stopdesk", "has_exchange"):
        if name in parcel and not isinstance(parcel[name], bool | int):
            problems.append(f"{name} must be a boolean")
    for name, low, high in (("price", 0, 150000), ("declared_value", 0, 150000)):
        value = parcel.get(name)
        if value not in (None, "") and not (isinstance(value, int) and low <= value <= high):
            problems.append(f"{name} must be an integer between {low} and {high}")
    for name in ("length", "width", "height", "weight"):
        value = parcel.get(name)
        if value not in (None, "") and not (isinstance(value, int | float) and value >= 0):
            problems.append(f"{name} must be greater than or equal to 0")
    if parcel.get("is_stopdesk") and not parcel.get("stopdesk_id"):
        problems.append("stopdesk_id is required when is_stopdesk is true")
    if parcel.get("has_exchange") and not parcel.get("product_to_collect"):
        problems.append("product_to_collect is required when has_exchange is true")
    return problems


def _names() -> list[tuple[str, str]]:
    return [(w, f"x-{w}-quota-left") for w in WINDOWS]
