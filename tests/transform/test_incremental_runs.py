"""An incremental run gives the warehouse a full rebuild gives (issue 9).

The sample store's landing files are split into a base and a delta (the last records of
every file: late tracking events, newer snapshots of known orders, new orders and
messages). The base is ingested and built; the delta arrives and the project is built
again incrementally; a re-delivered copy of a file arrives and the project is built once
more. Then a copy of that warehouse is rebuilt from raw with ``--full-refresh``, and every
model must hold the same rows in both (the run-bookkeeping columns aside).
"""

from __future__ import annotations

import duckdb
import pytest

from benchmarks.landing_split import copy_landing, split_landing
from tests.transform.conftest import DbtWarehouse

pytestmark = pytest.mark.e2e

# Columns that say when a row was loaded or staged, not what it says.
_BOOKKEEPING = {"staged_at", "loaded_at"}
# Built from the past run dates of the daily histories (changes between two run dates, a
# membership's `since`): a full refresh keeps only the run date the data gives, so these
# differ by design (DbtConfig.full_refresh says so); the histories' current date is compared.
_FROM_PAST_RUN_DATES = {"customer_lifecycle_changes", "segment_changes", "segment_membership"}


def _ingest(warehouse, landing) -> None:
    from common.warehouse import connect
    from connectors.ingestion import LANDING_SOURCES, ingest_source
    from connectors.phones import refresh_phone_numbers

    with connect(warehouse) as conn:
        for source in LANDING_SOURCES:
            ingest_source(conn, source, landing)
        refresh_phone_numbers(conn)


def _models(conn) -> list[tuple[str, str]]:
    return conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = 'inc' and table_schema in ('staging', 'intermediate', 'marts') "
        "order by 1, 2"
    ).fetchall()


def _columns(conn, schema: str, table: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'inc' and table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [(name, kind) for name, kind in rows if name not in _BOOKKEEPING]


def _difference(conn, schema: str, table: str) -> tuple[int, int, int]:
    """Rows only in the incremental warehouse, only in the rebuilt one, and in all."""
    columns = _columns(conn, schema, table)
    # Floats to 9 decimals, as benchmarks/scale.py compares: a sum over rows in another
    # order may differ in its last bits.
    select = ", ".join(
        f'round("{c}", 9)' if kind in ("DOUBLE", "FLOAT") else f'"{c}"' for c, kind in columns
    )
    where = ""
    if "as_of_date" in {name for name, _ in columns} and table.endswith("_history"):
        # A full rebuild keeps only the run date the data gives (DbtConfig.full_refresh).
        where = f" where as_of_date = (select max(as_of_date) from rebuilt.{schema}.{table})"
    one = f"select {select} from inc.{schema}.{table}{where}"
    other = f"select {select} from rebuilt.{schema}.{table}{where}"
    (only_inc,) = conn.execute(f"select count(*) from ({one} except all {other})").fetchone()
    (only_full,) = conn.execute(f"select count(*) from ({other} except all {one})").fetchone()
    (rows,) = conn.execute(f"select count(*) from ({one})").fetchone()
    return only_inc, only_full, rows


def _raw_rows(warehouse) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        (loaded,) = conn.execute(
            "select coalesce(sum(records_loaded), 0) from raw.ingested_files"
        ).fetchone()
    return int(loaded)


def _staged_rows(warehouse) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'staging' and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
        return {
            name: conn.execute(f"select count(*) from staging.{name}").fetchone()[0]
            for (name,) in tables
        }


@pytest.fixture(scope="module")
def incremental_and_full(tmp_path_factory):
    from sandbox.sample_store import generate

    root = tmp_path_factory.mktemp("incremental")
    generate(root / "generated", root / "truth", customers=300, months=6, seed=23)
    split_landing(root / "generated", root / "base", root / "delta", delta_fraction=0.1)

    landing = root / "landing"
    copy_landing(root / "base", landing)
    built = DbtWarehouse(root / "warehouse.duckdb", root)
    _ingest(built.warehouse, landing)
    built.dbt_ok("build")
    staged_after_base = _staged_rows(built.warehouse)

    copy_landing(root / "delta", landing)
    _ingest(built.warehouse, landing)
    built.dbt_ok("build")
    staged_after_delta = _staged_rows(built.warehouse)

    # Records delivered again in a new file (a source re-sends its export, in another
    # order, so the loader does not take it for a copy of a loaded file): loaded into raw,
    # appended to no staging model.
    resent = 0
    for path in sorted((root / "delta").rglob("*.jsonl")):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if len(lines) < 2 or resent == 3:
            continue
        target = landing / path.relative_to(root / "delta")
        target.with_name(target.stem + ".resent" + target.suffix).write_text(
            "\n".join(reversed(lines)) + "\n", encoding="utf-8"
        )
        resent += 1
    raw_before_resend = _raw_rows(built.warehouse)
    _ingest(built.warehouse, landing)
    built.dbt_ok("build")
    staged_after_resend = _staged_rows(built.warehouse)
    raw_resent = _raw_rows(built.warehouse) - raw_before_resend

    rebuilt = built.copy_to(root / "full")
    rebuilt.dbt_ok("build", "--full-refresh")
    return {
        "incremental": built,
        "full": rebuilt,
        "staged": (staged_after_base, staged_after_delta, staged_after_resend),
        "raw_resent": raw_resent,
    }


def test_an_incremental_run_equals_a_full_refresh_on_the_same_raw_data(incremental_and_full):
    built, rebuilt = incremental_and_full["incremental"], incremental_and_full["full"]
    with duckdb.connect() as conn:
        conn.execute(f"attach '{built.warehouse}' as inc (read_only)")
        conn.execute(f"attach '{rebuilt.warehouse}' as rebuilt (read_only)")
        models = _models(conn)
        assert len(models) > 60
        differences = {}
        compared_rows = 0
        assert {table for _, table in models} >= _FROM_PAST_RUN_DATES
        for schema, table in models:
            if table in _FROM_PAST_RUN_DATES:
                continue
            only_inc, only_full, rows = _difference(conn, schema, table)
            compared_rows += rows
            if only_inc or only_full:
                differences[f"{schema}.{table}"] = (only_inc, only_full)
    assert differences == {}, f"(rows only incremental, rows only full refresh): {differences}"
    assert compared_rows > 10_000


def test_staging_appends_only_what_is_new(incremental_and_full):
    after_base, after_delta, after_resend = incremental_and_full["staged"]
    assert set(after_base) == set(after_delta)
    grew = {name for name in after_base if after_delta[name] > after_base[name]}
    # The delta carries new orders, tracking events and messages of every kind of source.
    assert {
        "stg_shopify__orders",
        "stg_carriers__tracking_events",
        "base_whatsapp__inbound_messages",
    } <= grew
    assert all(after_delta[name] >= after_base[name] for name in after_base)
    # A re-delivered file appends nothing: its records are already staged by key.
    assert incremental_and_full["raw_resent"] > 0
    assert after_resend == after_delta
