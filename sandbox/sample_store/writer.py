"""Streaming, atomic, time-ordered writing of the landing files.

Records are handed over with the time they *arrive* in the landing folder
(``write_ts``, unix seconds). They are kept in per-day buckets until the
simulation has moved past that day (no later record can arrive before it), then
sorted and appended to their monthly file. Memory therefore holds only the
records still "in flight" (a couple of weeks of traffic), never the whole run.

Every file is written as ``<name>.tmp`` and renamed when the run completes, so
the ingestion (which ignores ``*.tmp``) never sees half a file.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
dumps = _ENCODER.encode

DAY = 86_400


@dataclass(frozen=True)
class FileKind:
    """One family of monthly files: ``template`` has a ``{month}`` placeholder."""

    key: str
    source: str  # the raw table / landing source it feeds
    template: str
    csv_columns: tuple[str, ...] | None = None  # None: JSON lines


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def csv_escape(value: object) -> str:
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(columns: tuple[str, ...], row: dict) -> str:
    return ",".join(csv_escape(row.get(column)) for column in columns)


@dataclass
class WriteStats:
    lines_by_file: dict[str, int] = field(default_factory=dict)
    lines_by_source: dict[str, int] = field(default_factory=dict)
    dropped_after_end: int = 0


class LandingWriter:
    """Buckets records by arrival day, flushes finished days in time order."""

    def __init__(self, out_dir: Path, kinds: list[FileKind], month_starts: list[int], end_ts: int):
        self.out_dir = out_dir
        self.kinds = {kind.key: kind for kind in kinds}
        self._month_starts = month_starts  # unix ts of each month's first second (UTC)
        self._month_labels = [time.strftime("%Y-%m", time.gmtime(ts)) for ts in month_starts]
        self.end_ts = end_ts
        # lines are kept as UTF-8 bytes: half the memory of a str holding any accented letter
        self._buckets: dict[int, list[tuple[int, int, str, bytes]]] = defaultdict(list)
        self._seq = 0
        self._flushed_day = -1
        self._handles: dict[str, IO[bytes]] = {}
        self.stats = WriteStats()

    # ------------------------------------------------------------------ emit

    def emit(self, write_ts: int, kind_key: str, line: str) -> bool:
        """Queue one line; False (and nothing written) when it arrives after the end date."""
        if write_ts > self.end_ts:
            self.stats.dropped_after_end += 1
            return False
        self._seq += 1
        self._buckets[write_ts // DAY].append((write_ts, self._seq, kind_key, line.encode()))
        return True

    def flush_before(self, ts: int) -> None:
        """Write every bucket of a day that ended before ``ts``'s day."""
        day = ts // DAY
        if day <= self._flushed_day:
            return
        self._flushed_day = day
        for bucket_day in sorted(d for d in self._buckets if d < day):
            self._write_bucket(self._buckets.pop(bucket_day))

    def close(self) -> list[str]:
        """Flush everything, close and atomically rename every file; return their paths."""
        for bucket_day in sorted(self._buckets):
            self._write_bucket(self._buckets.pop(bucket_day))
        written = []
        for rel, handle in sorted(self._handles.items()):
            handle.close()
            final = self.out_dir / rel
            os.replace(final.with_name(final.name + ".tmp"), final)
            written.append(rel)
        self._handles.clear()
        return written

    def abort(self) -> None:
        """Close and delete the temporary files (used when generation fails)."""
        for rel, handle in self._handles.items():
            handle.close()
            tmp = self.out_dir / (rel + ".tmp")
            tmp.unlink(missing_ok=True)
        self._handles.clear()

    # ------------------------------------------------------------------ internals

    def _write_bucket(self, rows: list[tuple[int, int, str, bytes]]) -> None:
        if not rows:
            return
        rows.sort()
        # a bucket is one UTC day, and months start at UTC midnight: one month per bucket
        index = bisect.bisect_right(self._month_starts, rows[0][0]) - 1
        label = self._month_labels[max(index, 0)]
        per_kind: dict[str, list[bytes]] = {}
        for _write_ts, _seq, kind_key, line in rows:
            lines = per_kind.get(kind_key)
            if lines is None:
                lines = per_kind[kind_key] = []
            lines.append(line)
        for kind_key, lines in per_kind.items():
            kind = self.kinds[kind_key]
            rel = kind.template.format(month=label)
            handle = self._handles.get(rel)
            if handle is None:
                handle = self._open(rel, kind)
            handle.write(b"\n".join(lines))
            handle.write(b"\n")
            self.stats.lines_by_file[rel] = self.stats.lines_by_file.get(rel, 0) + len(lines)
            self.stats.lines_by_source[kind.source] = self.stats.lines_by_source.get(
                kind.source, 0
            ) + len(lines)

    def _open(self, rel: str, kind: FileKind) -> IO[bytes]:
        path = self.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(  # noqa: SIM115 - kept open for the whole run, closed in close()
            path.with_name(path.name + ".tmp"), "wb", buffering=1 << 20
        )
        if kind.csv_columns is not None:
            handle.write((",".join(kind.csv_columns) + "\n").encode())
        self._handles[rel] = handle
        return handle


def write_csv_atomic(path: Path, columns: list[str], rows) -> int:
    """Write a small CSV (truth files) atomically; return the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    cols = tuple(columns)
    with open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as handle:
        handle.write(",".join(columns) + "\n")
        for row in rows:
            handle.write(csv_line(cols, row))
            handle.write("\n")
            count += 1
    os.replace(tmp, path)
    return count


class StreamingCsv:
    """A CSV written row by row to ``<name>.tmp`` and renamed on close."""

    def __init__(self, path: Path, columns: list[str]):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.columns = tuple(columns)
        self._tmp = path.with_name(path.name + ".tmp")
        self._handle = open(  # noqa: SIM115 - closed in close()
            self._tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20
        )
        self._handle.write(",".join(columns) + "\n")
        self.rows = 0

    def write(self, row: dict) -> None:
        self._handle.write(csv_line(self.columns, row))
        self._handle.write("\n")
        self.rows += 1

    def write_values(self, values: tuple[str, ...]) -> None:
        """A row of already-safe strings (no comma, quote or newline), in column order."""
        self._handle.write(",".join(values))
        self._handle.write("\n")
        self.rows += 1

    def close(self) -> None:
        self._handle.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        self._handle.close()
        self._tmp.unlink(missing_ok=True)
