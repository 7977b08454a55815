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


def _lines(data: bytes) -> list[bytes]:
    """Lines as the loader reads them (split on ``\\n`` only), each with its newline."""
    if not data:
        return []
    lines = [line + b"\n" for line in data.split(b"\n")]
    if data.endswith(b"\n"):
        lines.pop()
    else:
        lines[-1] = lines[-1][:-1]
    return lines


def _is_record(line: bytes) -> bool:
    return bool(line.strip())


def split_lines(
    lines: list[bytes], *, has_header: bool, delta_fraction: float
) -> tuple[list[bytes], list[bytes], int]:
    """(base lines, delta lines, records): the delta is the last records of the file.

    The delta gets ``round(records × delta_fraction)`` records (no minimum, so the
    delta stays about ``delta_fraction`` of the whole store even with many small
    files); a CSV header opens both halves.
    """
    header, body = (lines[:1], lines[1:]) if has_header and lines else ([], lines)
    record_positions = [i for i, line in enumerate(body) if _is_record(line)]
    records = len(record_positions)
    delta_records = int(records * delta_fraction + 0.5)
    if delta_records == 0:
        return lines, [], records
    cut = record_positions[records - delta_records]
    return header + body[:cut], header + body[cut:], records


def _publish(path: Path, lines: list[bytes]) -> None:
    """Write a closed landing file: a temporary name the loader ignores, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.writelines(lines)
    os.replace(tmp, path)


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
        base, delta, records = split_lines(
            _lines(path.read_bytes()),
            has_header=path.suffix == ".csv",
            delta_fraction=delta_fraction,
        )
        _publish(base_dir / rel, base)
        delta_rel = None
        if delta:
            delta_rel = delta_name(rel)
            _publish(delta_dir / delta_rel, delta)
        delta_count = sum(
            1 for line in delta[1 if rel.suffix == ".csv" else 0 :] if _is_record(line)
        )
        splits.append(
            FileSplit(
                path=rel.as_posix(),
                records=records,
                base_records=records - delta_count,
                delta_records=delta_count,
                delta_path=delta_rel.as_posix() if delta_rel else None,
            )
        )
    return splits


def count_records(path: Path) -> int:
    """Records in one landing file, as the loader counts them (header and blanks excluded)."""
    lines = _lines(path.read_bytes())
    if path.suffix == ".csv":
        lines = lines[1:]
    return sum(1 for line in lines if _is_record(line))


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
