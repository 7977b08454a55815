"""WooCommerce orders through the REST API v3 (Basic auth with the consumer key / secret).

``GET /wp-json/wc/v3/orders?modified_after=…&dates_are_gmt=true&per_page=100&page=N
&orderby=modified&order=asc``; ``X-WP-Total`` / ``X-WP-TotalPages`` size the pull
and ``Link: <…>; rel="next"`` says whether a page follows. Pages seek (see
:mod:`connectors.storefronts.paging`): ``modified_after`` is a strict "after"
with second precision, so each restart steps back one second. The key needs
*Read* permission. Some hosts put a rate limit in front (429 + ``Retry-After``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from common.transport import basic_auth
from connectors.storefronts.base import (
    Page,
    SnapshotKey,
    StorefrontPuller,
    StorefrontPullError,
    safe_key,
)
from connectors.storefronts.http import HttpSettings, StorefrontHttp, StoreRef
from connectors.storefronts.paging import Fetched, seek_pages

API_ROOT = "/wp-json/wc/v3"
MAX_PER_PAGE = 100


class WooCommerceOrdersPuller(StorefrontPuller):
    """Orders of one WooCommerce store, oldest modification first."""

    platform = "woocommerce"

    def __init__(
        self,
        *,
        store: StoreRef,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        per_page: int = MAX_PER_PAGE,
        http: HttpSettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = StorefrontHttp(
            store=store,
            base_url=base_url,
            auth=basic_auth(consumer_key, consumer_secret),
            settings=http or HttpSettings(),
            secrets=[consumer_key, consumer_secret],
            describe_error=_error_text,
            transport=transport,
        )
        self.store = store
        self.per_page = max(1, min(per_page, MAX_PER_PAGE))

    def close(self) -> None:
        self.http.close()

    def snapshot_key(self, record: dict[str, Any]) -> SnapshotKey | None:
        return safe_key(record, "id", "date_modified_gmt")

    def pages(self, since: datetime | None) -> Iterator[Page]:
        return seek_pages(
            self._fetch,
            since=since,
            page_size=self.per_page,
            updated_at=lambda r: k.updated_at if (k := self.snapshot_key(r)) else None,
            step_back=timedelta(seconds=1),
        )

    def _fetch(self, cursor: datetime | None, page: int) -> Fetched:
        params: dict[str, Any] = {
            "per_page": self.per_page,
            "page": page,
            "orderby": "modified",
            "order": "asc",
            "dates_are_gmt": "true",
        }
        if cursor is not None:
            params["modified_after"] = f"{cursor.astimezone(UTC):%Y-%m-%dT%H:%M:%S}"
        response = self.http.call(
            "GET", f"{API_ROOT}/orders", what=f"orders page {page}", params=params
        )
        if response.status_code >= 400:
            raise StorefrontPullError(
                f"{self.store.label()}: orders listing refused (HTTP {response.status_code}: "
                f"{_error_text(response)})"
            )
        records = response.json()
        if not isinstance(records, list):
            raise StorefrontPullError(f"{self.store.label()}: orders listing is not a JSON array")
        return Fetched(
            records,
            total_records=_int(response.headers.get("X-WP-Total")),
            total_pages=_int(response.headers.get("X-WP-TotalPages")),
            has_next=('rel="next"' in link) if (link := response.headers.get("Link")) else None,
        )


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _error_text(response: httpx.Response) -> str:
    """WooCommerce's ``{"code", "message", "data": {"status"}}`` as ``code: message``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "code" in body:
        return f"{body['code']}: {body.get('message', '')}"
    return response.reason_phrase
