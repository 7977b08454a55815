"""The receiver's landing files: names, crash recovery, the one-writer lock.

A landing file is written as ``<dir>/<source>_<UTC stamp>_<seq>.jsonl.open``
and renamed to ``.jsonl`` when closed; the ingestion ignores ``.open`` names,
so it only ever reads closed, immutable files (docs/landing.md), and the
landing sensor finds them with its own cursor.
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
    """Stamp the close time as mtime (the landing sensor's cursor reads it), rename, fsync the folder."""
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
