"""The carrier envelope (docs/landing.md) as the carrier pullers write it, and its snapshot key.

A carrier puller turns the vendor's own objects into envelope lines; the storefront
engine (:mod:`connectors.storefronts.engine`) lands them with the same durability as
orders (high-water mark, overlap window, atomic commits). The engine keys a record
by ``(id, time)``: for a tracking line that is ``(event_id, event_time)``, so the
same event read twice (the overlap, a re-run after a crash) lands once.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from connectors.storefronts.base import SnapshotKey, StorefrontPuller, parse_utc

# Algeria keeps UTC+01:00 all year (no DST): the zone of Yalidine's and EcoTrack's
# naive "YYYY-MM-DD HH:MM:SS" times (unverified in their docs; Algerian wall-clock time).
ALGERIA_TZ = timezone(timedelta(hours=1))
ORDER_REF_PREFIX = "cod360"


def envelope_line(
    *,
    carrier: str,
    tracking_number: str,
    order_ref: str,
    raw_status: str,
    event_time: datetime,
    event_id: str,
    city: str | None = None,
    comment: str | None = None,
) -> dict[str, Any]:
    """One tracking update in the carrier envelope; optional fields only when known."""
    line: dict[str, Any] = {
        "carrier": carrier,
        "tracking_number": tracking_number,
        "order_ref": order_ref,
        "raw_status": raw_status,
        "event_time": event_time.isoformat(timespec="seconds"),
        "event_id": event_id,
    }
    if city:
        line["city"] = city
    if comment:
        line["comment"] = comment
    return line


def naive_local(text: str) -> datetime:
    """``2026-03-01 14:05:00`` in Algerian time → an aware datetime at +01:00."""
    moment = datetime.fromisoformat(str(text).strip().replace(" ", "T", 1))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ALGERIA_TZ)
    return moment.astimezone(ALGERIA_TZ)


def order_ref_from(merchant_ref: Any, prefix: str | None) -> str:
    """The cod360 order reference of a parcel: the merchant's order id as given at
    creation (cod360 gives ``"<platform>:<id>"``); a bare id gets ``prefix:``."""
    text = "" if merchant_ref is None else str(merchant_ref).strip()
    if not text or ":" in text or not prefix:
        return text
    return f"{prefix}:{text}"


class CarrierTrackingPuller(StorefrontPuller):
    """A puller whose records are envelope lines; ``platform`` is the carrier's folder."""

    platform = "carrier"

    def completed(self) -> None:  # most pullers keep nothing of their own
        """Called once the pull's last batch is committed (e.g. to save a memory that
        must never run ahead of the landed files)."""

    def snapshot_key(self, record: dict[str, Any]) -> SnapshotKey | None:
        event_id, stamp = record.get("event_id"), record.get("event_time")
        if not event_id or not stamp:
            return None
        try:
            return SnapshotKey(str(event_id), parse_utc(stamp))
        except (TypeError, ValueError):
            return None
