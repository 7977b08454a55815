"""The run date is a robust latest: one event far in the future cannot move it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb


def _run_date(warehouse: Path):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(
            "select as_of_date, latest_event_at from intermediate.int_run_date"
        ).fetchone()


def test_one_order_dated_2099_written_past_the_boundary_does_not_move_the_run_date(
    marts_warehouse, tmp_path
):
    before = _run_date(marts_warehouse.warehouse)
    copy = marts_warehouse.copy_to(tmp_path / "outlier")
    order = {
        "id": "gid://shopify/Order/999999999",
        "createdAt": "2099-12-31T10:00:00Z",
        "updatedAt": "2099-12-31T10:00:00Z",
        "totalPriceSet": {"shopMoney": {"amount": "10.00", "currencyCode": "MAD"}},
    }
    with duckdb.connect(str(copy.warehouse)) as conn:
        # Not through the loader (which quarantines it): whatever else writes raw tables.
        conn.execute(
            "insert into raw.shopify_orders "
            "select 'outlier', 'x.jsonl', 1, ?::json, 'sha', max(loaded_at) from raw.shopify_orders",
            [json.dumps(order)],
        )
    copy.dbt_ok("run", "--select", "+int_run_date")
    assert _run_date(copy.warehouse) == before
    assert before[0].year < 2099
