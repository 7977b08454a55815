"""What a read API serves: every order's latest snapshot at the server's clock.

A vendor API only ever shows an order's *current* state. The feed keeps all
the snapshots it was given (e.g. the sample store's ``orders/<platform>/*.jsonl``,
where an order appears again each time its status changes) and answers with
the latest one whose ``updated_at`` is not after :attr:`OrderFeed.clock`
(``None``: the latest of all). Moving the clock forward is how a test or the
demo makes orders "change" between two pulls.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

KeyFn = Callable[[dict[str, Any]], "tuple[str, datetime] | None"]


def parse_time(value: Any, *, naive_tz: Any = UTC) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (``Z``, offsets, naive, space separator)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_tz)
    return moment.astimezone(UTC)


def id_order(order_id: str) -> tuple[int, int | str]:
    """Sort numeric ids as numbers, others as text (numbers first)."""
    return (0, int(order_id)) if order_id.isdigit() else (1, order_id)


@dataclass
class SeedReport:
    """What :meth:`OrderFeed.seed_from_landing` read."""

    files: int = 0
    lines: int = 0
    snapshots: int = 0
    duplicates: int = 0
    unusable: int = 0  # not JSON, or no id / update time: a vendor API never serves these


class OrderFeed:
    """Order snapshots by order id; thread-safe."""

    def __init__(self, key: KeyFn) -> None:
        self._key = key
        self._snapshots: dict[str, dict[datetime, dict[str, Any]]] = {}
        self._clock: datetime | None = None
        self._cache: list[tuple[datetime, str, dict[str, Any]]] | None = None
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._snapshots)

    @property
    def clock(self) -> datetime | None:
        return self._clock

    def set_clock(self, moment: datetime | None) -> None:
        """Serve the orders as they were at ``moment`` (``None``: as they are now, latest)."""
        with self.lock:
            self._clock = moment.astimezone(UTC) if moment else None
            self._cache = None

    def add(self, records: Iterable[dict[str, Any]]) -> SeedReport:
        """Add snapshots (a record with an existing ``(id, updated_at)`` replaces nothing)."""
        report = SeedReport()
        with self.lock:
            for record in records:
                key = self._key(record)
                if key is None:
                    report.unusable += 1
                    continue
                order_id, updated = key
                versions = self._snapshots.setdefault(order_id, {})
                if updated in versions:
                    report.duplicates += 1
                    continue
                versions[updated] = record
                report.snapshots += 1
            self._cache = None
        return report

    def seed_from_landing(self, landing_dir: Path, folder: str) -> SeedReport:
        """Add every snapshot in ``<landing_dir>/<folder>/**/*.jsonl`` (closed files only)."""
        total = SeedReport()
        for path in sorted(Path(landing_dir, folder).rglob("*.jsonl")):
            total.files += 1
            records = []
            with path.open(encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if not line.strip():
                        continue
                    total.lines += 1
                    try:
                        value = json.loads(line)
                    except ValueError:
                        total.unusable += 1
                        continue
                    if isinstance(value, dict):
                        records.append(value)
                    else:
                        total.unusable += 1
            part = self.add(records)
            total.snapshots += part.snapshots
            total.duplicates += part.duplicates
            total.unusable += part.unusable
        return total

    def visible(self) -> list[tuple[datetime, str, dict[str, Any]]]:
        """``(updated_at, order id, record)`` of each order's latest snapshot at the clock,
        sorted by ``(updated_at, id)``."""
        with self.lock:
            if self._cache is None:
                rows = []
                for order_id, versions in self._snapshots.items():
                    times = [t for t in versions if self._clock is None or t <= self._clock]
                    if times:
                        latest = max(times)
                        rows.append((latest, order_id, versions[latest]))
                rows.sort(key=lambda row: (row[0], id_order(row[1])))
                self._cache = rows
            return self._cache

    def update_times(self) -> list[datetime]:
        """Every distinct snapshot time, ascending (for replaying the history step by step)."""
        with self.lock:
            return sorted({t for versions in self._snapshots.values() for t in versions})

    def all_snapshots(self) -> list[dict[str, Any]]:
        """Every snapshot, whatever the clock."""
        with self.lock:
            return [r for versions in self._snapshots.values() for r in versions.values()]

    def snapshot_count(self) -> int:
        with self.lock:
            return sum(len(v) for v in self._snapshots.values())
