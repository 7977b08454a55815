"""Durable, atomic appends to one landing folder: one writer task, group commit, rotation.

Each landing folder has exactly one ``LandingWriter`` and each writer one task,
so concurrent requests never interleave bytes. Requests queue their lines; the
task takes everything queued, writes it with one ``os.write`` and one
``os.fsync`` in a worker thread (the event loop never blocks on the disk), and
only then resolves the requests' futures: an answered request is on disk.
Under load many requests share one fsync.

Files rotate (fsync, close, rename ``.jsonl.open`` → ``.jsonl``) after
``rotate_seconds`` since they opened, before they would pass ``rotate_bytes``,
and on shutdown. No file is created until there is a line to write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from connectors.webhooks.files import CLOSED_SUFFIX, OPEN_SUFFIX, _close_file, file_stem, fsync_dir

logger = logging.getLogger("cod360.webhooks")

MAX_BATCH_BYTES = 4 * 1024 * 1024  # bounds the memory and the latency of one write


class WriterClosed(RuntimeError):
    """The writer is shutting down and takes no more lines."""


@dataclass
class _Append:
    data: bytes
    future: asyncio.Future[str]


class LandingWriter:
    """Appends JSON lines to ``<landing>/<relative_dir>/<prefix>_<stamp>_<seq>.jsonl.open``."""

    def __init__(
        self,
        landing_dir: Path,
        relative_dir: str,
        prefix: str,
        *,
        rotate_seconds: float,
        rotate_bytes: int,
    ) -> None:
        self.landing_dir = landing_dir
        self.relative_dir = relative_dir
        self.prefix = prefix
        self.rotate_seconds = rotate_seconds
        self.rotate_bytes = rotate_bytes
        self.files_closed = 0
        self.lines_written = 0
        self._pending: deque[_Append] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._seq = 0
        self._fd: int | None = None
        self._open_path: Path | None = None
        self._closed_path: Path | None = None
        self._size = 0
        self._opened_at = 0.0

    async def append(self, lines: Sequence[bytes]) -> str:
        """Append ``lines`` (each without a newline) and return once they are fsynced.

        Returns the landing-relative path the lines will have once the file is
        closed. Raises ``WriterClosed`` during shutdown and ``OSError`` when the
        disk write failed (then none of ``lines`` is in the file).
        """
        if self._closing:
            raise WriterClosed(self.relative_dir)
        if not lines or any(b"\n" in line or b"\r" in line for line in lines):
            raise ValueError("lines must be non-empty and single-line")
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending.append(_Append(b"".join(line + b"\n" for line in lines), future))
        if self._task is None:
            self._task = asyncio.create_task(
                self._run(), name=f"landing-writer:{self.relative_dir}"
            )
        self._wakeup.set()
        # shield: a client that goes away does not cancel the write others share
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Write what is queued, close the open file (rename to ``.jsonl``) and stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task

    # --- the writer task ---------------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                if not self._pending:
                    if self._closing:
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), self._seconds_to_rotation())
                    self._wakeup.clear()
                batch = self._take_batch()
                if batch:
                    await self._commit(batch)
                if (
                    self._fd is not None
                    and time.monotonic() - self._opened_at >= self.rotate_seconds
                ):
                    await self._rotate_in_thread()
            if self._fd is not None:
                await self._rotate_in_thread()
        finally:
            # Only reached early if the task itself is cancelled: nobody may wait forever.
            while self._pending:
                item = self._pending.popleft()
                if not item.future.done():
                    item.future.set_exception(WriterClosed(self.relative_dir))

    async def _rotate_in_thread(self) -> None:
        try:
            await asyncio.to_thread(self._rotate)
        except (
            OSError
        ) as exc:  # the lines were fsynced already; the file stays .open until recovery
            logger.error("could not close a landing file in %s: %s", self.relative_dir, exc)

    def _seconds_to_rotation(self) -> float | None:
        if self._fd is None:
            return None
        return max(0.0, self._opened_at + self.rotate_seconds - time.monotonic())

    def _take_batch(self) -> list[_Append]:
        batch: list[_Append] = []
        size = 0
        while self._pending and (not batch or size + len(self._pending[0].data) <= MAX_BATCH_BYTES):
            item = self._pending.popleft()
            batch.append(item)
            size += len(item.data)
        return batch

    async def _commit(self, batch: list[_Append]) -> None:
        data = b"".join(item.data for item in batch)
        try:
            path = await asyncio.to_thread(self._write, data)
        except Exception as exc:
            # The OSError names the file, never the payload.
            logger.error("landing write failed in %s: %s", self.relative_dir, exc)
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
                    # mark it retrieved: if its client left, nobody awaits it
                    item.future.exception()
            return
        self.lines_written += data.count(b"\n")
        for item in batch:
            if not item.future.done():
                item.future.set_result(path)

    # --- runs in a worker thread, one at a time per writer ------------------------

    def _write(self, data: bytes) -> str:
        if self._fd is not None and self._size and self._size + len(data) > self.rotate_bytes:
            self._rotate()
        if self._fd is None:
            self._open()
        assert self._fd is not None and self._closed_path is not None
        start = self._size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            os.fsync(self._fd)
        except BaseException:
            # Cut what this batch wrote so the file keeps only complete,
            # acknowledged lines, and start a fresh file next time.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)
                os.fsync(self._fd)
            self._rotate()
            raise
        self._size += len(data)
        return self._closed_path.relative_to(self.landing_dir).as_posix()

    def _open(self) -> None:
        folder = self.landing_dir / self.relative_dir
        missing = [p for p in (folder, *folder.parents) if not p.is_dir()]
        for created in reversed(missing):  # top-down; each new entry made durable in its parent
            created.mkdir(exist_ok=True)
            fsync_dir(created.parent)
        while True:
            self._seq += 1
            stem = file_stem(self.prefix, self._seq)
            closed_path = folder / (stem + CLOSED_SUFFIX)
            open_path = folder / (stem + CLOSED_SUFFIX + OPEN_SUFFIX)
            if closed_path.exists():
                continue
            try:
                fd = os.open(
                    open_path,
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC,
                    0o644,
                )
            except FileExistsError:
                continue
            break
        fsync_dir(folder)
        self._fd, self._open_path, self._closed_path = fd, open_path, closed_path
        self._size = 0
        self._opened_at = time.monotonic()

    def _rotate(self) -> None:
        fd, open_path, closed_path = self._fd, self._open_path, self._closed_path
        self._fd = self._open_path = self._closed_path = None
        self._size = 0
        if fd is None or open_path is None or closed_path is None:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.path.getsize(open_path) == 0:  # a failed first write: nothing to publish
            open_path.unlink()
            return
        try:
            _close_file(open_path, closed_path)
        except OSError as exc:  # left as .open: the next start's recovery closes it
            logger.error("could not close %s: %s", open_path.name, exc)
            return
        self.files_closed += 1
        logger.debug("closed %s", closed_path.relative_to(self.landing_dir))
