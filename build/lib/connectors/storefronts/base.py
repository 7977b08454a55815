"""The puller interface every storefront platform implements, and what it exchanges.

A puller knows one vendor API: it turns a starting point (a
:class:`HighWaterMark`) into pages of raw order objects, in ascending
``updated_at`` order, exactly as the vendor sends them. It does not write
files or remember anything: :mod:`connectors.storefronts.engine` does that, the
same way for every platform.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, order=True)
class HighWaterMark:
    """How far a store has been pulled: the last snapshot landed, ``(updated_at, order_id)``.

    ``updated_at`` is timezone-aware UTC. Ordering compares ``updated_at`` first,
    then the id (as text), the order the pullers ask the APIs to sort by.
    """

    updated_at: datetime
    order_id: str = ""

    def to_json(self) -> dict[str, str]:
        return {"updated_at": iso_utc(self.updated_at), "order_id": self.order_id}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> HighWaterMark | None:
        if not data:
            return None
        return cls(parse_utc(data["updated_at"]), str(data.get("order_id", "")))


@dataclass(frozen=True)
class SnapshotKey:
    """One order snapshot: the platform's order id and its ``updated_at`` (UTC)."""

    order_id: str
    updated_at: datetime

    @property
    def mark(self) -> HighWaterMark:
        return HighWaterMark(self.updated_at, self.order_id)

    def to_json(self) -> list[str]:
        return [self.order_id, iso_utc(self.updated_at)]


@dataclass
class Page:
    """One page of raw order objects, as the vendor returned them."""

    number: int
    records: list[dict[str, Any]]
    total_records: int | None = None  # when the API says (X-WP-Total, meta.pagination.total)
    total_pages: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # e.g. Shopify's throttle status


class StorefrontPuller(abc.ABC):
    """Reads one store's orders, oldest update first, page by page.

    Subclasses set ``platform`` and implement :meth:`pages` and :meth:`snapshot_key`.
    Use as a context manager (or call :meth:`close`) to release connections.
    """

    platform: str = "storefront"

    @abc.abstractmethod
    def pages(self, since: datetime | None) -> Iterator[Page]:
        """Orders updated after ``since`` (all of them when ``None``), in ascending
        ``(updated_at, id)`` order, one :class:`Page` at a time."""

    @abc.abstractmethod
    def snapshot_key(self, record: dict[str, Any]) -> SnapshotKey | None:
        """The record's ``(order id, updated_at)``; ``None`` when the record lacks them."""

    def pull(self, since: HighWaterMark | None) -> Iterator[Page]:
        """Pages of raw orders updated after ``since.updated_at`` (every order when ``None``)."""
        return self.pages(since.updated_at if since else None)

    def close(self) -> None:  # noqa: B027 - pullers without connections need nothing
        """Release connections."""

    def __enter__(self) -> StorefrontPuller:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --- errors -------------------------------------------------------------------------------


class StorefrontPullError(Exception):
    """A pull that could not complete. Messages never contain credentials."""


class StorefrontAuthError(StorefrontPullError):
    """The store refused the credentials (401) or their permissions (403)."""


class StorefrontUnavailableError(StorefrontPullError):
    """The API kept failing (429 / 5xx / timeouts) after every retry."""


class StorefrontOrderingError(StorefrontPullError):
    """The API returned orders out of ``updated_at`` order: pulling on would lose updates."""


# --- time -------------------------------------------------------------------------------


def parse_utc(value: str | datetime, *, naive_tz: Any = UTC) -> datetime:
    """An aware UTC datetime from ISO 8601 text (``Z``, offsets, microseconds, or naive).

    Naive values are read in ``naive_tz`` (UTC unless the vendor says otherwise,
    e.g. PrestaShop's shop time zone).
    """
    if isinstance(value, datetime):
        moment = value
    else:
        text = value.strip().replace(" ", "T", 1)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_tz)
    return moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """``2026-03-01T14:05:00Z`` (microseconds kept when present)."""
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


def safe_key(
    record: dict[str, Any], id_field: str, time_field: str, **kw: Any
) -> SnapshotKey | None:
    """``SnapshotKey(record[id_field], record[time_field])``, or ``None`` if either is unusable."""
    order_id, stamp = record.get(id_field), record.get(time_field)
    if order_id in (None, "") or not stamp:
        return None
    try:
        return SnapshotKey(str(order_id), parse_utc(stamp, **kw))
    except (TypeError, ValueError):
        return None
