"""LightFunnels and PrestaShop pull files → raw tables → dbt → int_storefront_orders."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
from lfps_lines import lightfunnels_order, prestashop_order

from common.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR
from common.warehouse import connect
from connectors.ingestion import SOURCES_BY_NAME, ensure_raw_tables, ingest_source
from connectors.phones import refresh_phone_numbers


def _land(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")


def test_lightfunnels_and_prestashop_orders_reach_int_storefront_orders(tmp_path: Path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    _land(
        landing / "orders/lightfunnels/sample/pull_20260302T120000000000Z_1.jsonl",
        [
            lightfunnels_order(100123),
            # the same order a day later, shipped; a prepaid order; an order cancelled
            lightfunnels_order(
                100123, updated_at="2026-03-02 09:00:00", fulfillment_status="fulfilled"
            ),
            lightfunnels_order(100124, financial_status="paid"),
            lightfunnels_order(
                100125,
                updated_at="2026-03-01T12:00:00+01:00",
                cancelled_at="2026-03-01 11:00:00",
            ),
        ],
    )
    _land(
        landing / "orders/prestashop/sample/pull_20260302T120000000000Z_1.jsonl",
        [
            prestashop_order(42, date_add="2026-04-01 11:00:00", date_upd="2026-04-01 11:00:00"),
            prestashop_order(
                42,
                current_state="5",
                date_add="2026-04-01 11:00:00",
                date_upd="2026-04-03 18:00:00",
            ),
            prestashop_order(43, module="stripe_official", payment="Carte", current_state="2"),
        ],
    )
    with connect(warehouse) as conn:
        ensure_raw_tables(conn)
        for source in ("lightfunnels_orders", "prestashop_orders"):
            report = ingest_source(conn, SOURCES_BY_NAME[source], landing)
            assert report.records_quarantined == 0 and report.reconciles
        refresh_phone_numbers(conn)  # the step between the raw tables and dbt

    result = subprocess.run(
        [
            DBT_EXECUTABLE,
            "build",
            "--select",
            "+int_storefront_orders",
            "--profiles-dir",
            ".",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "COD360_WAREHOUSE": str(warehouse)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            "select order_ref, platform, customer_phone, storefront_status, payment_method, "
            "placed_at from intermediate.int_storefront_orders "
            "where platform in ('lightfunnels', 'prestashop') order by order_ref"
        ).fetchall()
    by_ref = {row[0]: row[1:] for row in rows}
    assert {ref: (r[0], r[1], r[2], r[3]) for ref, r in by_ref.items()} == {
        "lightfunnels:100123": ("lightfunnels", "+212612345678", "dispatched", "cod"),
        "lightfunnels:100124": ("lightfunnels", "+212612345678", "confirmed", "prepaid"),
        "lightfunnels:100125": ("lightfunnels", "+212612345678", "cancelled", "cod"),
        "prestashop:42": ("prestashop", "+212661234567", "delivered", "cod"),
        "prestashop:43": ("prestashop", "+212661234567", "confirmed", "prepaid"),
    }
    # LightFunnels times are UTC; PrestaShop's are Casablanca wall-clock time: UTC+1 in
    # April 2026, UTC+0 during Ramadan (order 43, placed on 1 March).
    assert str(by_ref["lightfunnels:100123"][4]) == "2026-03-01 10:00:00"
    assert str(by_ref["prestashop:42"][4]) == "2026-04-01 10:00:00"
    assert str(by_ref["prestashop:43"][4]) == "2026-03-01 11:00:00"
