"""A local WooCommerce REST API v3 (``/wp-json/wc/v3``), orders and order notes only.

Routes: ``GET /orders`` (``include``, ``per_page``), ``GET|PUT|POST /orders/{id}``,
``GET|POST /orders/{id}/notes``, ``POST /orders/batch``. Basic auth with the
consumer key / secret. Errors use WooCommerce's ``{"code", "message",
"data": {"status"}}``: ``woocommerce_rest_shop_order_invalid_id`` (404),
``rest_invalid_param`` (400), ``rest_missing_callback_param`` (400),
``woocommerce_rest_cannot_view|edit|create`` (401, no credentials),
``woocommerce_rest_authentication_error`` (401, wrong credentials),
``woocommerce_rest_request_entity_too_large`` (413, a batch over 100 items).
WooCommerce has no rate limit of its own (hosts add one); this server answers
429 with ``Retry-After`` when ``rate_limit_per_s`` is set.

The read side: ``GET /orders`` without ``include`` lists :attr:`feed` (seeded
with :meth:`~WooCommerceContractServer.seed_from_landing`, the sample store's
``orders/woocommerce/*.jsonl``) with ``modified_after``, ``orderby``, ``page``
and the ``X-WP-Total`` / ``X-WP-TotalPages`` / ``Link`` headers
(``woocommerce_orders``). With ``include`` it lists the write-side orders, as
before.
"""

from __future__ import annotations

import base64
import hmac
import itertools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.contract_servers import woocommerce_orders
from sandbox.contract_servers.common import (
    ContractServer,
    Fault,
    parse_body,
    retry_after_header,
)
from sandbox.contract_servers.order_feed import OrderFeed, SeedReport

ROOT = "/wp-json/wc/v3"
STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)
BATCH_LIMIT = 100


def wc_error_body(code: str, message: str, status: int, **data: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status, **data}}


def wc_error(code: str, message: str, status: int, **data: Any) -> JSONResponse:
    return JSONResponse(wc_error_body(code, message, status, **data), status_code=status)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class WooCommerceContractServer(ContractServer):
    vendor = "woocommerce"

    def __init__(
        self,
        *,
        consumer_key: str,
        consumer_secret: str,
        orders: Iterable[dict[str, Any]] = (),
        faults: Any = None,
        rate_limit_per_s: float | None = None,
        rate_limit_burst: float | None = None,
        site_timezone: str = "Africa/Casablanca",
    ) -> None:
        super().__init__(
            faults=faults, rate_limit_per_s=rate_limit_per_s, rate_limit_burst=rate_limit_burst
        )
        self.feed = OrderFeed(woocommerce_orders.woocommerce_key)
        self.site_timezone = site_timezone
        self._credentials = f"{consumer_key}:{consumer_secret}".encode()
        self._consumer_key = consumer_key.encode()
        self.orders: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self._note_ids = itertools.count(1)
        self.seed_orders(orders)

    def seed_orders(self, orders: Iterable[dict[str, Any]]) -> None:
        """Add orders (any REST v3 fields; ``id`` required, ``status`` defaults to ``processing``)."""
        with self.lock:
            for order in orders:
                number = int(order["id"])
                self.orders[number] = {
                    "number": str(number),
                    "status": "processing",
                    "currency": "MAD",
                    "date_created_gmt": _now(),
                    "date_modified_gmt": _now(),
                    "total": "0.00",
                    "payment_method": "cod",
                    "payment_method_title": "Paiement à la livraison",
                    **order,
                    "id": number,
                }
                self.notes.setdefault(number, [])

    def seed_from_landing(self, landing_dir: Any) -> SeedReport:
        """Serve the orders of ``<landing_dir>/orders/woocommerce/**/*.jsonl``."""
        return self.feed.seed_from_landing(landing_dir, "orders/woocommerce")

    def add_order_snapshots(self, orders: Iterable[dict[str, Any]]) -> SeedReport:
        """Add REST v3 order snapshots (a later ``date_modified_gmt`` is an update)."""
        return self.feed.add(orders)

    # -- contract ------------------------------------------------------------------------

    def vendor_routes(self) -> list[Route]:
        return [
            self.route(f"{ROOT}/orders", self._list, ["GET"]),
            self.route(f"{ROOT}/orders/batch", self._batch, ["POST", "PUT", "PATCH"]),
            self.route(f"{ROOT}/orders/{{id:int}}", self._order, ["GET", "PUT", "POST", "PATCH"]),
            self.route(f"{ROOT}/orders/{{id:int}}/notes", self._notes, ["GET", "POST"]),
        ]

    def admin_routes(self) -> list[Route]:
        async def orders(request: Request) -> Response:
            if request.method == "POST":
                self.seed_orders(parse_body(await request.body()) or [])
            with self.lock:
                return JSONResponse(
                    [{**o, "notes": self.notes.get(n, [])} for n, o in self.orders.items()]
                )

        return [Route("/_admin/orders", orders, methods=["GET", "POST"])]

    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            action = {"GET": "view", "POST": "create"}.get(request.method, "edit")
            message = {
                "view": "Sorry, you cannot list resources.",
                "create": "Sorry, you are not allowed to create resources.",
            }
            return wc_error(
                f"woocommerce_rest_cannot_{action}",
                message.get(action, "Sorry, you are not allowed to edit this resource."),
                401,
            )
        try:
            given = base64.b64decode(header.split(" ", 1)[1])
        except ValueError:
            given = b""
        if hmac.compare_digest(given, self._credentials):
            return None
        key_ok = hmac.compare_digest(given.split(b":", 1)[0], self._consumer_key)
        message = "Consumer secret is invalid." if key_ok else "Consumer key is invalid."
        return wc_error("woocommerce_rest_authentication_error", message, 401)

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "error":
            return wc_error(
                str(fault.code or "internal_server_error"), "Injected error.", fault.status
            )
        return wc_error(
            "internal_server_error",
            "<p>There has been a critical error on this website.</p>",
            fault.status,
        )

    def throttled_response(self, retry_after_s: float) -> Response:
        response = wc_error("woocommerce_rest_too_many_requests", "Too many requests.", 429)
        response.headers.update(retry_after_header(retry_after_s))
        return response

    # -- handlers ------------------------------------------------------------------------

    def _list(self, request: Request, body: Any) -> Response:
        include = request.query_params.get("include")
        reading = any(p in request.query_params for p in woocommerce_orders.READ_PARAMS)
        if include is None and (len(self.feed) or reading):
            rows = [record for _, _, record in self.feed.visible()]
            return woocommerce_orders.list_orders(request, rows, self.site_timezone)
        per_page = int(request.query_params.get("per_page", 10))
        if not 1 <= per_page <= 100:
            return wc_error(
                "rest_invalid_param",
                "Invalid parameter(s): per_page",
                400,
                params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
            )
        wanted = [int(i) for i in include.split(",") if i.strip()] if include else list(self.orders)
        return JSONResponse([self.orders[i] for i in wanted if i in self.orders][:per_page])

    def _order(self, request: Request, body: Any) -> Response:
        number = request.path_params["id"]
        order = self.orders.get(number)
        if order is None:
            return wc_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        if request.method == "GET":
            return JSONResponse(order)
        error = self._update(order, body if isinstance(body, dict) else {})
        return JSONResponse(error, status_code=400) if error else JSONResponse(order)

    def _update(self, order: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any] | None:
        """Apply ``changes``; the WooCommerce error body when they are invalid."""
        status = changes.get("status")
        if status is not None and status not in STATUSES:
            return wc_error_body(
                "rest_invalid_param",
                "Invalid parameter(s): status",
                400,
                params={"status": f"status is not one of {', '.join(STATUSES)}."},
            )
        for key in ("status", "customer_note"):
            if key in changes:
                order[key] = changes[key]
        order["date_modified_gmt"] = _now()
        return None

    def _notes(self, request: Request, body: Any) -> Response:
        number = request.path_params["id"]
        if number not in self.orders:
            return wc_error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        if request.method == "GET":
            return JSONResponse(list(reversed(self.notes[number])))
        text = body.get("note") if isinstance(body, dict) else None
        if not text:
            return wc_error(
                "rest_missing_callback_param", "Missing parameter(s): note", 400, params=["note"]
            )
        self.duplicates.see("note", number, text)
        now = _now()
        note = {
            "id": next(self._note_ids),
            "author": "cod360",
            "date_created": now,
            "date_created_gmt": now,
            "note": text,
            "customer_note": bool(body.get("customer_note", False)),
        }
        self.notes[number].append(note)
        return JSONResponse(note, status_code=201)

    def _batch(self, request: Request, body: Any) -> Response:
        body = body if isinstance(body, dict) else {}
        total = sum(len(body.get(k) or []) for k in ("create", "update", "delete"))
        if total > BATCH_LIMIT:
            return wc_error(
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {BATCH_LIMIT} items for this request.",
                413,
            )
        updated = []
        for item in body.get("update") or []:
            order = self.orders.get(int(item.get("id", 0)))
            if order is None:
                updated.append(
                    {
                        "id": item.get("id"),
                        "error": {
                            "code": "woocommerce_rest_shop_order_invalid_id",
                            "message": "Invalid ID.",
                            "data": {"status": 400},
                        },
                    }
                )
                continue
            error = self._update(order, item)
            updated.append({"id": order["id"], "error": error} if error else dict(order))
        return JSONResponse({"update": updated})
