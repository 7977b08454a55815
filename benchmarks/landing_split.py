"""Split a landing folder into a base and a delta, for incremental-run benchmarks.

Every landing file keeps its first records in a *base* file (same path, same name)
and gives its last ``delta_fraction`` of records to a *delta* file, a new name in the
same folder (``events_2026-03.jsonl`` → ``events_2026-03.delta.jsonl``), so copying the
delta into a landing folder that already ingested the base looks like new files
arriving. Lines within a file are in arrival order (docs/landing.md), so the delta is
the most recent traffic.

The landing contract is kept: one record per line (JSON lines, or CSV rows after a
header that both halves keep), blank lines are not records (the loader skips them),
and files are published closed: written under a ``.tmp`` name, then renamed, because
the loader ignores ``.tmp`` / ``.open`` / ``.part`` names and dot-files.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

DELTA_MARK = ".delta"
# What the loader ignores (connectors/ingestion/loader.py: IN_PROGRESS_SUFFIXES, dot-files).
_NOT_LANDING = (".tmp", ".open", ".part")


@dataclass(frozen=True)
class FileSplit:
    """How one landing file was split (paths relative to the landing folder)."""

    path: str
    records: int
    base_records: int
    delta_records: int
    delta_path: str | None  # None when the file is too small to give a record


def delta_name(path: Path) -> Path:
    """The delta file's name beside ``path``: the mark goes before the suffix, so the
    source's glob (``*.jsonl``, ``*.csv``) still matches it."""
    return path.with_name(f"{path.stem}{DELTA_MARK}{path.suffix}")


def _is_record(line: bytes) -> bool:
    return bool(line.strip())


def count_records(path: Path) -> int:
    """Records in one landing file, as the loader counts them (header and blanks excluded)."""
    with path.open("rb") as handle:
        if path.suffix == ".csv":
            handle.readline()
        # Iterating a binary file splits on b"\n" only, as the loader's JSON-lines reader does.
        return sum(1 for line in handle if _is_record(line))


def _temporary(path: Path) -> Path:
    """A name the loader ignores while the file is written (renamed when closed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(path.name + ".tmp")


def split_file(
    path: Path, base_path: Path, delta_path: Path, *, delta_fraction: float
) -> tuple[int, int]:
    """Write the base and the delta of one file; return (records, delta records).

    The delta gets the last ``round(records × delta_fraction)`` records (no minimum, so
    the delta stays about ``delta_fraction`` of the whole store even with many small
    files; a file too small for one record has no delta file). A CSV header opens both
    halves. Files are streamed, never held in memory, and published closed.
    """
    records = count_records(path)
    delta_records = int(records * delta_fraction + 0.5)
    keep = records - delta_records
    base_tmp, delta_tmp = _temporary(base_path), None
    with path.open("rb") as source, base_tmp.open("wb") as base:
        header = source.readline() if path.suffix == ".csv" else b""
        base.write(header)
        out, seen = base, 0
        for line in source:
            if _is_record(line):
                if seen == keep and delta_tmp is None:
                    delta_tmp = _temporary(delta_path)
                    out = delta_tmp.open("wb")
                    out.write(header)
                seen += 1
            out.write(line)
        if out is not base:
            out.close()
    os.replace(base_tmp, base_path)
    if delta_tmp is not None:
        os.replace(delta_tmp, delta_path)
    return records, delta_records


def landing_file_paths(landing_dir: Path) -> list[Path]:
    """Every closed file of a landing folder (what the loader could ingest), sorted."""
    return sorted(
        path
        for path in landing_dir.rglob("*")
        if path.is_file()
        and not path.name.startswith(".")
        and not path.name.endswith(_NOT_LANDING)
        and not any(part.startswith("_") for part in path.relative_to(landing_dir).parts[:-1])
    )


def split_landing(
    landing_dir: Path, base_dir: Path, delta_dir: Path, *, delta_fraction: float = 0.01
) -> list[FileSplit]:
    """Write the base of every file of ``landing_dir`` under ``base_dir`` and its delta
    under ``delta_dir`` (same relative folders); return one :class:`FileSplit` per file."""
    splits = []
    for path in landing_file_paths(landing_dir):
        rel = path.relative_to(landing_dir)
        delta_rel = delta_name(rel)
        records, delta_records = split_file(
            path, base_dir / rel, delta_dir / delta_rel, delta_fraction=delta_fraction
        )
        splits.append(
            FileSplit(
                path=rel.as_posix(),
                records=records,
                base_records=records - delta_records,
                delta_records=delta_records,
                delta_path=delta_rel.as_posix() if delta_records else None,
            )
        )
    return splits


def copy_landing(source_dir: Path, landing_dir: Path) -> int:
    """Publish every file of ``source_dir`` into ``landing_dir`` (closed files only: each
    is copied to a ``.tmp`` name and renamed). Returns the number of files."""
    copied = 0
    for path in landing_file_paths(source_dir):
        target = landing_dir / path.relative_to(source_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
        copied += 1
    return copied
