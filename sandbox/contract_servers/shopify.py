"""A local Shopify Admin GraphQL API: ``POST /admin/api/{version}/graphql.json``.

Queries are parsed, validated and executed by graphql-core against a subset of
the real Admin schema (``order`` with ``tags`` and ``fulfillmentOrders``,
``fulfillmentOrderHold``, ``fulfillmentOrderReleaseHold``, ``tagsAdd``,
``tagsRemove``), so a misspelt field fails here as it would at Shopify. State:
orders, their fulfillment orders, holds (with handles) and tags, seeded from
the constructor or ``POST /_admin/orders``. Rate limiting is Shopify's
calculated query cost: a leaky bucket (``maximum_available``,
``restore_rate``) and a ``THROTTLED`` error carrying ``extensions.cost``.
Write-side query costs are simplified (10 per mutation field, 1 + ``first``
for a query).

The read side (``shopify_orders``): ``orders(first, after, sortKey, reverse,
query)`` over :attr:`ShopifyContractServer.feed`, seeded with
:meth:`~ShopifyContractServer.seed_from_landing` (the sample store's
``orders/shopify/*.jsonl``) or :meth:`~ShopifyContractServer.add_order_snapshots`;
its cost is Shopify's connection arithmetic, capped at 1000
(``MAX_COST_EXCEEDED``), with the unused part refunded.
"""

from __future__ import annotations

import hmac
import itertools
import uuid
from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError, graphql_sync, parse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.contract_servers import shopify_orders
from sandbox.contract_servers.common import ContractServer, Fault, RateGate, parse_body
from sandbox.contract_servers.order_feed import OrderFeed, SeedReport
from sandbox.contract_servers.shopify_schema import (
    AUTH_ERROR,
    MAX_HOLDS_PER_APP,
    SCHEMA,
    gid,
    parse_gid,
    requested_cost,
)


class ShopifyContractServer(ContractServer):
    vendor = "shopify"

    def __init__(
        self,
        *,
        access_token: str,
        orders: Iterable[dict[str, Any]] = (),
        maximum_available: float = 1000.0,
        restore_rate: float = 100.0,
        faults: Any = None,
    ) -> None:
        super().__init__(faults=faults)
        self._token = access_token
        self.cost_bucket = RateGate(restore_rate, maximum_available)
        self.orders: dict[int, dict[str, Any]] = {}
        self.fulfillment_orders: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(900_000_000_001)
        self.feed = OrderFeed(shopify_orders.shopify_key)
        self.seed_orders(orders)

    # -- read side -----------------------------------------------------------------------

    def seed_from_landing(self, landing_dir: Any) -> SeedReport:
        """Serve the ``Order`` nodes of ``<landing_dir>/orders/shopify/**/*.jsonl``."""
        return self.feed.seed_from_landing(landing_dir, "orders/shopify")

    def add_order_snapshots(self, nodes: Iterable[dict[str, Any]]) -> SeedReport:
        """Add ``Order`` node snapshots (a later ``updatedAt`` is an update)."""
        return self.feed.add(nodes)

    # -- state ---------------------------------------------------------------------------

    def seed_orders(self, orders: Iterable[dict[str, Any]]) -> None:
        """Add orders: ``{"id": 5123456789, "name": "#1001", "tags": [...],
        "fulfillment_orders": [{"id": 6123, "status": "OPEN"}]}`` (one OPEN fulfillment
        order by default)."""
        with self.lock:
            for order in orders:
                number = int(order["id"])
                fos = order.get("fulfillment_orders") or [{"status": "OPEN"}]
                ids = []
                for fo in fos:
                    fo_id = int(fo.get("id") or next(self._ids))
                    self.fulfillment_orders[fo_id] = {
                        "id": fo_id,
                        "order_id": number,
                        "status": fo.get("status", "OPEN"),
                        "holds": [dict(h) for h in fo.get("holds", [])],
                    }
                    ids.append(fo_id)
                self.orders[number] = {
                    "id": number,
                    "name": order.get("name", f"#{number}"),
                    "tags": list(order.get("tags", [])),
                    "fulfillment_order_ids": ids,
                }

    def order_state(self, number: int) -> dict[str, Any]:
        """An order with its fulfillment orders and holds, for assertions."""
        with self.lock:
            order = dict(self.orders[number])
            order["fulfillment_orders"] = [
                dict(self.fulfillment_orders[i]) for i in order["fulfillment_order_ids"]
            ]
            return order

    # -- contract ------------------------------------------------------------------------

    def vendor_routes(self) -> list[Route]:
        return [self.route("/admin/api/{version}/graphql.json", self._graphql, ["POST"])]

    def admin_routes(self) -> list[Route]:
        async def orders(request: Request) -> Response:
            if request.method == "POST":
                self.seed_orders(parse_body(await request.body()) or [])
            with self.lock:
                return JSONResponse([self.order_state(n) for n in self.orders])

        return [Route("/_admin/orders", orders, methods=["GET", "POST"])]

    def authenticate(self, request: Request) -> Response | None:
        token = request.headers.get("x-shopify-access-token", "")
        if hmac.compare_digest(token.encode(), self._token.encode()):
            return None
        return JSONResponse({"errors": AUTH_ERROR}, status_code=401)

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "error":
            request_id = str(uuid.uuid4())
            message = f"Internal error. Looks like something went wrong on our end.\nRequest ID: {request_id}"
            code = str(fault.code or "INTERNAL_SERVER_ERROR")
            return JSONResponse(
                {
                    "errors": [
                        {"message": message, "extensions": {"code": code, "requestId": request_id}}
                    ]
                }
            )
        return JSONResponse({"errors": "Service Unavailable"}, status_code=fault.status)

    def throttled_response(self, retry_after_s: float) -> Response:
        # An injected throttle empties the bucket, as a burst from another app would.
        self.cost_bucket.drain()
        return self._throttled(10)

    def _cost(self, requested: float, actual: float | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": self.cost_bucket.capacity,
                    "currentlyAvailable": round(self.cost_bucket.refill(), 3),
                    "restoreRate": self.cost_bucket.rate,
                },
            }
        }

    def _throttled(self, requested: float) -> Response:
        error = {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits",
            },
        }
        return JSONResponse({"errors": [error], "extensions": self._cost(requested, None)})

    def _graphql(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return JSONResponse(
                {"errors": [{"message": "No query string was present"}]}, status_code=400
            )
        variables = body.get("variables")
        try:
            document = parse(body["query"])
            reads_orders = shopify_orders.reads_orders(document)
            cost = (
                shopify_orders.query_cost(document, variables)
                if reads_orders
                else requested_cost(document)
            )
        except (GraphQLError, StopIteration) as exc:
            return JSONResponse(
                {"errors": [{"message": str(exc), "extensions": {"code": "PARSE_ERROR"}}]}
            )
        if reads_orders and cost > shopify_orders.MAX_QUERY_COST:
            return JSONResponse(shopify_orders.max_cost_exceeded(cost))
        ok, _ = self.cost_bucket.try_take(cost)
        if not ok:
            return self._throttled(cost)
        result = graphql_sync(
            SCHEMA,
            body["query"],
            root_value=_Root(self),
            variable_values=variables,
            operation_name=body.get("operationName"),
        )
        payload: dict[str, Any] = {}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        if result.data is not None:
            payload["data"] = result.data
        actual = cost
        if reads_orders:
            returned = len(((result.data or {}).get("orders") or {}).get("nodes") or [])
            actual = shopify_orders.actual_cost(cost, document, variables, returned)
            self.cost_bucket.refund(cost - actual)
        payload["extensions"] = self._cost(cost, actual)
        return JSONResponse(payload)

    # -- views ---------------------------------------------------------------------------

    def fo_view(self, fo: dict[str, Any]) -> dict[str, Any]:
        return {
            "__typename": "FulfillmentOrder",
            "id": gid("FulfillmentOrder", fo["id"]),
            "status": fo["status"],
            "fulfillmentHolds": [self.hold_view(h) for h in fo["holds"]],
        }

    @staticmethod
    def hold_view(hold: dict[str, Any]) -> dict[str, Any]:
        return {
            **hold,
            "id": gid("FulfillmentHold", hold["id"]),
            "heldByRequestingApp": hold.get("app", True),
        }

    def order_view(self, order: dict[str, Any]) -> dict[str, Any]:
        fos = [self.fulfillment_orders[i] for i in order["fulfillment_order_ids"]]
        return {
            "__typename": "Order",
            "id": gid("Order", order["id"]),
            "name": order["name"],
            "tags": sorted(order["tags"]),
            "fulfillmentOrders": lambda info, first=None, **_: {
                "nodes": [self.fo_view(f) for f in fos][:first]
            },
        }


class _Root:
    """Resolvers: graphql-core calls ``root.<field>(info, **arguments)``."""

    def __init__(self, server: ShopifyContractServer) -> None:
        self.s = server

    def orders(
        self,
        info: Any,
        first: int | None = None,
        after: str | None = None,
        sortKey: str | None = None,
        reverse: bool = False,
        query: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        return shopify_orders.orders_connection(
            self.s.feed.visible(),
            first=first,
            after=after,
            sort_key=sortKey,
            reverse=bool(reverse),
            query=query,
        )

    def order(self, info: Any, id: str) -> dict[str, Any] | None:
        number = parse_gid(id, "Order")
        order = self.s.orders.get(number) if number is not None else None
        return self.s.order_view(order) if order else None

    def _fo(self, id: str) -> dict[str, Any] | None:
        number = parse_gid(id, "FulfillmentOrder")
        return self.s.fulfillment_orders.get(number) if number is not None else None

    def fulfillmentOrderHold(
        self, info: Any, id: str, fulfillmentHold: dict[str, Any]
    ) -> dict[str, Any]:
        fo = self._fo(id)

        def error(field: list[str], message: str, code: str | None) -> dict[str, Any]:
            return {
                "fulfillmentHold": None,
                "fulfillmentOrder": self.s.fo_view(fo) if fo else None,
                "remainingFulfillmentOrder": None,
                "userErrors": [{"field": field, "message": message, "code": code}],
            }

        if fo is None:
            return error(["id"], "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")
        if fo["status"] not in ("OPEN", "ON_HOLD"):
            return error(
                ["id"],
                f"The fulfillment order's status must be open or on hold, not {fo['status'].lower()}.",
                None,
            )
        handle = fulfillmentHold.get("handle") or ""
        ours = [h for h in fo["holds"] if h.get("app", True)]
        if any((h.get("handle") or "") == handle for h in ours):
            return error(
                ["fulfillmentHold", "handle"],
                "The handle provided for the fulfillment hold is already in use by this app for another hold on this fulfillment order.",
                "DUPLICATE_FULFILLMENT_HOLD_HANDLE",
            )
        if len(ours) >= MAX_HOLDS_PER_APP:
            return error(
                ["id"],
                "The maximum number of fulfillment holds has been reached.",
                "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED",
            )
        hold = {
            "id": next(self.s._ids),
            "handle": handle,
            "reason": fulfillmentHold["reason"],
            "reasonNotes": fulfillmentHold.get("reasonNotes"),
            "app": True,
        }
        fo["holds"].append(hold)
        fo["status"] = "ON_HOLD"
        return {
            "fulfillmentHold": self.s.hold_view(hold),
            "fulfillmentOrder": self.s.fo_view(fo),
            "remainingFulfillmentOrder": None,
            "userErrors": [],
        }

    def fulfillmentOrderReleaseHold(
        self, info: Any, id: str, holdIds: list[str] | None = None, externalId: str | None = None
    ) -> dict[str, Any]:
        fo = self._fo(id)
        if fo is None:
            return {
                "fulfillmentOrder": None,
                "userErrors": [
                    {
                        "field": ["id"],
                        "message": "The fulfillment order wasn't found.",
                        "code": "FULFILLMENT_ORDER_NOT_FOUND",
                    }
                ],
            }
        if not fo["holds"]:
            return {
                "fulfillmentOrder": self.s.fo_view(fo),
                "userErrors": [
                    {
                        "field": ["id"],
                        "message": "The fulfillment order is not on hold.",
                        "code": None,
                    }
                ],
            }
        wanted = {parse_gid(h, "FulfillmentHold") for h in holdIds} if holdIds is not None else None
        fo["holds"] = [
            h
            for h in fo["holds"]
            if not (h.get("app", True) and (wanted is None or h["id"] in wanted))
        ]
        if not fo["holds"]:
            fo["status"] = "OPEN"
        return {"fulfillmentOrder": self.s.fo_view(fo), "userErrors": []}

    def _tags(self, id: str, tags: list[str], add: bool) -> dict[str, Any]:
        number = parse_gid(id, "Order")
        order = self.s.orders.get(number) if number is not None else None
        if order is None:
            return {
                "node": None,
                "userErrors": [{"field": ["id"], "message": "Order does not exist"}],
            }
        cleaned = {t.strip() for t in tags if t.strip()}
        if add:
            order["tags"] = sorted(set(order["tags"]) | cleaned)
        else:
            order["tags"] = sorted(set(order["tags"]) - cleaned)
        return {"node": {"__typename": "Order", **self.s.order_view(order)}, "userErrors": []}

    def tagsAdd(self, info: Any, id: str, tags: list[str]) -> dict[str, Any]:
        return self._tags(id, tags, add=True)

    def tagsRemove(self, info: Any, id: str, tags: list[str]) -> dict[str, Any]:
        return self._tags(id, tags, add=False)
