"""What the landing folder already knows about carrier parcels: order references and events.

A Yalidine webhook names a parcel by its tracking number only; the carrier envelope
needs the order reference. The pulls (``tracking/<carrier>/<account>/pull_*.jsonl``),
carrier files (``tracking/**/*.jsonl|csv``) and the parcel events the receiver keeps
(``other/yalidine_webhooks/<carrier>/parcel_created/…``) all pair a tracking number
with its order reference: this index reads them once at startup and then only the
files it has not read yet (closed landing files never change).

It also remembers the webhook event ids already landed, so a delivery Yalidine repeats
(it retries, and "the same event may be delivered more than once") lands once. The
memory is bounded (``MAX_EVENT_IDS``) and rebuilt from the landed files at startup;
beyond it, staging's dedup on (carrier, tracking number, status, time) still holds.

Events arrive out of order: a status change can come before the ``parcel_created``
event (or the pull) that names its order. Such an event is **held**: its line, without
``order_ref``, is kept in ``other/yalidine_webhooks_unresolved/<carrier>/`` (read by no
ingestion) and in :attr:`pending`, and lands in ``tracking/`` as soon as the index
learns its order (``resolvable``). At startup the held lines not landed since are
pending again.

The first read takes every file; later reads skip the receiver's own folders (what it
wrote is already in memory). Files are read in a worker thread and merged on the
event loop, so lookups never see a half-built index.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger("cod360.webhooks")

ORDER_REF = re.compile(r"^[a-z_]+:.+$")
WEBHOOK_FOLDER = "webhooks"  # tracking/<carrier>/webhooks/: status events the receiver landed
KEPT_ROOT = "other/yalidine_webhooks"  # other/yalidine_webhooks/<carrier>/<type>/: kept bodies
HELD_ROOT = "other/yalidine_webhooks_unresolved"  # …/<carrier>/: status lines awaiting an order
MAX_EVENT_IDS = 500_000
# A lookup that misses reads the new files at most this often (a burst of unknown
# parcels must not turn every request into a folder walk).
DEFAULT_REFRESH_SECONDS = 1.0


@dataclass
class _Found:
    order_refs: dict[tuple[str, str], str] = field(default_factory=dict)
    event_ids: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    held: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    landed: set[tuple[str, str]] = field(default_factory=set)  # keys in tracking/*/webhooks


def line_key(line: dict[str, Any]) -> str:
    """A status line's identity: Yalidine's event id, else tracking|time|status."""
    event_id = line.get("event_id")
    if isinstance(event_id, str) and event_id:
        return event_id
    return f"{line.get('tracking_number')}|{line.get('event_time')}|{line.get('raw_status')}"


def order_ref_of(value: Any) -> str | None:
    """A usable order reference (``"<platform>:<id>"``), else ``None``."""
    text = str(value).strip() if isinstance(value, str | int) else ""
    return text if ORDER_REF.match(text) else None


class TrackingIndex:
    """Tracking number → order reference per carrier, and the event ids already landed."""

    def __init__(
        self, landing_dir: Path, *, refresh_seconds: float = DEFAULT_REFRESH_SECONDS
    ) -> None:
        self.landing_dir = landing_dir
        self.refresh_seconds = refresh_seconds
        self._order_refs: dict[tuple[str, str], str] = {}
        self._events: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._reserved: set[tuple[str, str]] = set()
        self._read: set[Path] = set()
        self._read_once = False
        # carrier -> key -> the held line (no order_ref yet)
        self.pending: dict[str, dict[str, dict[str, Any]]] = {}
        self._refreshed_at = float("-inf")
        self._refreshing = asyncio.Lock()

    # --- lookups (event loop) --------------------------------------------------------

    def order_ref(self, carrier: str, tracking: str) -> str | None:
        return self._order_refs.get((carrier, tracking))

    async def resolve(self, carrier: str, tracking: str) -> str | None:
        """The order reference of ``tracking``, reading new landing files once on a miss."""
        found = self.order_ref(carrier, tracking)
        if found is None and await self.refresh():
            found = self.order_ref(carrier, tracking)
        return found

    def learn(self, carrier: str, tracking: str, order_ref: str) -> None:
        self._order_refs[(carrier, tracking)] = order_ref

    def seen(self, carrier: str, event_id: str) -> bool:
        key = (carrier, event_id)
        return key in self._events or key in self._reserved

    def reserve(self, carrier: str, event_ids: list[str]) -> None:
        """Mark ids as being landed (two concurrent copies of one delivery land once)."""
        self._reserved.update((carrier, e) for e in event_ids)

    def release(self, carrier: str, event_ids: list[str], *, landed: bool) -> None:
        for event_id in event_ids:
            key = (carrier, event_id)
            self._reserved.discard(key)
            if landed:
                self._remember(key)

    def hold(self, carrier: str, line: dict[str, Any]) -> None:
        self.pending.setdefault(carrier, {})[line_key(line)] = line

    def resolvable(self, carrier: str) -> dict[str, dict[str, Any]]:
        """Held lines whose order is now known, completed with it, by key."""
        ready = {}
        for key, line in self.pending.get(carrier, {}).items():
            order_ref = self.order_ref(carrier, str(line.get("tracking_number")))
            if order_ref:
                ready[key] = {**line, "order_ref": order_ref}
        return ready

    def settled(self, carrier: str, keys: list[str]) -> None:
        held = self.pending.get(carrier, {})
        for key in keys:
            held.pop(key, None)

    def _remember(self, key: tuple[str, str]) -> None:
        self._events[key] = None
        self._events.move_to_end(key)
        if len(self._events) > MAX_EVENT_IDS:
            self._events.popitem(last=False)

    # --- reading the landing folder ------------------------------------------------------

    async def refresh(self, *, force: bool = False) -> bool:
        """Read the files not read yet; ``False`` when skipped (read too recently)."""
        async with self._refreshing:
            now = time.monotonic()
            if not force and now - self._refreshed_at < self.refresh_seconds:
                return False
            self._refreshed_at = now
            first = not self._read_once
            found = await asyncio.to_thread(self._read_new_files, frozenset(self._read), first)
            self._read_once = True
            self._order_refs.update(found.order_refs)
            for key in found.event_ids:
                self._remember(key)
            for (carrier, key), line in found.held.items():
                if (carrier, key) not in found.landed:
                    self.hold(carrier, line)
            self._read.update(found.files)
            return True

    def _read_new_files(self, already: frozenset[Path], first: bool) -> _Found:
        found = _Found()
        tracking = self.landing_dir / "tracking"
        kept = self.landing_dir / KEPT_ROOT
        held = self.landing_dir / HELD_ROOT
        paths: list[Path] = []
        if tracking.is_dir():
            paths += [*tracking.rglob("*.jsonl"), *tracking.rglob("*.csv")]
        for root in (kept, held) if first else ():
            if root.is_dir():
                paths += list(root.rglob("*.jsonl"))
        for path in sorted(p for p in paths if p not in already and p.is_file()):
            try:
                if path.is_relative_to(kept):
                    _read_kept_bodies(path, path.relative_to(kept).parts[0], found)
                elif path.is_relative_to(held):
                    _read_held_lines(path, path.relative_to(held).parts[0], found)
                elif path.suffix == ".csv":
                    _read_csv(path, found)
                else:
                    webhook_carrier = _webhook_carrier(path.relative_to(tracking))
                    if first or not webhook_carrier:  # else: its own lines, in memory
                        _read_envelope_lines(path, webhook_carrier, found)
            except OSError as exc:  # unreadable now: tried again on the next refresh
                logger.warning("could not read %s for the tracking index: %s", path.name, exc)
                continue
            found.files.append(path)
        return found


def _webhook_carrier(relative: Path) -> str | None:
    """``<carrier>`` for ``<carrier>/webhooks/<file>``: the receiver's own status lines."""
    parts = relative.parts
    return parts[0] if len(parts) == 3 and parts[1] == WEBHOOK_FOLDER else None


def _pair(found: _Found, record: dict[str, Any], carrier: str | None = None) -> None:
    carrier = carrier or str(record.get("carrier") or "").strip().lower()
    tracking = str(record.get("tracking_number") or "").strip()
    order_ref = order_ref_of(record.get("order_ref"))
    if carrier and tracking and order_ref:
        found.order_refs[(carrier, tracking)] = order_ref


def _read_envelope_lines(path: Path, webhook_carrier: str | None, found: _Found) -> None:
    with path.open("rb") as handle:
        for raw in handle:
            try:
                record = json.loads(raw)
            except ValueError:
                continue  # ingestion quarantines it; nothing to learn here
            if not isinstance(record, dict):
                continue
            _pair(found, record)
            if not webhook_carrier:
                continue
            found.landed.add((webhook_carrier, line_key(record)))
            event_id = record.get("event_id")
            if isinstance(event_id, str) and event_id:
                found.event_ids.append((webhook_carrier, event_id))


def _read_held_lines(path: Path, carrier: str, found: _Found) -> None:
    with path.open("rb") as handle:
        for raw in handle:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(line, dict):
                continue
            found.held[(carrier, line_key(line))] = line
            if isinstance(line.get("event_id"), str) and line["event_id"]:
                found.event_ids.append((carrier, line["event_id"]))


def _read_csv(path: Path, found: _Found) -> None:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            _pair(found, row)


def _read_kept_bodies(path: Path, carrier: str, found: _Found) -> None:
    """Parcel events kept whole: their ids, and ``data.order_id`` with ``data.tracking``."""
    with path.open("rb") as handle:
        for raw in handle:
            try:
                body = json.loads(raw)
            except ValueError:
                continue
            events = body.get("events") if isinstance(body, dict) else None
            for event in events if isinstance(events, list) else []:
                if not isinstance(event, dict):
                    continue
                if isinstance(event.get("event_id"), str) and event["event_id"]:
                    found.event_ids.append((carrier, event["event_id"]))
                data = event.get("data")
                if isinstance(data, dict):
                    _pair(
                        found,
                        {
                            "tracking_number": data.get("tracking"),
                            "order_ref": data.get("order_id"),
                        },
                        carrier,
                    )
