"""Per-store pull state: the high-water mark and the snapshots landed inside the overlap.

One small JSON file per store, ``<landing>/_state/storefronts/<platform>/<store>.json``,
replaced atomically (write ``.tmp``, fsync, rename, fsync the folder).

Why a file beside the landing folder and not a warehouse table: the landed
``pull_*.jsonl`` files *are* the commit log, so the state only has to agree
with them, and it can: both live on the same disk, and the state is rebuilt
from the files when they disagree (:meth:`StateStore.uncommitted_files`). A
warehouse table would also put the pulls on DuckDB's single write lock, which
ingestion and dbt hold for minutes, and would lose the mark whenever the
warehouse is rebuilt from the landing folder. Nothing here is ingested: no
ingestion pattern matches ``_state/``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.storefronts.base import (
    HighWaterMark,
    SnapshotKey,
    StorefrontPullError,
    parse_utc,
)
from connectors.webhooks.files import file_stem, fsync_dir

STATE_ROOT = Path("_state") / "storefronts"
PULL_PREFIX = "pull_"
STATE_VERSION = 1


def store_dir(landing_dir: Path, platform: str, store: str, files_root: str = "orders") -> Path:
    """Where a store's pull files land: ``orders/<platform>/<store>/`` (docs/landing.md).

    Other pulls on the same engine land elsewhere (the carrier tracking pulls:
    ``files_root="tracking"``)."""
    return landing_dir / files_root / platform / store


@dataclass
class StoreState:
    """What has been landed for one store."""

    store: str
    platform: str
    high_water_mark: HighWaterMark | None = None
    # Snapshots landed with updated_at inside the overlap window below the mark:
    # the next pull reads them again and must not land them twice.
    recent: set[SnapshotKey] = field(default_factory=set)
    last_file: str | None = None  # landing-relative path of the last committed pull file
    pulls_completed: int = 0
    snapshots_landed: int = 0
    last_completed_at: str | None = None

    def already_landed(self, key: SnapshotKey) -> bool:
        return key in self.recent

    def advance(
        self, mark: HighWaterMark | None, landed: set[SnapshotKey], overlap: timedelta
    ) -> None:
        """Move the mark up to ``mark`` (never down), remember ``landed``, forget what fell
        below the overlap window."""
        if mark is not None and (self.high_water_mark is None or mark > self.high_water_mark):
            self.high_water_mark = mark
        self.recent |= landed
        self.snapshots_landed += len(landed)
        if self.high_water_mark is not None:
            floor = self.high_water_mark.updated_at - overlap
            self.recent = {k for k in self.recent if k.updated_at >= floor}

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "store": self.store,
            "platform": self.platform,
            "high_water_mark": self.high_water_mark.to_json() if self.high_water_mark else None,
            "recent_snapshots": sorted(k.to_json() for k in self.recent),
            "last_file": self.last_file,
            "pulls_completed": self.pulls_completed,
            "snapshots_landed": self.snapshots_landed,
            "last_completed_at": self.last_completed_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoreState:
        return cls(
            store=data["store"],
            platform=data["platform"],
            high_water_mark=HighWaterMark.from_json(data.get("high_water_mark")),
            recent={SnapshotKey(i, parse_utc(t)) for i, t in data.get("recent_snapshots", [])},
            last_file=data.get("last_file"),
            pulls_completed=int(data.get("pulls_completed", 0)),
            snapshots_landed=int(data.get("snapshots_landed", 0)),
            last_completed_at=data.get("last_completed_at"),
        )


class StateStore:
    """Reads and atomically replaces the state files under ``<landing>/_state/storefronts``.

    ``state_root`` / ``files_root`` let another pull reuse the engine with its own
    bookkeeping folder and landing folder (carrier tracking: ``_state/carriers``,
    ``tracking/``)."""

    def __init__(
        self, landing_dir: Path, state_root: Path = STATE_ROOT, files_root: str = "orders"
    ) -> None:
        self.landing_dir = Path(landing_dir)
        self.state_root = Path(state_root)
        self.files_root = files_root

    def path(self, platform: str, store: str) -> Path:
        return self.landing_dir / self.state_root / platform / f"{store}.json"

    def files_dir(self, platform: str, store: str) -> Path:
        return store_dir(self.landing_dir, platform, store, self.files_root)

    def load(self, platform: str, store: str) -> StoreState:
        path = self.path(platform, store)
        if not path.exists():
            return StoreState(store=store, platform=platform)
        state = StoreState.from_json(json.loads(path.read_text(encoding="utf-8")))
        if (state.platform, state.store) != (platform, store):
            raise ValueError(f"{path} belongs to {state.platform}/{state.store}")
        return state

    def save(self, state: StoreState) -> None:
        path = self.path(state.platform, state.store)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state.to_json(), handle, indent=1, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)

    @contextlib.contextmanager
    def exclusive(self, platform: str, store: str) -> Iterator[None]:
        """Hold the store's lock for a pull: two pulls of one store never run at once."""
        path = self.path(platform, store).with_suffix(".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StorefrontPullError(
                    f"store '{store}' ({platform}): another pull of this store is running"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def uncommitted_files(self, state: StoreState) -> list[Path]:
        """Pull files renamed into place after the state was last saved (a crash between
        the rename and the state write): the caller folds them into the state."""
        folder = self.files_dir(state.platform, state.store)
        if not folder.is_dir():
            return []
        last = Path(state.last_file).name if state.last_file else ""
        return sorted(
            p for p in folder.glob(f"{PULL_PREFIX}*.jsonl") if p.is_file() and p.name > last
        )

    def remove_stale_temporaries(self, platform: str, store: str) -> list[Path]:
        """Delete ``pull_*.jsonl.tmp`` left by a pull that died before committing them."""
        folder = self.files_dir(platform, store)
        stale = sorted(folder.glob(f"{PULL_PREFIX}*.jsonl.tmp")) if folder.is_dir() else []
        for path in stale:
            path.unlink(missing_ok=True)
        return stale


def pull_file_name(started: datetime, batch: int) -> str:
    """``pull_<UTC start, µs>Z_<batch>.jsonl``, the receiver's naming (``file_stem``): names
    sort in commit order within a store."""
    return f"{file_stem(PULL_PREFIX.rstrip('_'), batch, started)}.jsonl"
