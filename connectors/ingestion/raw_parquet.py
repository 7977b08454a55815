"""Raw tables also as Parquet files, one per loaded batch (for engines that read files).

With ``COD360_RAW_PARQUET_DIR`` set, every landing file loaded into ``raw.<table>`` is
also written as ``<dir>/<table>/load_date=YYYY-MM-DD/<file_sha256>.parquet`` with exactly
the columns of ``raw.<table>`` (``payload`` as the JSON text). ``raw.phone_numbers`` is
written the same way, one file per refresh (``<region>_<normalised_at>.parquet``).

* A file is written under a hidden temporary name (``.<name>.tmp``; Spark and DuckDB
  globs skip dot-files), flushed to disk and renamed: a crash leaves no partial file.
* It is written after the batch's DuckDB commit, from the rows committed; a crash in
  between is repaired by the next run, which writes every batch present in the warehouse
  and missing as a file (:func:`export_missing_batches`). A batch whose file exists is
  never written again, so re-running adds nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class RawBatch:
    """One batch of a raw table: its file name, its load date and the rows that are it."""

    table: str
    name: str
    load_date: str
    where: str  # a SQL predicate on the table selecting the batch's rows
    columns: str = "*"


def batch_path(parquet_dir: Path, batch: RawBatch) -> Path:
    """``<dir>/<table>/load_date=YYYY-MM-DD/<name>.parquet``."""
    return parquet_dir / batch.table / f"load_date={batch.load_date}" / f"{batch.name}.parquet"


def _landing_batches(conn, table: str, shas: Iterable[str] | None = None) -> list[RawBatch]:
    """The landing files loaded into ``raw.<table>`` (with at least one row)."""
    rows = conn.execute(
        "select file_sha256, min(ingested_at) from raw.ingested_files "
        "where source = ? and duplicate_of is null and records_loaded > 0 "
        "group by file_sha256 order by 2, 1",
        [table],
    ).fetchall()
    wanted = None if shas is None else set(shas)
    batches = []
    for sha, ingested_at in rows:
        if not _SHA256.fullmatch(sha) or (wanted is not None and sha not in wanted):
            continue
        batches.append(
            RawBatch(
                table,
                sha,
                f"{ingested_at:%Y-%m-%d}",
                f"file_sha256 = '{sha}'",
                # The raw table's columns, payload as the JSON text it holds and the load
                # time UTC-adjusted (see _portable_columns).
                "record_id, source_file, line_number, cast(payload as varchar) as payload, "
                "file_sha256, timezone('UTC', loaded_at) as loaded_at",
            )
        )
    return batches


def _phone_batches(conn) -> list[RawBatch]:
    """One batch per refresh of ``raw.phone_numbers`` (its rows share ``normalised_at``)."""
    rows = conn.execute(
        "select distinct default_region, normalised_at from raw.phone_numbers order by 2, 1"
    ).fetchall()
    batches = []
    for region, normalised_at in rows:
        if not re.fullmatch(r"[A-Z0-9]{1,8}", region) or not isinstance(normalised_at, datetime):
            continue
        stamp = normalised_at.isoformat(sep=" ")
        batches.append(
            RawBatch(
                "phone_numbers",
                f"{region}_{normalised_at:%Y%m%dT%H%M%S%f}",
                f"{normalised_at:%Y-%m-%d}",
                f"default_region = '{region}' and normalised_at = timestamp '{stamp}'",
            )
        )
    return batches


def _portable_columns(conn, table: str) -> str:
    """The table's columns as engines that read Parquet expect them: timestamps (naive UTC
    in DuckDB) written UTC-adjusted, which Spark reads as its ``timestamp`` (a naive
    Parquet timestamp would be ``timestamp_ntz``), and JSON as its text."""
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    parts = []
    for name, data_type in rows:
        if data_type == "TIMESTAMP":
            parts.append(f"timezone('UTC', {name}) as {name}")
        elif data_type == "JSON":
            parts.append(f"cast({name} as varchar) as {name}")
        else:
            parts.append(name)
    return ", ".join(parts)


def write_batch(conn, parquet_dir: Path, batch: RawBatch) -> Path | None:
    """Write one batch unless its file exists; return the path written (or None)."""
    target = batch_path(parquet_dir, batch)
    if target.exists():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    quoted = str(temporary).replace("'", "''")
    columns = batch.columns if batch.columns != "*" else _portable_columns(conn, batch.table)
    conn.execute(
        f"copy (select {columns} from raw.{batch.table} where {batch.where} "
        f"order by all) to '{quoted}' (format parquet)"
    )
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    return target


def export_missing_batches(
    conn, parquet_dir: Path, table: str, shas: Iterable[str] | None = None
) -> list[Path]:
    """Write every batch of ``raw.<table>`` (``shas``: only those landing files) that has
    no Parquet file yet; return the files written."""
    batches = (
        _phone_batches(conn) if table == "phone_numbers" else _landing_batches(conn, table, shas)
    )
    written = [write_batch(conn, parquet_dir, batch) for batch in batches]
    return [path for path in written if path is not None]


__all__ = ["RawBatch", "batch_path", "export_missing_batches", "write_batch"]
