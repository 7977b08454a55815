"""A local LightFunnels GraphQL API (``POST /api/v2``): the ``orders`` connection.

From developer.lightfunnels.com: Bearer token; ``orders(query: String!, first,
after)`` → ``edges { node cursor } pageInfo { endCursor hasNextPage }``; the
``query`` string holds ``order_by:<field> order_dir:<asc|desc>`` and filters;
``TimeStamp`` fields take ``format`` (``"YYYY-MM-DD HH:mm:ss"``; without it a
relative "3 days ago", as documented); cursors are base64 of ``[sort value, _id]``
(the documented example decodes to ``[182514,182514]``). Validated by
graphql-core against the slice in :data:`SCHEMA`.

Assumed (LightFunnels does not document them; the puller assumes the same):
``order_by:updated_at`` and ``updated_at:>=<ISO>`` (``>``, ``<``, ``<=``) filters,
timestamps in UTC, HTTP 401 with a GraphQL error body for a bad token, 429 with
``Retry-After`` when rate limited.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, build_schema, graphql_sync
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.contract_servers.common import ContractServer, Fault, retry_after_header
from sandbox.contract_servers.order_feed import OrderFeed, SeedReport, parse_time
from sandbox.contract_servers.sample_shapes import LF_TIME, lightfunnels_order
from sandbox.contract_servers.shopify_orders import shopify_key

SCHEMA = build_schema(
    """
    enum OrderFinancialStatus { pending paid refunded partially_refunded }
    enum OrderFulfillmentStatus { unfulfilled fulfilled partial }
    type Customer {
      id: ID! _id: Int full_name: String first_name: String last_name: String
      email: String phone: String
    }
    type Address {
      first_name: String last_name: String line1: String line2: String city: String
      state: String country: String zip: String phone: String
    }
    type OrderItem { id: ID! _id: Int title: String sku: String price: Float }
    type Order {
      id: ID! _id: Int! name: String! total: Float subtotal: Float shipping: Float
      currency: String financial_status: OrderFinancialStatus
      fulfillment_status: OrderFulfillmentStatus email: String phone: String
      notes: String tags: [String] test: Boolean
      created_at(format: String, suffix: Boolean): String
      updated_at(format: String, suffix: Boolean): String
      cancelled_at(format: String, suffix: Boolean): String
      archived_at(format: String, suffix: Boolean): String
      customer: Customer shipping_address: Address items: [OrderItem]
    }
    type OrderEdge { node: Order! cursor: String! }
    type PageInfo {
      endCursor: String hasNextPage: Boolean! startCursor: String hasPreviousPage: Boolean!
    }
    type OrderConnection { edges: [OrderEdge!]! pageInfo: PageInfo! }
    type Query { orders(query: String!, first: Int, after: String): OrderConnection }
    """
)
MAX_FIRST = 100
_TERM = re.compile(r"(?P<key>[a-z_]+):(?P<op><=|>=|<|>)?(?P<value>\"[^\"]*\"|\S+)")
_TIME_FIELDS = ("created_at", "updated_at", "cancelled_at", "archived_at")
_SORTS = {"id": "_id", "created_at": "created_at", "updated_at": "updated_at", "total": "total"}


def lightfunnels_key(record: dict[str, Any]) -> tuple[str, datetime] | None:
    stamp = parse_time(record.get("updated_at"))
    if record.get("_id") is None or stamp is None:
        return None
    return str(record["_id"]), stamp


def _errors(status: int, message: str, code: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status)


class LightFunnelsContractServer(ContractServer):
    vendor = "lightfunnels"

    def __init__(
        self,
        *,
        access_token: str,
        orders: Iterable[dict[str, Any]] = (),
        faults: Any = None,
        rate_limit_per_s: float | None = None,
        rate_limit_burst: float | None = None,
        now: datetime | None = None,
    ) -> None:
        super().__init__(
            faults=faults, rate_limit_per_s=rate_limit_per_s, rate_limit_burst=rate_limit_burst
        )
        self._token = access_token
        self.feed = OrderFeed(lightfunnels_key)
        self.now = now  # what "3 days ago" is relative to (default: the wall clock)
        self.feed.add(orders)

    def seed_from_landing(self, landing_dir: Any) -> SeedReport:
        """Serve LightFunnels ``Order`` nodes from ``<landing_dir>/orders/lightfunnels/**/*.jsonl``."""
        return self.feed.seed_from_landing(landing_dir, "orders/lightfunnels")

    def seed_from_sample_store(self, landing_dir: Any) -> SeedReport:
        """Serve the sample store's Shopify orders re-expressed as LightFunnels orders."""
        staging = OrderFeed(shopify_key)
        read = staging.seed_from_landing(landing_dir, "orders/shopify")
        records = [lightfunnels_order(record) for record in staging.all_snapshots()]
        added = self.feed.add(records)
        return SeedReport(read.files, read.lines, added.snapshots, read.duplicates, read.unusable)

    def add_order_snapshots(self, orders: Iterable[dict[str, Any]]) -> SeedReport:
        return self.feed.add(orders)

    # -- contract ------------------------------------------------------------------------

    def vendor_routes(self) -> list[Route]:
        return [self.route("/api/v2", self._graphql, ["POST"])]

    def authenticate(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), self._token.encode()):
            return None
        return _errors(401, "Unauthorized: invalid or expired access token", "UNAUTHENTICATED")

    def fault_response(self, fault: Fault) -> Response:
        return _errors(fault.status, "Service Unavailable", "INTERNAL_SERVER_ERROR")

    def throttled_response(self, retry_after_s: float) -> Response:
        response = _errors(429, "Too many requests", "TOO_MANY_REQUESTS")
        response.headers.update(retry_after_header(retry_after_s))
        return response

    def _graphql(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return _errors(400, "Must provide query string.", "BAD_REQUEST")
        result = graphql_sync(
            SCHEMA,
            body["query"],
            root_value=self,
            variable_values=body.get("variables"),
            operation_name=body.get("operationName"),
        )
        payload: dict[str, Any] = {}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        if result.data is not None:
            payload["data"] = result.data
        return JSONResponse(payload)

    # -- resolvers -----------------------------------------------------------------------

    def orders(
        self, info: Any, query: str, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        size = 25 if first is None else first
        if not 0 < size <= MAX_FIRST:
            raise GraphQLError(f"first must be between 1 and {MAX_FIRST}")
        terms = {m["key"]: m for m in _TERM.finditer(query or "")}
        field = _SORTS.get(terms["order_by"]["value"] if "order_by" in terms else "id", "_id")
        descending = (terms["order_dir"]["value"] if "order_dir" in terms else "desc") == "desc"
        rows = [r for _, _, r in self.feed.visible() if _matches(r, terms.values())]

        def sort_value(record: dict[str, Any]) -> Any:
            value = record.get(field)
            return parse_time(value).strftime(LF_TIME) if field in _TIME_FIELDS else value

        rows.sort(key=lambda r: (sort_value(r), r["_id"]), reverse=descending)
        if after:
            mark = _decode(after)
            rows = [
                r
                for r in rows
                if (
                    [sort_value(r), r["_id"]] < mark
                    if descending
                    else [sort_value(r), r["_id"]] > mark
                )
            ]
        page = rows[:size]
        cursors = [_encode([sort_value(r), r["_id"]]) for r in page]
        return {
            "edges": [
                {"node": self._node(r), "cursor": c} for r, c in zip(page, cursors, strict=True)
            ],
            "pageInfo": {
                "endCursor": cursors[-1] if cursors else None,
                "hasNextPage": len(rows) > size,
                "startCursor": cursors[0] if cursors else None,
                "hasPreviousPage": bool(after),
            },
        }

    def _node(self, record: dict[str, Any]) -> dict[str, Any]:
        node = dict(record)
        for name in _TIME_FIELDS:
            node[name] = self._time_resolver(record.get(name))
        return node

    def _time_resolver(self, value: Any) -> Any:
        def resolve(info: Any, format: str | None = None, suffix: bool | None = None) -> str | None:
            return self._time(value, format)

        return resolve

    def _time(self, value: Any, format: str | None) -> str | None:
        moment = parse_time(value)
        if moment is None:
            return None
        if format == "YYYY-MM-DD HH:mm:ss":
            return moment.strftime(LF_TIME)
        days = ((self.now or datetime.now(UTC)) - moment).days
        return "today" if days <= 0 else f"{days} day{'s' if days > 1 else ''} ago"


def _matches(record: dict[str, Any], terms: Iterable[re.Match[str]]) -> bool:
    for term in terms:
        key, op, value = term["key"], term["op"], term["value"].strip('"')
        if key in ("order_by", "order_dir"):
            continue
        if key in _TIME_FIELDS:
            actual, bound = parse_time(record.get(key)), parse_time(value)
            if actual is None or bound is None:
                return False
            compare = {">": actual > bound, ">=": actual >= bound, "<": actual < bound}
            compare["<="] = actual <= bound
            if not (compare[op] if op else actual == bound):
                return False
        elif key in ("financial_status", "fulfillment_status") and str(record.get(key)) != value:
            return False
    return True


def _encode(value: list[Any]) -> str:
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def _decode(cursor: str) -> list[Any]:
    try:
        value = json.loads(base64.b64decode(cursor.encode()))
    except (binascii.Error, ValueError):
        raise GraphQLError("Invalid cursor") from None
    if not isinstance(value, list) or len(value) != 2:
        raise GraphQLError("Invalid cursor")
    return value
