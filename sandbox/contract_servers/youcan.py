"""A local YouCan Store Admin API: orders and their general status.

Documented routes (developer.youcan.shop): ``GET /orders/{id}`` and
``PUT /orders/{id}/status[/shipping|/payment]`` with ``{"status": "<slug>"}``,
answering ``{"status": 200, "detail": "Status is successfully updated",
"meta": []}`` or ``404 {"status": 404, "detail": "order not found", "meta": []}``.
A slug outside the statuses list is stored as-is (as YouCan documents).
YouCan does not document its 401 / 422 / 429 bodies; this server answers them
in the same ``{"status", "detail", "meta"}`` shape (an assumption, named).

The read side: ``GET /orders`` lists :attr:`feed` (seeded with
:meth:`~YouCanContractServer.seed_from_landing`, the sample store's
``orders/youcan/*.jsonl``), paginated and filtered as ``youcan_orders`` says.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.contract_servers import youcan_orders
from sandbox.contract_servers.common import (
    ContractServer,
    Fault,
    parse_body,
    retry_after_header,
)
from sandbox.contract_servers.order_feed import OrderFeed, SeedReport

KNOWN_STATUS = {"open": 1, "closed": 2, "processed": 3, "canceled-by-seller": 4}
CONTEXTS = {"status": "status_object", "shipping": "shipping_status", "payment": "payment_status"}


def yc_error(status: int, detail: str, meta: Any = None) -> JSONResponse:
    return JSONResponse(
        {"status": status, "detail": detail, "meta": meta or []}, status_code=status
    )


class YouCanContractServer(ContractServer):
    vendor = "youcan"

    def __init__(
        self,
        *,
        access_token: str,
        orders: Iterable[dict[str, Any]] = (),
        faults: Any = None,
        rate_limit_per_s: float | None = None,
        rate_limit_burst: float | None = None,
    ) -> None:
        super().__init__(
            faults=faults, rate_limit_per_s=rate_limit_per_s, rate_limit_burst=rate_limit_burst
        )
        self._token = access_token
        self.orders: dict[str, dict[str, Any]] = {}
        self.feed = OrderFeed(youcan_orders.youcan_key)
        self.seed_orders(orders)

    def seed_from_landing(self, landing_dir: Any) -> SeedReport:
        """Serve the order entities of ``<landing_dir>/orders/youcan/**/*.jsonl``."""
        return self.feed.seed_from_landing(landing_dir, "orders/youcan")

    def add_order_snapshots(self, orders: Iterable[dict[str, Any]]) -> SeedReport:
        """Add order entity snapshots (a later ``updated_at`` is an update)."""
        return self.feed.add(orders)

    def seed_orders(self, orders: Iterable[dict[str, Any]]) -> None:
        """Add orders: ``{"id": "<uuid>", "ref": "021", "status": "open"}`` (slug)."""
        with self.lock:
            for order in orders:
                slug = order.get("status", "open")
                now = datetime.now(UTC).isoformat(timespec="seconds")
                self.orders[str(order["id"])] = {
                    "ref": "000",
                    "total": 0,
                    "currency": "MAD",
                    "created_at": now,
                    "updated_at": now,
                    "payment_status": "pending",
                    "shipping_status": "unfulfilled",
                    **{k: v for k, v in order.items() if k != "status"},
                    "id": str(order["id"]),
                    **self._status_fields(slug),
                }

    @staticmethod
    def _status_fields(slug: str) -> dict[str, Any]:
        return {
            "status": KNOWN_STATUS.get(slug, 0),
            "status_new": slug.replace("-", " ").capitalize(),
            "status_object": {"slug": slug, "name": slug, "color": "#8A9CA0FF"},
        }

    def vendor_routes(self) -> list[Route]:
        return [
            self.route("/orders", self._list, ["GET"]),
            self.route("/orders/{id}", self._get, ["GET"]),
            self.route("/orders/{id}/status", self._status, ["PUT"]),
            self.route("/orders/{id}/status/{context}", self._status, ["PUT"]),
        ]

    def admin_routes(self) -> list[Route]:
        async def orders(request: Request) -> Response:
            if request.method == "POST":
                self.seed_orders(parse_body(await request.body()) or [])
            with self.lock:
                return JSONResponse(list(self.orders.values()))

        return [Route("/_admin/orders", orders, methods=["GET", "POST"])]

    def authenticate(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), self._token.encode()):
            return None
        return yc_error(401, "Unauthenticated.")

    def fault_response(self, fault: Fault) -> Response:
        return yc_error(fault.status, "Server Error")

    def throttled_response(self, retry_after_s: float) -> Response:
        response = yc_error(429, "Too Many Attempts.")
        response.headers.update(retry_after_header(retry_after_s))
        return response

    def _list(self, request: Request, body: Any) -> Response:
        return youcan_orders.list_orders(request, [r for _, _, r in self.feed.visible()])

    def _get(self, request: Request, body: Any) -> Response:
        order = self.orders.get(request.path_params["id"])
        return JSONResponse(order) if order else yc_error(404, "order not found")

    def _status(self, request: Request, body: Any) -> Response:
        order = self.orders.get(request.path_params["id"])
        if order is None:
            return yc_error(404, "order not found")
        context = request.path_params.get("context", "status")
        if context not in CONTEXTS:
            return yc_error(404, "Not Found")
        slug = body.get("status") if isinstance(body, dict) else None
        if not isinstance(slug, str) or not slug:
            return yc_error(
                422,
                "The status field is required.",
                {"fields": {"status": ["The status field is required."]}},
            )
        if context == "status":
            order.update(self._status_fields(slug))
        else:
            order[CONTEXTS[context]] = slug
        order["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        return JSONResponse({"status": 200, "detail": "Status is successfully updated", "meta": []})
