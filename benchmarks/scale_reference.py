"""The hand-written DuckDB reference for the scale benchmark, and its comparison with dbt.

``run_reference(warehouse)`` computes ``int_orders``, ``rfm_scores`` and ``customer_360``
from the raw tables (payload JSON as loaded) and the dbt project's seed files, with the
plain SQL of ``benchmarks/reference_sql/`` (four files, run in order) into the schema
``bench_reference``. Phones are normalised by the same Python function as the dbt model
``int_phone_numbers`` (phonenumbers), once per distinct phone string. dbt vars come from
``dbt_project.yml``, so a changed threshold changes both sides.

``compare(reference_warehouse, dbt_warehouse)`` checks that both give the same rows.

    .venv/bin/python -m benchmarks.scale_reference WAREHOUSE   # a copy: it writes to it
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from common.settings import DBT_PROJECT_DIR

SQL_DIR = Path(__file__).with_name("reference_sql")
REFERENCE_SCHEMA = "bench_reference"
# (reference table, dbt relation, key columns): what the comparison checks.
COMPARED = (
    ("int_orders", "intermediate.int_orders", ("order_ref",)),
    ("rfm_scores", "marts.rfm_scores", ("customer_phone",)),
    ("customer_360", "marts.customer_360", ("customer_phone",)),
)
# Floating point is compared at this many decimals (sums of doubles are not associative).
FLOAT_DECIMALS = 9

# SQL variable → dbt var (the reference reads them with getvariable()).
_DBT_VARS = {
    "as_of_date": "as_of_date",
    "stale_after_days": "open_order_stale_after_days",
    "whatsapp_window_days": "whatsapp_engagement_window_days",
    "prestashop_tz": "prestashop_shop_timezone",
    "prestashop_currency": "prestashop_shop_currency",
    "potential_refuser_min_refusals": "potential_refuser_min_refusals",
    "potential_refuser_min_unconfirmed_orders": "potential_refuser_min_unconfirmed_orders",
    "new_window_days": "lifecycle_new_window_days",
    "active_window_days": "lifecycle_active_window_days",
    "churn_after_days": "lifecycle_churn_after_days",
    "vip_min_delivered_orders": "lifecycle_vip_min_delivered_orders",
    "vip_min_delivered_revenue": "lifecycle_vip_min_delivered_revenue",
    "high_risk_min_rto_rate": "lifecycle_high_risk_min_rto_rate",
    "high_risk_min_resolved_orders": "lifecycle_high_risk_min_resolved_orders",
    "high_risk_min_refusals": "lifecycle_high_risk_min_refusals",
    "high_risk_min_cancellations": "lifecycle_high_risk_min_cancellations",
    "risk_prior_weight": "risk_prior_weight",
    "risk_high_min_score": "risk_high_min_score",
    "risk_low_max_score": "risk_low_max_score",
}


def _dbt_vars() -> dict:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return project.get("vars") or {}


def _phone_normaliser():
    """The product's own ``normalise_phone(raw, region)`` (connectors/phones.py, the step
    before dbt), not a copy: the dbt Python model it replaced is gone."""
    from connectors.phones import normalise_phone

    return normalise_phone


def _load_phones(conn: duckdb.DuckDBPyConnection, region: str) -> int:
    normalise = _phone_normaliser()
    raw_phones = conn.execute(
        """
        select phone_raw from snapshots where phone_raw is not null
        union select recipient_wa_id from whatsapp_messages where recipient_wa_id is not null
        union select sender_wa_id from inbound_messages where sender_wa_id is not null
        union select wa_id from user_preferences where wa_id is not null
        """
    ).fetchall()
    rows = []
    for (raw,) in raw_phones:
        e164, valid, _region = normalise(raw, region)
        rows.append((raw, e164, valid))
    frame = pd.DataFrame(rows, columns=["phone_raw", "phone_e164", "phone_is_valid"]).astype(
        {"phone_raw": "string", "phone_e164": "string", "phone_is_valid": "boolean"}
    )
    conn.register("_phones", frame)
    conn.execute("create or replace temp table phones as select * from _phones")
    conn.unregister("_phones")
    return len(rows)


def run_reference(warehouse: Path) -> dict[str, int]:
    """Build the reference tables in ``warehouse`` (a copy: it writes); return row counts."""
    dbt_vars = _dbt_vars()
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(f"create schema if not exists {REFERENCE_SCHEMA}")
        conn.execute("set variable seeds = ?", [str(DBT_PROJECT_DIR / "seeds")])
        for name, dbt_name in _DBT_VARS.items():
            value = dbt_vars.get(dbt_name)
            if value is None:
                conn.execute(f"set variable {name} = null")
            else:
                conn.execute(f"set variable {name} = ?", [value])
        for sql_file in sorted(SQL_DIR.glob("0[12]_*.sql")):
            conn.execute(sql_file.read_text(encoding="utf-8"))
        # The var is a Jinja env_var() expression; the phone step reads the same setting.
        from connectors.phones import default_phone_region

        _load_phones(conn, default_phone_region())
        for sql_file in sorted(SQL_DIR.glob("0[34]_*.sql")):
            conn.execute(sql_file.read_text(encoding="utf-8"))
        return {
            table: conn.execute(f"select count(*) from {REFERENCE_SCHEMA}.{table}").fetchone()[0]
            for table, _relation, _keys in COMPARED
        }


@dataclass
class TableComparison:
    """Whether the reference and dbt give the same rows for one table."""

    table: str
    reference_rows: int
    dbt_rows: int
    only_in_reference: int = 0  # rows (all compared columns) of the reference not in dbt
    only_in_dbt: int = 0
    missing_columns: list[str] = field(default_factory=list)  # in dbt, not in the reference
    extra_columns: list[str] = field(default_factory=list)
    differing_columns: dict[str, int] = field(default_factory=dict)  # column → rows (by key)
    keys_only_in_reference: int = 0
    keys_only_in_dbt: int = 0

    @property
    def same(self) -> bool:
        return (
            self.reference_rows == self.dbt_rows
            and self.only_in_reference == 0
            and self.only_in_dbt == 0
            and not self.missing_columns
            and not self.extra_columns
        )


# How far a keyed incremental model has read (macros/keyed_incremental.sql): run
# bookkeeping, not what a row says; the reference has no such thing.
BOOKKEEPING_COLUMNS = {"staged_at", "seeds_fingerprint"}


def _columns(conn, catalog: str, schema: str, table: str) -> dict[str, str]:
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, schema, table],
    ).fetchall()
    return dict(rows)


def _normalised(column: str, data_type: str, alias: str) -> str:
    """The column as text, floats rounded, so that equal values compare equal across types."""
    ref = f'{alias}."{column}"'
    if data_type in ("DOUBLE", "FLOAT", "REAL") or data_type.startswith("DECIMAL"):
        ref = f"round({ref}, {FLOAT_DECIMALS}) + 0"  # + 0 turns -0.0 into 0.0
    return f'cast({ref} as varchar) as "{column}"'


def compare(reference_warehouse: Path, dbt_warehouse: Path) -> list[TableComparison]:
    """Row counts, ``except all`` both ways on every column, and per column the number of
    rows (matched by key) whose values differ, for each table of :data:`COMPARED`."""
    results = []
    with duckdb.connect(str(reference_warehouse), read_only=True) as conn:
        conn.execute(f"attach '{dbt_warehouse}' as dbt_side (read_only)")
        ref_catalog = conn.execute("select current_database()").fetchone()[0]
        for table, relation, keys in COMPARED:
            dbt_schema, dbt_table = relation.split(".")
            ref_cols = _columns(conn, ref_catalog, REFERENCE_SCHEMA, table)
            dbt_cols = {
                column: kind
                for column, kind in _columns(conn, "dbt_side", dbt_schema, dbt_table).items()
                if column not in BOOKKEEPING_COLUMNS
            }
            shared = [c for c in dbt_cols if c in ref_cols]
            ref_rel, dbt_rel = f"{REFERENCE_SCHEMA}.{table}", f"dbt_side.{relation}"
            comparison = TableComparison(
                table=table,
                reference_rows=conn.execute(f"select count(*) from {ref_rel}").fetchone()[0],
                dbt_rows=conn.execute(f"select count(*) from {dbt_rel}").fetchone()[0],
                missing_columns=[c for c in dbt_cols if c not in ref_cols],
                extra_columns=[c for c in ref_cols if c not in dbt_cols],
            )
            ref_select = ", ".join(_normalised(c, dbt_cols[c], "r") for c in shared)
            dbt_select = ", ".join(_normalised(c, dbt_cols[c], "d") for c in shared)
            ref_rows = f"select {ref_select} from {ref_rel} as r"
            dbt_rows = f"select {dbt_select} from {dbt_rel} as d"
            comparison.only_in_reference = conn.execute(
                f"select count(*) from ({ref_rows} except all {dbt_rows})"
            ).fetchone()[0]
            comparison.only_in_dbt = conn.execute(
                f"select count(*) from ({dbt_rows} except all {ref_rows})"
            ).fetchone()[0]
            if comparison.only_in_reference or comparison.only_in_dbt:
                _explain_differences(conn, comparison, ref_rows, dbt_rows, keys, shared)
            results.append(comparison)
    return results


def _explain_differences(conn, comparison, ref_rows, dbt_rows, keys, shared) -> None:
    on = " and ".join(f'r."{k}" is not distinct from d."{k}"' for k in keys)
    first_key = keys[0]
    counts = ", ".join(
        f'count(case when r."{first_key}" is not null and d."{first_key}" is not null '
        f'and r."{c}" is distinct from d."{c}" then 1 end)'
        for c in shared
        if c not in keys
    )
    row = conn.execute(
        f'select count(case when d."{first_key}" is null then 1 end), '
        f'count(case when r."{first_key}" is null then 1 end), {counts} '
        f"from ({ref_rows}) as r full outer join ({dbt_rows}) as d on {on}"
    ).fetchone()
    comparison.keys_only_in_reference, comparison.keys_only_in_dbt = row[0], row[1]
    non_keys = [c for c in shared if c not in keys]
    comparison.differing_columns = {c: n for c, n in zip(non_keys, row[2:], strict=True) if n}


def comparison_lines(results: list[TableComparison]) -> list[str]:
    """The comparison as printable lines."""
    lines = [f"{'table':<14}{'reference':>11}{'dbt':>9}{'ref-dbt':>9}{'dbt-ref':>9}  result"]
    for c in results:
        verdict = "SAME ROWS" if c.same else "DIFFERENT"
        lines.append(
            f"{c.table:<14}{c.reference_rows:>11,}{c.dbt_rows:>9,}{c.only_in_reference:>9,}"
            f"{c.only_in_dbt:>9,}  {verdict}"
        )
        if c.missing_columns:
            lines.append(f"  columns missing from the reference: {', '.join(c.missing_columns)}")
        if c.extra_columns:
            lines.append(f"  columns only in the reference: {', '.join(c.extra_columns)}")
        if c.keys_only_in_reference or c.keys_only_in_dbt:
            lines.append(
                f"  keys only in the reference: {c.keys_only_in_reference:,}, "
                f"only in dbt: {c.keys_only_in_dbt:,}"
            )
        for column, rows in c.differing_columns.items():
            lines.append(f"  column {column}: {rows:,} rows differ")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("warehouse", type=Path, help="a COPY of the warehouse (it is written to)")
    args = parser.parse_args()
    for table, rows in run_reference(args.warehouse).items():
        print(f"{REFERENCE_SCHEMA}.{table}: {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
