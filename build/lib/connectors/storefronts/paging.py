"""Seek pagination for APIs that page by number or offset over an ``updated_at`` filter.

Paging ``page=1, 2, 3…`` through "orders modified after T, oldest first" skips
orders when the store keeps working during the pull: an order updated meanwhile
leaves its place for the end of the list, everything behind it moves up one
place, and the order that crosses a page boundary is never read (and, being
older than the new high-water mark, never read again). A COD store's
confirmation team updates orders all day, so this happens.

So each request restarts the filter at the newest ``updated_at`` read so far
(minus ``step_back`` when the API's filter is strict "after" with second
precision) at page one: what moved is still ahead of the cursor. Orders read
twice this way are recognised by the engine and land once. Only when a whole
page shares one timestamp (no progress) does the page number go up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.storefronts.base import Page


@dataclass
class Fetched:
    """One response: its orders and whatever totals the API gave."""

    records: list[dict[str, Any]]
    total_records: int | None = None
    total_pages: int | None = None
    has_next: bool | None = None  # e.g. a Link rel="next" header
    detail: dict[str, Any] = field(default_factory=dict)


def seek_pages(
    fetch: Callable[[datetime | None, int], Fetched],
    *,
    since: datetime | None,
    page_size: int,
    updated_at: Callable[[dict[str, Any]], datetime | None],
    step_back: timedelta = timedelta(0),
    first_page: int = 1,
) -> Iterator[Page]:
    """Pages from ``fetch(cursor, page_index)`` until a short or last page."""
    cursor, index, number = since, first_page, 0
    scope: int | None = None
    while True:
        got = fetch(cursor, index)
        number += 1
        if scope is None:
            scope = got.total_records  # the first answer is the size of the whole pull
        yield Page(number, got.records, total_records=scope, detail=got.detail)
        if len(got.records) < page_size or got.has_next is False:
            return
        if got.total_pages is not None and index >= got.total_pages:
            return
        stamps = [t for t in map(updated_at, got.records) if t is not None]
        restart = max(stamps) - step_back if stamps else None
        if restart is not None and (cursor is None or restart > cursor):
            cursor, index = restart, first_page
        else:
            index += 1
