"""One pull of one store: pages from a puller → committed landing files + a new high-water mark.

The same for every platform:

* the pull starts ``overlap`` (default 10 minutes) below the store's high-water
  mark, so an update that became visible late (replication lag, a clock a
  little behind) is still caught; snapshots already landed inside that window
  are remembered in the state and not landed again;
* pages are written to ``orders/<platform>/<store>/pull_<stamp>_<batch>.jsonl.tmp``;
  every ``pages_per_commit`` pages (and at the end) the batch is fsynced and
  renamed to ``.jsonl`` — the commit point — and only then the state moves the
  mark past it. A crash before the rename leaves a ``.tmp`` that the next pull
  deletes and pulls again; a crash between the rename and the state write is
  repaired by folding the renamed file into the state. Either way every
  snapshot lands exactly once;
* a batch holds only snapshots not landed before, so no file repeats another
  and a pull that finds nothing new writes nothing;
* one log line per page (a backfill shows its progress).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.storefronts.base import (
    HighWaterMark,
    SnapshotKey,
    StorefrontOrderingError,
    StorefrontPuller,
    iso_utc,
)
from connectors.storefronts.state import (
    StateStore,
    StoreState,
    pull_file_name,
)
from connectors.webhooks.files import fsync_dir

logger = logging.getLogger("cod360.storefronts")
DEFAULT_OVERLAP = timedelta(minutes=10)
DEFAULT_PAGES_PER_COMMIT = 10
# Re-read snapshots (a seek cursor restarting one second back) are recognised within this window.
_PULL_SEEN_WINDOW = timedelta(hours=1)


@dataclass
class PullReport:
    """What one pull of one store did."""

    store: str
    platform: str
    backfill: bool
    since: datetime | None
    mark_before: HighWaterMark | None
    mark_after: HighWaterMark | None = None
    pages: int = 0
    orders_read: int = 0
    snapshots_landed: int = 0
    already_landed: int = 0
    without_key: int = 0  # landed as read; ingestion will quarantine them with the field
    files: list[str] = field(default_factory=list)
    recovered_files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        kind = "backfill" if self.backfill else f"since {iso_utc(self.since)}" if self.since else ""
        mark = iso_utc(self.mark_after.updated_at) if self.mark_after else "none"
        return (
            f"store '{self.store}' ({self.platform}) {kind}: {self.pages} pages, "
            f"{self.orders_read} orders read, {self.snapshots_landed} new snapshots landed in "
            f"{len(self.files)} files, {self.already_landed} already landed; "
            f"high-water mark {mark} ({self.seconds:.1f} s)"
        )


class _Batch:
    """One pull file being written: ``.tmp`` until :meth:`commit` renames it."""

    def __init__(self, folder: Path, name: str) -> None:
        self.final = folder / name
        self.tmp = folder / (name + ".tmp")
        self.keys: set[SnapshotKey] = set()
        self.max_mark: HighWaterMark | None = None
        self.lines = 0
        self._handle: Any = None

    def add(self, record: dict[str, Any], key: SnapshotKey | None) -> None:
        if self._handle is None:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.tmp, "w", encoding="utf-8")  # noqa: SIM115 - closed in commit/abort
        self._handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.lines += 1
        if key is not None:
            self.keys.add(key)

    def commit(self) -> Path | None:
        if self._handle is None:
            return None
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._handle = None
        os.replace(self.tmp, self.final)
        fsync_dir(self.final.parent)
        return self.final

    def abort(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self.tmp.unlink(missing_ok=True)


def pull_store(
    puller: StorefrontPuller,
    *,
    store: str,
    landing_dir: Path,
    overlap: timedelta = DEFAULT_OVERLAP,
    pages_per_commit: int = DEFAULT_PAGES_PER_COMMIT,
    log: Callable[[str], None] | None = None,
    states: StateStore | None = None,
) -> PullReport:
    """Pull ``store`` through ``puller`` into ``landing_dir``; see the module docstring.

    ``states`` replaces the storefront bookkeeping (another landing folder and state
    folder, e.g. the carrier tracking pulls); by default ``orders/`` and
    ``_state/storefronts/``."""
    states = states or StateStore(Path(landing_dir))
    with states.exclusive(puller.platform, store):
        return _pull_locked(puller, store, states, overlap, pages_per_commit, log or logger.info)


def _pull_locked(
    puller: StorefrontPuller,
    store: str,
    states: StateStore,
    overlap: timedelta,
    pages_per_commit: int,
    say: Callable[[str], None],
) -> PullReport:
    platform = puller.platform
    label = f"store '{store}' ({platform})"
    landing_dir = states.landing_dir
    state = states.load(platform, store)
    for path in states.remove_stale_temporaries(platform, store):
        say(f"{label}: removed {path.name}, left by a pull that did not commit it")
    recovered = _fold_uncommitted(states, state, puller, overlap)
    if recovered:
        say(f"{label}: folded {len(recovered)} committed file(s) the state had missed")

    mark = state.high_water_mark
    since = mark.updated_at - overlap if mark else None
    report = PullReport(store, platform, mark is None, since, mark, recovered_files=recovered)
    say(
        f"{label}: backfilling every order"
        if mark is None
        else f"{label}: pulling updates after {iso_utc(since)} "
        f"(high-water mark {iso_utc(mark.updated_at)} minus {overlap})"
    )
    started_wall, started = datetime.now(UTC), time.monotonic()
    folder = states.files_dir(platform, store)
    batch_number = 1
    batch = _Batch(folder, pull_file_name(started_wall, batch_number))
    pages_in_batch = 0
    last_time: datetime | None = None
    pull_seen: set[SnapshotKey] = set()

    def commit() -> None:
        path = batch.commit()
        state.advance(batch.max_mark, batch.keys, overlap)
        if path is not None:
            state.last_file = path.relative_to(landing_dir).as_posix()
            report.files.append(state.last_file)
        states.save(state)

    try:
        for page in puller.pull(HighWaterMark(since) if since else None):
            fresh = skipped = 0
            for record in page.records:
                report.orders_read += 1
                key = puller.snapshot_key(record)
                if key is None:
                    batch.add(record, None)
                    report.without_key += 1
                    continue
                if key in pull_seen or (since is not None and key.updated_at < since):
                    skipped += 1
                    continue
                if last_time is not None and key.updated_at < last_time:
                    raise StorefrontOrderingError(
                        f"{label}: the API returned order {key.order_id} updated "
                        f"{iso_utc(key.updated_at)} after one updated {iso_utc(last_time)}; "
                        "it is not sorting by update time, so pulling on could skip updates"
                    )
                last_time = key.updated_at
                pull_seen.add(key)
                if batch.max_mark is None or key.mark > batch.max_mark:
                    batch.max_mark = key.mark
                if state.already_landed(key):
                    skipped += 1
                    continue
                batch.add(record, key)
                fresh += 1
            report.pages += 1
            report.snapshots_landed += fresh
            report.already_landed += skipped
            pages_in_batch += 1
            say(_page_line(label, page, report, fresh, skipped, last_time))
            if pages_in_batch >= pages_per_commit:
                commit()
                batch_number += 1
                batch = _Batch(folder, pull_file_name(started_wall, batch_number))
                pages_in_batch = 0
                if last_time is not None:
                    floor = last_time - _PULL_SEEN_WINDOW
                    pull_seen = {k for k in pull_seen if k.updated_at >= floor}
        commit()
    except BaseException:
        batch.abort()
        say(
            f"{label}: pull stopped; committed up to "
            f"{iso_utc(state.high_water_mark.updated_at) if state.high_water_mark else 'nothing'}, "
            "the rest will be pulled again"
        )
        raise
    state.pulls_completed += 1
    state.last_completed_at = iso_utc(datetime.now(UTC))
    states.save(state)
    report.mark_after = state.high_water_mark
    report.seconds = time.monotonic() - started
    say(report.summary())
    return report


def _page_line(
    label: str, page: Any, report: PullReport, fresh: int, skipped: int, last: datetime | None
) -> str:
    of = f"/{page.total_pages}" if page.total_pages else ""
    total = f" of ~{page.total_records}" if page.total_records is not None else ""
    upto = f", updated up to {iso_utc(last)}" if last else ""
    return (
        f"{label}: page {report.pages}{of}: {len(page.records)} orders "
        f"({report.orders_read} read so far{total}), {fresh} new snapshots, "
        f"{skipped} already landed{upto}"
    )


def _fold_uncommitted(
    states: StateStore, state: StoreState, puller: StorefrontPuller, overlap: timedelta
) -> list[str]:
    """Bring the state up to the pull files committed after its last save."""
    folded: list[str] = []
    for path in states.uncommitted_files(state):
        keys: set[SnapshotKey] = set()
        top: HighWaterMark | None = None
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                key = puller.snapshot_key(json.loads(line))
                if key is not None:
                    keys.add(key)
                    top = key.mark if top is None or key.mark > top else top
        state.advance(top, keys, overlap)
        state.last_file = path.relative_to(states.landing_dir).as_posix()
        folded.append(state.last_file)
    if folded:
        states.save(state)
    return folded
