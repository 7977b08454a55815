"""The receiver's landing files: names, crash recovery, and the list of closed files.

A landing file is written as ``<dir>/<source>_<UTC stamp>_<seq>.jsonl.open``
and renamed to ``.jsonl`` when closed; the ingestion ignores ``.open`` names,
so it only ever reads closed, immutable files (docs/landing.md).

``closed_files`` is the function a Dagster sensor polls: it returns the closed
files it has not reported yet and a cursor string to store for the next tick.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger("cod360.webhooks")

OPEN_SUFFIX = ".open"
CLOSED_SUFFIX = ".jsonl"
LOCK_NAME = ".webhooks.lock"

# Where each endpoint lands, relative to the landing folder, and the raw table
# (docs/landing.md) that reads it. Shopify and LightFunnels webhook bodies are
# REST-shaped, not the GraphQL nodes of `orders/shopify/`: they are separate
# sources the ingestion maps on their own.
SOURCE_ROOTS: dict[str, tuple[str, str | None]] = {
    "whatsapp": ("messages/whatsapp", "whatsapp_webhooks"),
    "shopify": ("orders/shopify_webhooks", "shopify_order_webhooks"),
    "shopify_other": ("other/shopify_webhooks", None),  # non-order topics: kept, not ingested
    "lightfunnels": ("orders/lightfunnels", "lightfunnels_orders"),
    "lightfunnels_other": ("other/lightfunnels_webhooks", None),  # non-order event types
    "carriers": ("tracking", "carrier_tracking_events"),
}

FILE_NAME = re.compile(
    r"^(?P<prefix>[a-z0-9][a-z0-9_-]*)_(?P<stamp>\d{8}T\d{12}Z)_(?P<seq>\d{6,})\.jsonl$"
)


def file_stem(prefix: str, seq: int, now: datetime | None = None) -> str:
    """``<prefix>_<YYYYMMDDTHHMMSSffffff>Z_<seq>``: sorts by opening time within a folder."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{prefix}_{stamp}_{seq:06d}"


def fsync_dir(path: Path) -> None:
    """Make a create / rename in ``path`` durable (POSIX needs the directory fsynced)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _receiver_files(landing_dir: Path, suffix: str) -> list[Path]:
    """The receiver's files ending in ``suffix`` (``.jsonl`` or ``.jsonl.open``), by path."""
    found: list[Path] = []
    for root, _ in SOURCE_ROOTS.values():
        base = landing_dir / root
        if not base.is_dir():
            continue
        for path in base.rglob(f"*{suffix}"):
            name = path.name[: -len(OPEN_SUFFIX)] if suffix.endswith(OPEN_SUFFIX) else path.name
            if FILE_NAME.match(name) and path.is_file():
                found.append(path)
    return sorted(found)


def source_of(relative_path: str) -> tuple[str, str | None]:
    """``(source, raw table)`` for a landing-relative path written by the receiver."""
    for source, (root, table) in SOURCE_ROOTS.items():
        if relative_path.startswith(root + "/"):
            return source, table
    raise ValueError(f"{relative_path} is not under a webhook landing folder")


# --- crash recovery --------------------------------------------------------------


@dataclass(frozen=True)
class RecoveredFile:
    """What recovery did with one ``.open`` file left by a crash."""

    open_path: Path
    closed_path: Path | None  # None when nothing complete was left and the file was removed
    lines_kept: int
    partial_bytes_dropped: int
    corrupt_lines: int  # complete lines that were not JSON, moved to ``<closed>.corrupt``


def recover_open_files(landing_dir: Path) -> list[RecoveredFile]:
    """Close every ``.open`` file a crashed receiver left, keeping only complete lines.

    A write interrupted by a kill can leave a trailing partial line (no ``\\n``):
    it was never acknowledged (the answer comes after the fsync), so it is cut.
    Complete lines that are not JSON (possible only after a power loss) are moved
    aside to ``<name>.jsonl.corrupt`` rather than dropped. Must run before the
    receiver writes, under the landing lock. A file that cannot be recovered is
    logged and left as it is (never ingested); the others are still recovered.
    """
    recovered: list[RecoveredFile] = []
    for path in _receiver_files(landing_dir, CLOSED_SUFFIX + OPEN_SUFFIX):
        try:
            recovered.append(_recover(path, landing_dir))
        except OSError as exc:
            logger.error("recovery: could not close %s: %s", path.relative_to(landing_dir), exc)
    return recovered


def _recover(open_path: Path, landing_dir: Path) -> RecoveredFile:
    data = open_path.read_bytes()
    end = data.rfind(b"\n") + 1  # 0 when there is no complete line
    partial = len(data) - end
    good: list[bytes] = []
    bad: list[bytes] = []
    for line in data[:end].splitlines():
        try:
            json.loads(line)
        except ValueError:
            bad.append(line)
        else:
            good.append(line)

    closed_path = open_path.with_name(open_path.name[: -len(OPEN_SUFFIX)])
    relative = open_path.relative_to(landing_dir)
    if not good and not bad:
        open_path.unlink()
        fsync_dir(open_path.parent)
        logger.warning(
            "recovery: removed %s (no complete line, %d partial bytes)", relative, partial
        )
        return RecoveredFile(open_path, None, 0, partial, 0)

    if bad:
        corrupt = closed_path.with_name(closed_path.name + ".corrupt")
        _write_durably(corrupt, b"".join(line + b"\n" for line in bad))
        if not good:
            open_path.unlink()
            fsync_dir(open_path.parent)
            logger.warning("recovery: %s held only corrupt lines, set aside", relative)
            return RecoveredFile(open_path, None, 0, partial, len(bad))
        _write_durably(open_path, b"".join(line + b"\n" for line in good))
    elif partial:
        with open(open_path, "r+b") as handle:
            handle.truncate(end)
            handle.flush()
            os.fsync(handle.fileno())
    _close_file(open_path, closed_path)
    logger.warning(
        "recovery: closed %s with %d lines (%d partial bytes cut, %d corrupt lines set aside)",
        relative,
        len(good),
        partial,
        len(bad),
    )
    return RecoveredFile(open_path, closed_path, len(good), partial, len(bad))


def _write_durably(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _close_file(open_path: Path, closed_path: Path) -> None:
    """Stamp the close time as mtime (``closed_files`` orders by it), rename, fsync the folder."""
    now = time.time_ns()
    os.utime(open_path, ns=(now, now))
    if closed_path.exists():  # never overwrite a closed file (they are immutable)
        raise FileExistsError(f"{closed_path} already exists; leaving {open_path.name} in place")
    os.rename(open_path, closed_path)
    fsync_dir(closed_path.parent)


# --- single receiver per landing folder ------------------------------------------


class LandingLock:
    """An exclusive ``flock`` on ``<landing>/.webhooks.lock``.

    Recovery closes every ``.open`` file it finds, which is only safe when no
    other receiver is writing them: a second receiver on the same folder fails
    to start instead. The kernel drops the lock when the process dies.
    """

    def __init__(self, landing_dir: Path) -> None:
        self.path = landing_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RuntimeError(
                f"another webhook receiver is already writing {self.path.parent} (lock {self.path.name})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


# --- what a sensor polls ---------------------------------------------------------

DEFAULT_GRACE_SECONDS = 300.0


@dataclass(frozen=True)
class ClosedFile:
    """A closed (immutable) landing file written by the receiver."""

    path: Path
    relative_path: str  # POSIX, relative to the landing folder
    source: str  # a key of SOURCE_ROOTS: whatsapp, shopify, lightfunnels, carriers, ..._other
    raw_table: str | None  # the raw table that ingests it; None for files kept but not ingested
    size: int
    closed_at_ns: int  # wall-clock close time (the file's mtime, stamped at close)


@dataclass(frozen=True)
class ClosedFiles:
    """New closed files, oldest close first, and the cursor to pass next time."""

    files: list[ClosedFile]
    cursor: str


def closed_files(
    landing_dir: str | Path,
    since_cursor: str | None = None,
    *,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
) -> ClosedFiles:
    """Closed receiver files not reported since ``since_cursor`` (``None``: all of them).

    For a Dagster sensor::

        batch = closed_files(landing_dir, context.cursor)
        for f in batch.files: ...  # RunRequest(run_key=f.relative_path, ...)
        context.update_cursor(batch.cursor)

    Files are ordered by close time (mtime, stamped at close; opening times in
    names do not give close order across folders). The cursor keeps a watermark
    plus the paths closed within ``grace_seconds`` of it, so a file whose rename
    lands just after a newer one is still reported, and none is reported twice.
    The cursor stays small: only the last ``grace_seconds`` of files.
    """
    landing = Path(landing_dir)
    state = _parse_cursor(since_cursor)
    mark: int = state["mark_ns"]
    seen: set[str] = set(state["seen"])
    grace_ns = int(grace_seconds * 1e9)

    found: list[ClosedFile] = []
    for path in _receiver_files(landing, CLOSED_SUFFIX):
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed by someone else between listing and stat
            continue
        relative = path.relative_to(landing).as_posix()
        source, table = source_of(relative)
        found.append(ClosedFile(path, relative, source, table, stat.st_size, stat.st_mtime_ns))

    new = [f for f in found if f.closed_at_ns > mark - grace_ns and f.relative_path not in seen]
    new.sort(key=lambda f: (f.closed_at_ns, f.relative_path))
    new_mark = max([mark, *(f.closed_at_ns for f in new)])
    reported = seen | {f.relative_path for f in new}
    keep = {
        f.relative_path
        for f in found
        if f.closed_at_ns > new_mark - grace_ns and f.relative_path in reported
    }
    cursor = json.dumps({"v": 1, "mark_ns": new_mark, "seen": sorted(keep)}, separators=(",", ":"))
    return ClosedFiles(new, cursor)


def _parse_cursor(cursor: str | None) -> dict:
    if not cursor:
        return {"mark_ns": 0, "seen": []}
    try:
        state = json.loads(cursor)
        return {"mark_ns": int(state["mark_ns"]), "seen": list(state["seen"])}
    except (ValueError, KeyError, TypeError):
        raise ValueError("not a closed_files cursor") from None
