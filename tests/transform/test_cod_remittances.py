"""COD cash reconciliation on the session's small sample store: the marts find exactly
the discrepancies the simulator put in its remittance statements (summary.json,
``remittances.deliberate``), and nothing else; the finance check warns on the
unbalanced statement and does not fail the build."""

from __future__ import annotations

import json

import duckdb
import pytest

pytestmark = pytest.mark.e2e

OVERDUE_AFTER_DAYS = 28  # dbt var remittance_overdue_after_days


@pytest.fixture(scope="module")
def conn(marts_warehouse):
    connection = duckdb.connect(str(marts_warehouse.warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def truth(marts_warehouse) -> dict:
    summary = json.loads((marts_warehouse.root / "truth" / "summary.json").read_text())
    return summary["remittances"]


def _refs(conn, sql: str) -> list[str]:
    return sorted(row[0] for row in conn.execute(sql).fetchall())


def test_the_store_has_every_kind_of_discrepancy(truth):
    deliberate = truth["deliberate"]
    assert len(deliberate["never_remitted"]) == 2
    assert len(deliberate["amount_mismatch"]) == 2
    assert len(deliberate["late_remittance"]) == 2
    assert len(deliberate["unbalanced_statements"]) == 1
    assert truth["statements"] > 50 and truth["lines"] > 300


def test_overdue_orders_are_exactly_the_ones_never_remitted(conn, truth):
    overdue = _refs(
        conn,
        "select order_ref from marts.cod_order_remittances where remittance_status = 'overdue'",
    )
    assert overdue == truth["deliberate"]["never_remitted"]
    assert overdue == _refs(
        conn, "select order_ref from marts.cod_cash_in_transit where is_overdue"
    )
    # Cash in transit that is not overdue is recent: delivered within the threshold.
    oldest = conn.execute(
        "select max(days_outstanding) from marts.cod_cash_in_transit where not is_overdue"
    ).fetchone()[0]
    assert oldest is not None and oldest <= OVERDUE_AFTER_DAYS


def test_amount_mismatches_are_exactly_the_deliberate_ones(conn, truth):
    expected = truth["deliberate"]["amount_mismatch"]
    assert (
        _refs(
            conn,
            "select order_ref from marts.cod_order_remittances where remittance_status = 'mismatch'",
        )
        == expected
    )
    rows = conn.execute(
        "select order_ref, mismatch_kind, collected_difference from marts.cod_remittance_mismatches"
    ).fetchall()
    assert sorted(ref for ref, _, _ in rows) == expected
    assert {kind for _, kind, _ in rows} == {"amount"}
    # The simulator collected 50 and 30 MAD short.
    assert sorted(float(diff) for _, _, diff in rows) == [-50.0, -30.0]


def test_late_remittances_are_exactly_the_deliberate_ones(conn, truth):
    late = _refs(conn, "select order_ref from marts.cod_order_remittances where is_late_remittance")
    assert late == truth["deliberate"]["late_remittance"]
    days = conn.execute(
        "select min(days_to_cash) from marts.cod_order_remittances where is_late_remittance"
    ).fetchone()[0]
    assert days > OVERDUE_AFTER_DAYS


def test_unbalanced_statements_are_exactly_the_deliberate_ones(conn, truth):
    rows = conn.execute(
        "select statement_id, payout_difference from marts.cod_remittance_statements "
        "where not is_balanced"
    ).fetchall()
    assert sorted(s for s, _ in rows) == truth["deliberate"]["unbalanced_statements"]
    assert [float(d) for _, d in rows] == [-120.0]


def test_statements_and_kpis_add_up_to_what_the_carriers_paid(conn, truth):
    statements, lines, collected, fees, paid = conn.execute(
        "select count(*), sum(lines), sum(amount_collected), sum(fees), sum(paid_out_amount) "
        "from marts.cod_remittance_statements"
    ).fetchone()
    assert (statements, lines) == (truth["statements"], truth["lines"])
    assert (float(collected), float(fees), float(paid)) == pytest.approx(
        (truth["collected_mad"], truth["fees_mad"], truth["paid_out_mad"]), abs=0.005
    )
    kpis = conn.execute(
        "select statements, unbalanced_statements, remitted_value, overdue_orders, "
        "mismatch_orders, late_remittances, delivered_cod_orders, remitted_orders, "
        "cash_in_transit_orders, cash_in_transit_value, unremitted_value, median_days_to_cash "
        "from marts.cash_kpis where dimension = 'all'"
    ).fetchone()
    assert kpis[:2] == (truth["statements"], 1)
    assert float(kpis[2]) == pytest.approx(truth["collected_mad"], abs=0.005)
    assert kpis[3:6] == (2, 2, 2)
    delivered, remitted, in_transit, in_transit_value, unremitted, median = kpis[6:]
    assert remitted + in_transit == delivered
    assert in_transit >= 2 and in_transit_value >= unremitted > 0
    assert 3 <= median <= 21  # weekly / biweekly periods, paid 2–7 days after they end
    per_carrier = conn.execute(
        "select sum(delivered_cod_orders), sum(statements) from marts.cash_kpis "
        "where dimension = 'carrier'"
    ).fetchone()
    assert per_carrier == (delivered, truth["statements"])


def test_fees_per_carrier_and_city_cover_every_line(conn, truth):
    parcels, unknown, carriers = conn.execute(
        "select sum(parcels), sum(case when city = '(unknown order)' then parcels else 0 end), "
        "count(distinct carrier) from marts.cod_remittance_fees"
    ).fetchone()
    assert parcels == truth["lines"]
    assert unknown == 0
    assert carriers == 5
    # Remote zones cost more: the fee per parcel differs between cities of one carrier.
    spread = conn.execute(
        "select min(fees_per_parcel), max(fees_per_parcel) from marts.cod_remittance_fees "
        "where carrier = 'ameex' and parcels >= 3"
    ).fetchone()
    assert spread[1] - spread[0] > 3


def test_the_finance_check_warns_on_the_unbalanced_statement(marts_warehouse, tmp_path):
    # On a copy: this module holds the shared warehouse open for reading.
    copy = marts_warehouse.copy_to(tmp_path / "finance_check")
    result = copy.dbt_ok("test", "--select", "remittance_statement_lines_sum_to_payout")
    assert "WARN=1" in result.stdout.replace(" ", ""), result.stdout[-2000:]
    run_results = json.loads((copy.root / "target" / "run_results.json").read_text())
    (test,) = run_results["results"]
    assert (test["status"], test["failures"]) == ("warn", 1)
