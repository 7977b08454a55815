"""The Parquet copy of the raw tables, in the layout ingestion writes behind
COD360_RAW_PARQUET_DIR: ``<root>/<table>/load_date=YYYY-MM-DD/<file_sha256>.parquet``
with exactly the columns of ``raw.<table>`` (the payload as JSON text).

Until the ingestion's own copy lands, the cross-engine test makes it from the DuckDB
warehouse the product's loader filled, one file per loaded batch. raw.phone_numbers
(filled by connectors/phones.py, not by batches) is one unpartitioned file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# Timestamps are written with their UTC offset (Parquet isAdjustedToUTC), which Spark
# reads as its `timestamp`; a naive Parquet timestamp would be Spark's timestamp_ntz.
_TIMESTAMP_COLUMNS = {"loaded_at", "quarantined_at", "normalised_at"}


def _select_list(conn: duckdb.DuckDBPyConnection, table: str) -> str:
    columns = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    parts = []
    for name, data_type in columns:
        if name in _TIMESTAMP_COLUMNS:
            parts.append(f"cast({name} as timestamptz) as {name}")
        elif data_type == "JSON":
            parts.append(f"cast({name} as varchar) as {name}")
        else:
            parts.append(name)
    return ", ".join(parts)


def write_raw_parquet(warehouse: Path, root: Path, tables: list[str]) -> dict[str, int]:
    """Write every raw table of ``tables`` under ``root``; returns the files per table."""
    files: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        for table in tables:
            folder = root / table
            folder.mkdir(parents=True, exist_ok=True)
            select = _select_list(conn, table)
            if table == "phone_numbers":
                conn.execute(
                    f"copy (select {select} from raw.{table}) "
                    f"to '{folder / 'phone_numbers.parquet'}' (format parquet)"
                )
                files[table] = 1
                continue
            loaded_at = "quarantined_at" if table == "quarantine" else "loaded_at"
            batches = conn.execute(
                f"select distinct cast({loaded_at} as date), file_sha256 from raw.{table}"
            ).fetchall()
            for load_date, sha in batches:
                part = folder / f"load_date={load_date.isoformat()}"
                part.mkdir(exist_ok=True)
                # COPY takes no parameters; a date and a hex digest are safe literals.
                assert all(c in "0123456789abcdef" for c in sha), sha
                conn.execute(
                    f"copy (select {select} from raw.{table} "
                    f"where cast({loaded_at} as date) = date '{load_date.isoformat()}' "
                    f"and file_sha256 = '{sha}') "
                    f"to '{part / (sha + '.parquet')}' (format parquet)"
                )
            files[table] = len(batches)
    return files
