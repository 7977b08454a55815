"""Shopify orders through the Admin GraphQL API (``POST /admin/api/{version}/graphql.json``).

``orders(first, after, sortKey: UPDATED_AT, query: "updated_at:>'…'")`` with
``pageInfo { hasNextPage endCursor }``: cursor (keyset) pagination, so orders
updated during the pull are simply met again further on. The nodes requested
are the ``Order`` shape of docs/landing.md and land as returned.

Throttling is Shopify's calculated query cost: every response carries
``extensions.cost.throttleStatus``; before a request the puller waits until the
bucket holds the last page's cost, and a ``THROTTLED`` error waits
``(requestedQueryCost - currentlyAvailable) / restoreRate`` then retries.
``MAX_COST_EXCEEDED`` (one query over the single-query limit) shrinks the page
and asks again. Reading orders needs the ``read_orders`` scope, orders older
than 60 days ``read_all_orders``, and customer names / phones Shopify's
protected customer data access.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from common.transport import RetryableError, SecretHeaderAuth
from connectors.storefronts.base import (
    Page,
    SnapshotKey,
    StorefrontPuller,
    StorefrontPullError,
    parse_utc,
)
from connectors.storefronts.http import HttpSettings, StorefrontHttp, StoreRef

logger = logging.getLogger("cod360.storefronts")
DEFAULT_API_VERSION = "2025-07"
MAX_PAGE_SIZE = 250

_MONEY = "shopMoney { amount currencyCode }"
# The visits of the order's journey: their UTM parameters are the ad that brought it.
_VISIT = "source landingPage referrerUrl utmParameters { source medium campaign content }"
ORDERS_QUERY = f"""
query Cod360Orders($first: Int!, $after: String, $query: String, $lineItems: Int!) {{
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id name createdAt updatedAt processedAt cancelledAt cancelReason closed closedAt
      displayFinancialStatus displayFulfillmentStatus paymentGatewayNames currencyCode
      tags note phone email
      customer {{ id firstName lastName phone email }}
      shippingAddress {{
        firstName lastName address1 address2 city province zip countryCodeV2 phone
      }}
      subtotalPriceSet {{ {_MONEY} }}
      totalShippingPriceSet {{ {_MONEY} }}
      totalPriceSet {{ {_MONEY} }}
      lineItems(first: $lineItems) {{
        nodes {{ id title quantity sku originalUnitPriceSet {{ {_MONEY} }} }}
        pageInfo {{ hasNextPage }}
      }}
      customerJourneySummary {{
        firstVisit {{ {_VISIT} }}
        lastVisit {{ {_VISIT} }}
      }}
    }}
  }}
}}"""


class ShopifyOrdersPuller(StorefrontPuller):
    """Orders of one Shopify shop, oldest update first."""

    platform = "shopify"

    def __init__(
        self,
        *,
        store: StoreRef,
        base_url: str,
        access_token: str,
        api_version: str = DEFAULT_API_VERSION,
        page_size: int = 50,
        line_items_per_order: int = 10,
        http: HttpSettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = StorefrontHttp(
            store=store,
            base_url=base_url,
            auth=SecretHeaderAuth("X-Shopify-Access-Token", access_token),
            settings=http or HttpSettings(),
            secrets=[access_token],
            describe_error=_error_text,
            transport=transport,
        )
        self.store = store
        self.path = f"/admin/api/{api_version}/graphql.json"
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self.line_items = line_items_per_order
        self._sleep = (http or HttpSettings()).sleep
        self._bucket: dict[str, float] | None = None
        self._last_cost = 0.0

    def close(self) -> None:
        self.http.close()

    def snapshot_key(self, record: dict[str, Any]) -> SnapshotKey | None:
        gid, stamp = str(record.get("id") or ""), record.get("updatedAt")
        number = gid.rpartition("/")[2]
        if not gid.startswith("gid://shopify/Order/") or not number.isdigit() or not stamp:
            return None
        try:
            return SnapshotKey(number, parse_utc(stamp))
        except (TypeError, ValueError):
            return None

    def pages(self, since: datetime | None) -> Iterator[Page]:
        search = f"updated_at:>'{since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}'" if since else None
        after: str | None = None
        number = 0
        while True:
            connection, cost = self._orders(search, after)
            number += 1
            cut = [n.get("name") for n in connection["nodes"] if _more_line_items(n)]
            if cut:
                logger.warning(
                    "%s: %d order(s) have more than %d line items, only the first are landed "
                    "(raise line_items_per_order): %s",
                    self.store.label(),
                    len(cut),
                    self.line_items,
                    ", ".join(map(str, cut[:5])),
                )
            yield Page(number, connection["nodes"], detail={"cost": cost})
            info = connection["pageInfo"]
            if not info["hasNextPage"]:
                return
            after = info["endCursor"]

    # -- one page ------------------------------------------------------------------------

    def _orders(self, search: str | None, after: str | None) -> tuple[dict[str, Any], dict]:
        while True:
            variables = {
                "first": self.page_size,
                "after": after,
                "query": search,
                "lineItems": self.line_items,
            }
            self._wait_for_bucket()
            body = self.http.call(
                "POST",
                self.path,
                what="orders query",
                json={"query": ORDERS_QUERY, "variables": variables},
                interpret=self._read,
            )
            too_costly = _error_with_code(body, "MAX_COST_EXCEEDED")
            if too_costly is None:
                return body["data"]["orders"], (body.get("extensions") or {}).get("cost") or {}
            self._shrink_page(too_costly)

    def _read(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise StorefrontPullError(
                f"{self.store.label()}: non-JSON answer (HTTP {response.status_code})"
            ) from None
        cost = (body.get("extensions") or {}).get("cost") or {}
        self._remember(cost)
        errors = body.get("errors")
        if errors:
            if isinstance(errors, str):
                raise StorefrontPullError(f"{self.store.label()}: {errors}")
            codes = {((e.get("extensions") or {}).get("code") or "") for e in errors}
            if "THROTTLED" in codes:
                raise RetryableError("THROTTLED", retry_after_s=_refill_wait(cost))
            if "INTERNAL_SERVER_ERROR" in codes:
                raise RetryableError("INTERNAL_SERVER_ERROR")
            if "MAX_COST_EXCEEDED" in codes:
                return body
            raise StorefrontPullError(
                f"{self.store.label()}: orders query refused: {errors[0].get('message', errors[0])}"
            )
        if response.status_code >= 400 or not (body.get("data") or {}).get("orders"):
            raise StorefrontPullError(
                f"{self.store.label()}: unexpected answer (HTTP {response.status_code})"
            )
        return body

    def _shrink_page(self, error: dict[str, Any]) -> None:
        extensions = error.get("extensions") or {}
        cost, limit = extensions.get("cost"), extensions.get("maxCost")
        if self.page_size == 1:
            raise StorefrontPullError(
                f"{self.store.label()}: one order costs more than Shopify's single-query limit; "
                "lower line_items_per_order"
            )
        ratio = float(limit) / float(cost) if cost and limit else 0.5
        smaller = max(1, min(self.page_size - 1, math.floor(self.page_size * ratio * 0.9)))
        logger.warning(
            "%s: query cost %s over the limit %s; page size %d -> %d",
            self.store.label(),
            cost,
            limit,
            self.page_size,
            smaller,
        )
        self.page_size = smaller

    # -- the cost bucket ----------------------------------------------------------------

    def _remember(self, cost: dict[str, Any]) -> None:
        throttle = cost.get("throttleStatus")
        if throttle:
            self._bucket = {
                "available": float(throttle["currentlyAvailable"]),
                "restore": float(throttle["restoreRate"]),
                "at": time.monotonic(),
            }
        # The bucket must hold the *requested* cost of the next page (the same query).
        if cost.get("requestedQueryCost"):
            self._last_cost = float(cost["requestedQueryCost"])

    def _wait_for_bucket(self) -> None:
        """Before sending, wait until the bucket holds the last page's requested cost."""
        state = self._bucket
        if not state or state["restore"] <= 0 or not self._last_cost:
            return
        available = state["available"] + (time.monotonic() - state["at"]) * state["restore"]
        if available < self._last_cost:
            wait = (self._last_cost - available) / state["restore"]
            logger.info("%s: waiting %.2fs for the cost bucket", self.store.label(), wait)
            self._sleep(wait)


def _more_line_items(node: dict[str, Any]) -> bool:
    return bool(((node.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage"))


def _error_with_code(body: dict[str, Any], code: str) -> dict[str, Any] | None:
    for error in body.get("errors") or []:
        if isinstance(error, dict) and (error.get("extensions") or {}).get("code") == code:
            return error
    return None


def _refill_wait(cost: dict[str, Any]) -> float | None:
    throttle = cost.get("throttleStatus") or {}
    requested = cost.get("requestedQueryCost")
    available, restore = throttle.get("currentlyAvailable"), throttle.get("restoreRate")
    if requested is None or available is None or not restore:
        return None
    return max(float(requested) - float(available), 0.0) / float(restore)


def _error_text(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return response.text[:200]
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list) and errors:
        return str(errors[0].get("message", errors[0]))
    return response.reason_phrase
