"""LightFunnels orders through its GraphQL API (``POST https://services.lightfunnels.com/api/v2``).

Documented (developer.lightfunnels.com, "Orders", "Pagination", "Order types"):
Bearer access token; ``orders(query: String!, first: Int, after: String)`` →
``edges { node cursor } pageInfo { endCursor hasNextPage }`` (cursor
pagination); the ``query`` string takes ``order_by:<field> order_dir:<asc|desc>``
and filters; ``Order`` has ``id``, ``_id``, ``name``, ``total``, ``subtotal``,
``shipping``, ``currency``, ``financial_status``, ``fulfillment_status``,
``email``, ``phone``, ``notes``, ``tags``, ``cancelled_at``, ``customer``,
``shipping_address``, ``items``, and ``TimeStamp`` fields that take
``format: "YYYY-MM-DD HH:mm:ss"`` (without it they read like "3 days ago").

Not documented, and assumed (``orders_query`` makes it a setting, the contract
server does the same): ``order_by:updated_at`` and an ``updated_at:>=<ISO>``
filter (the documented filters are status, financial_status,
fulfillment_status, created_at, product_id), timestamps in UTC, 429 with
``Retry-After`` when rate limited, and HTTP 401 for a rejected token.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from common.transport import bearer_auth
from connectors.storefronts.base import (
    Page,
    SnapshotKey,
    StorefrontPuller,
    StorefrontPullError,
    parse_utc,
)
from connectors.storefronts.http import HttpSettings, StorefrontHttp, StoreRef

DEFAULT_BASE_URL = "https://services.lightfunnels.com"
API_PATH = "/api/v2"
TIME_FORMAT = "YYYY-MM-DD HH:mm:ss"
DEFAULT_ORDERS_QUERY = "order_by:updated_at order_dir:asc"
DEFAULT_SINCE_FILTER = "updated_at:>={since}"

ORDERS_QUERY = f"""
query Cod360Orders($first: Int, $after: String, $query: String!) {{
  orders(query: $query, first: $first, after: $after) {{
    edges {{
      cursor
      node {{
        id _id name total subtotal shipping currency
        financial_status fulfillment_status email phone notes tags test
        created_at(format: "{TIME_FORMAT}") updated_at(format: "{TIME_FORMAT}")
        cancelled_at(format: "{TIME_FORMAT}")
        customer {{ id _id full_name first_name last_name email phone }}
        shipping_address {{ first_name last_name line1 line2 city state country zip phone }}
        items {{ id _id title sku price }}
      }}
    }}
    pageInfo {{ endCursor hasNextPage }}
  }}
}}"""


class LightFunnelsOrdersPuller(StorefrontPuller):
    """Orders of one LightFunnels account, oldest update first."""

    platform = "lightfunnels"

    def __init__(
        self,
        *,
        store: StoreRef,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        page_size: int = 50,
        orders_query: str = DEFAULT_ORDERS_QUERY,
        since_filter: str = DEFAULT_SINCE_FILTER,
        http: HttpSettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = StorefrontHttp(
            store=store,
            base_url=base_url,
            auth=bearer_auth(access_token),
            settings=http or HttpSettings(),
            secrets=[access_token],
            transport=transport,
        )
        self.store = store
        self.page_size = max(1, page_size)
        self.orders_query = orders_query
        self.since_filter = since_filter

    def close(self) -> None:
        self.http.close()

    def snapshot_key(self, record: dict[str, Any]) -> SnapshotKey | None:
        order_id = record.get("_id") if record.get("_id") is not None else record.get("id")
        stamp = record.get("updated_at")
        if order_id in (None, "") or not stamp:
            return None
        try:
            return SnapshotKey(str(order_id), parse_utc(stamp))
        except (TypeError, ValueError):
            return None

    def pages(self, since: datetime | None) -> Iterator[Page]:
        search = self.orders_query
        if since is not None:
            stamp = f"{since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
            search = f"{search} {self.since_filter.format(since=stamp)}"
        after: str | None = None
        number = 0
        while True:
            variables = {"first": self.page_size, "after": after, "query": search}
            connection = self.http.call(
                "POST",
                API_PATH,
                what="orders query",
                json={"query": ORDERS_QUERY, "variables": variables},
                interpret=self._read,
            )
            number += 1
            yield Page(number, [edge["node"] for edge in connection["edges"]])
            info = connection["pageInfo"]
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            after = info["endCursor"]

    def _read(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise StorefrontPullError(
                f"{self.store.label()}: non-JSON answer (HTTP {response.status_code})"
            )
        if body.get("errors"):
            first = body["errors"][0]
            message = first.get("message", first) if isinstance(first, dict) else first
            raise StorefrontPullError(f"{self.store.label()}: orders query refused: {message}")
        orders = (body.get("data") or {}).get("orders")
        if response.status_code >= 400 or not isinstance(orders, dict):
            raise StorefrontPullError(
                f"{self.store.label()}: unexpected answer (HTTP {response.status_code})"
            )
        return orders
