"""YouCan orders through the Store Admin API (``GET https://api.youcan.shop/orders``, Bearer).

Documented (developer.youcan.shop, "Listing Orders" and "Query filters"):
``include=customer,variants,payment,shipping`` for the sub-resources,
``limit`` / ``page``, ``sort_field`` / ``sort_order``, ``filters[i][field|operator|value]``,
and the answer ``{"data": [...], "meta": {"pagination": {total, count, per_page,
current_page, total_pages, links: {next}}}}``; the scope is ``read-orders``.

Not documented, and assumed here (the contract server does the same): sorting
and filtering on ``updated_at`` (the documented sort fields are ``ref``,
``total``, ``created_at``), and the filter value format ``YYYY-MM-DD HH:MM:SS``
in UTC. If YouCan ignored the sort, the engine would stop the pull with a clear
error rather than skip updates.
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
    safe_key,
)
from connectors.storefronts.http import HttpSettings, StorefrontHttp, StoreRef
from connectors.storefronts.paging import Fetched, seek_pages

DEFAULT_BASE_URL = "https://api.youcan.shop"
INCLUDE = "customer,variants,payment,shipping"


class YouCanOrdersPuller(StorefrontPuller):
    """Orders of one YouCan store, oldest update first."""

    platform = "youcan"

    def __init__(
        self,
        *,
        store: StoreRef,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        limit: int = 50,
        http: HttpSettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = StorefrontHttp(
            store=store,
            base_url=base_url,
            auth=bearer_auth(access_token),
            settings=http or HttpSettings(),
            secrets=[access_token],
            describe_error=_error_text,
            transport=transport,
        )
        self.store = store
        self.limit = max(1, limit)

    def close(self) -> None:
        self.http.close()

    def snapshot_key(self, record: dict[str, Any]) -> SnapshotKey | None:
        return safe_key(record, "id", "updated_at")

    def pages(self, since: datetime | None) -> Iterator[Page]:
        # The filter is ">=": the order at the cursor is read again and recognised.
        return seek_pages(
            self._fetch,
            since=since,
            page_size=self.limit,
            updated_at=lambda r: k.updated_at if (k := self.snapshot_key(r)) else None,
        )

    def _fetch(self, cursor: datetime | None, page: int) -> Fetched:
        params: dict[str, Any] = {
            "include": INCLUDE,
            "limit": self.limit,
            "page": page,
            "sort_field": "updated_at",
            "sort_order": "asc",
        }
        if cursor is not None:
            params |= {
                "filters[0][field]": "updated_at",
                "filters[0][operator]": ">=",
                "filters[0][value]": f"{cursor.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            }
        response = self.http.call("GET", "/orders", what=f"orders page {page}", params=params)
        body = response.json() if response.status_code < 400 else None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise StorefrontPullError(
                f"{self.store.label()}: orders listing refused (HTTP {response.status_code}: "
                f"{_error_text(response)})"
            )
        pagination = (body.get("meta") or {}).get("pagination") or {}
        links = pagination.get("links")
        return Fetched(
            body["data"],
            total_records=pagination.get("total"),
            total_pages=pagination.get("total_pages"),
            has_next=bool(links.get("next")) if isinstance(links, dict) else None,
        )


def _error_text(response: httpx.Response) -> str:
    """YouCan's ``{"status", "detail", "meta"}``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and body.get("detail"):
        return str(body["detail"])
    return response.reason_phrase
