"""Carrier choice per order: the probability swap, the expected profit, the choice and its
reason on a tiny hand-computed fixture; the recommendation in the agent queue and the
decision record; the daily pickup sheets (columns, rows, same bytes on a re-run)."""

from __future__ import annotations

import csv
import math
from datetime import date

import pandas as pd
import pytest
from warehouse_fixtures import NOW, add_order, create_tables, phone

from activations.agent_queue import refresh_agent_queue
from activations.carrier_choice import (
    CarrierEconomics,
    carrier_options,
    combined_prior,
    recommend,
    refresh_carrier_recommendations,
    shrunk_rate,
)
from activations.decisions import propose_decisions, record_decisions
from activations.dispatch_manifest import MANIFEST_COLUMNS, write_dispatch_manifests
from activations.warehouse_tables import (
    CARRIER_RATES_MODEL,
    ORDERS_MODEL,
    ORDERS_TO_DISPATCH_MODEL,
)
from common.marts import mart
from common.warehouse import connect
from ml.config import load_lead_score_config

T0 = NOW.replace(tzinfo=None)
ECONOMICS = CarrierEconomics(margin_before_carrier_fees=145.0, rto_handling=10.0)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _rates() -> pd.DataFrame:
    """Oujda: Ameex (the usual carrier) delivers 64 %, Ozon Express 81 %; the city 70 %."""
    base = {
        "city": "Oujda",
        "zone": "east",
        "rate_card_level": "zone",
        "promised_days": 3,
        "parcels_shipped": 100,
        "parcels_resolved": 90,
        "parcels_delivered": 60,
        "city_parcels_resolved": 180,
        "overall_delivery_rate": 0.7,
        "carrier_delivery_rate": 0.7,
        "city_delivery_rate": 0.70,
        "zone_delivery_rate": 0.7,
        "carrier_zone_parcels_resolved": 90,
        "carrier_zone_delivery_rate": 0.7,
        "prior_delivery_rate": 0.7,
    }
    return pd.DataFrame(
        [
            {**base, "carrier": "ameex", "forward_fee_mad": 40.0, "return_fee_mad": 15.0,
             "cod_fee_pct": 1.0, "delivery_rate": 0.64, "is_usual_carrier": True},
            {**base, "carrier": "ozon_express", "forward_fee_mad": 35.0, "return_fee_mad": 10.0,
             "cod_fee_pct": 1.0, "delivery_rate": 0.81, "is_usual_carrier": False},
        ]
    )  # fmt: skip


def _orders(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=["order_ref", "city", "assigned_carrier", "delivery_probability", "cod_amount"],
    )


def test_shrinkage_and_prior_formulas():
    # 3 of 4 delivered, prior 0.6, weight 30: (3 + 18) / 34.
    assert shrunk_rate(3, 4, 0.6, 30) == pytest.approx(21 / 34)
    # No data: the prior itself; much data: close to its own rate.
    assert shrunk_rate(0, 0, 0.6, 30) == pytest.approx(0.6)
    assert shrunk_rate(900, 1000, 0.6, 30) == pytest.approx(918 / 1030)
    # A carrier as good as the overall rate leaves the city's rate as it is …
    assert combined_prior(0.7, 0.55, 0.7) == pytest.approx(0.55)
    # … and one better than it lifts the city's odds by its own odds ratio.
    expected = _sigmoid(_logit(0.8) + _logit(0.55) - _logit(0.7))
    assert combined_prior(0.8, 0.55, 0.7) == pytest.approx(expected)


def test_profit_and_choice_on_a_tiny_fixture():
    orders = _orders(
        [
            ("a", "Oujda", None, 0.70, 300.0),  # as good as the city: P = the carrier's rate
            ("b", "Oujda", "ameex", 0.50, 300.0),  # the score already knew Ameex
            ("c", "Atlantis", None, 0.90, 300.0),  # no carrier offered there
            ("d", "Oujda", None, 0.70, 0.0),  # prepaid: no COD fee
        ]
    )
    options = carrier_options(orders, _rates(), ECONOMICS)
    assert sorted(options["order_ref"].unique()) == ["a", "b", "d"]
    a = options[options["order_ref"] == "a"].set_index("carrier")
    assert a.loc["ozon_express", "p_delivery"] == pytest.approx(0.81)
    assert a.loc["ameex", "p_delivery"] == pytest.approx(0.64)
    # P × (margin − COD fee) − forward fee − (1 − P) × (return fee + handling)
    assert a.loc["ozon_express", "expected_profit"] == pytest.approx(
        0.81 * (145 - 3) - 35 - 0.19 * (10 + 10)
    )
    assert a.loc["ameex", "expected_profit"] == pytest.approx(0.64 * (145 - 3) - 40 - 0.36 * 25)
    b = options[options["order_ref"] == "b"].set_index("carrier")
    assert b.loc["ameex", "reference_rate"] == pytest.approx(0.64)
    assert b.loc["ameex", "p_delivery"] == pytest.approx(0.5)
    assert b.loc["ozon_express", "p_delivery"] == pytest.approx(
        _sigmoid(_logit(0.5) - _logit(0.64) + _logit(0.81))
    )
    d = options[options["order_ref"] == "d"].set_index("carrier")
    assert d.loc["ameex", "expected_profit"] == pytest.approx(0.64 * 145 - 40 - 0.36 * 25)

    chosen = recommend(options).set_index("order_ref")
    assert list(chosen.index) == ["a", "b", "d"]
    assert chosen.loc["a", "recommended_carrier"] == "ozon_express"
    assert chosen.loc["a", "baseline_carrier"] == "ameex"
    assert chosen.loc["a", "baseline_kind"] == "usual carrier"
    gain = (0.81 * 142 - 35 - 0.19 * 20) - (0.64 * 142 - 40 - 0.36 * 25)
    assert chosen.loc["a", "expected_gain"] == pytest.approx(gain)
    assert chosen.loc["a", "carrier_reason"] == (
        f"Ozon Express delivers 81 % in Oujda vs 64 % for Ameex (usual carrier), "
        f"+{gain:.0f} MAD expected"
    )
    assert chosen.loc["b", "baseline_kind"] == "assigned"
    assert "for Ameex (assigned)" in chosen.loc["b", "carrier_reason"]


def test_the_baseline_is_kept_when_it_is_best_and_the_reason_says_so():
    rates = _rates()
    rates.loc[rates["carrier"] == "ameex", "delivery_rate"] = 0.9
    chosen = recommend(
        carrier_options(_orders([("a", "Oujda", None, 0.7, 300.0)]), rates, ECONOMICS)
    )
    (row,) = chosen.to_dict("records")
    assert row["recommended_carrier"] == "ameex" and row["expected_gain"] == pytest.approx(0)
    assert row["carrier_reason"].startswith("Ameex (usual carrier, kept) delivers 90 % in Oujda")
    assert "for Ozon Express (next best)" in row["carrier_reason"]


def test_the_margin_is_the_lead_scores_with_its_flat_shipping_added_back():
    unit = load_lead_score_config().unit_economics
    economics = CarrierEconomics.from_unit_economics(unit)
    assert economics.margin_before_carrier_fees == unit.delivered_margin + unit.rto_forward_shipping
    assert economics.rto_handling == unit.rto_handling


def _create_carrier_marts(conn) -> None:
    rates = _rates()
    conn.register("_rates", rates)
    conn.execute(f"create table {mart(CARRIER_RATES_MODEL)} as select * from _rates")
    conn.unregister("_rates")
    conn.execute(
        f"""
        create table {mart(ORDERS_TO_DISPATCH_MODEL)} (
            order_ref varchar, platform varchar, order_number varchar, customer_name varchar,
            customer_phone varchar, city varchar, address varchar, is_cod boolean,
            cod_amount decimal(12, 2), currency varchar, assigned_carrier varchar,
            confirmed_at timestamp, placed_at timestamp)
        """
    )


def _score(conn, ref: str, band: str, delivery: float) -> None:
    conn.execute(
        "insert into ml.order_scores values (?, null, ?, ?, ?, ?, 'city ok', 'new phone', 'v1', ?)",
        [ref, 1 - delivery, delivery, 100 * delivery, band, T0],
    )


def test_the_recommendation_reaches_the_agent_queue_and_the_decision_record(tmp_path):
    with connect(tmp_path / "warehouse.duckdb") as conn:
        create_tables(conn)
        _create_carrier_marts(conn)
        add_order(conn, "shopify:101", phone(1), carrier=None)
        add_order(conn, "shopify:102", phone(2), carrier=None)
        conn.execute(f"update {mart(ORDERS_MODEL)} set city = 'Oujda', total_amount = 300")
        _score(conn, "shopify:101", "review", 0.7)
        _score(conn, "shopify:102", "confirm", 0.7)
        run = refresh_carrier_recommendations(conn, ECONOMICS, NOW)
        assert (run.orders, run.options, run.differs_from_baseline) == (2, 4, 2)
        assert run.by_carrier == {"ozon_express": 2}
        record_decisions(conn, propose_decisions(conn), T0, "run-1")
        decisions = conn.execute(
            "select order_ref, decision, recommended_carrier, carrier_reason "
            "from activations.storefront_decisions order by order_ref"
        ).fetchall()
        assert [(d[0], d[1], d[2]) for d in decisions] == [
            ("shopify:101", "review", "ozon_express"),
            ("shopify:102", "confirm", "ozon_express"),
        ]
        assert decisions[0][3].startswith("Ozon Express delivers 81 % in Oujda vs 64 % for Ameex")
        assert refresh_agent_queue(conn, T0) == 1
        queued = conn.execute(
            "select order_ref, recommended_carrier, carrier_reason from activations.agent_queue"
        ).fetchone()
        assert queued[:2] == ("shopify:101", "ozon_express")
        assert queued[2] == decisions[0][3]


def test_without_a_recommendation_the_queue_and_decisions_still_work(tmp_path):
    with connect(tmp_path / "warehouse.duckdb") as conn:
        create_tables(conn)
        add_order(conn, "shopify:101", phone(1))
        _score(conn, "shopify:101", "review", 0.5)
        record_decisions(conn, propose_decisions(conn), T0, "run-1")
        assert refresh_agent_queue(conn, T0) == 1
        assert conn.execute(
            "select recommended_carrier from activations.agent_queue"
        ).fetchone() == (None,)


def _to_dispatch(conn, ref, name, city, address, cod, amount, assigned=None) -> None:
    conn.execute(
        f"insert into {mart(ORDERS_TO_DISPATCH_MODEL)} values "
        "(?, 'shopify', ?, ?, ?, ?, ?, ?, ?, 'MAD', ?, ?, ?)",
        [ref, f"#{ref[-3:]}", name, phone(int(ref[-3:])), city, address, cod, amount, assigned,
         T0, T0],
    )  # fmt: skip


def test_the_dispatch_manifest_has_one_sheet_per_carrier_with_the_pickup_columns(tmp_path):
    exports = tmp_path / "exports"
    day = date(2026, 3, 2)
    with connect(tmp_path / "warehouse.duckdb") as conn:
        create_tables(conn)
        _create_carrier_marts(conn)
        add_order(conn, "shopify:101", phone(101), carrier=None)
        conn.execute(f"update {mart(ORDERS_MODEL)} set city = 'Oujda', total_amount = 300")
        _score(conn, "shopify:101", "confirm", 0.7)
        refresh_carrier_recommendations(conn, ECONOMICS, NOW)
        _to_dispatch(conn, "shopify:101", "Salma Bennani", "Oujda", "12, rue Al Qods", True, 300)
        _to_dispatch(conn, "shopify:102", 'Karim "K" Alaoui', "Rabat", "Agdal, Rabat", False, 0,
                     assigned="sendit")  # fmt: skip
        _to_dispatch(conn, "shopify:103", "Nadia", "Fès", "Fès", True, 199)  # not scored
        (exports / "dispatch" / day.isoformat()).mkdir(parents=True)
        (exports / "dispatch" / day.isoformat() / "cathedis.csv").write_text("old sheet")
        run = write_dispatch_manifests(conn, exports, day, delivery_codes_on=True)
        first = {p.name: p.read_bytes() for p in run.folder.iterdir()}
        again = write_dispatch_manifests(conn, exports, day, delivery_codes_on=True)
        off = write_dispatch_manifests(conn, tmp_path / "off", day, delivery_codes_on=False)
    assert run.rows_by_carrier == {"ozon_express": 1, "sendit": 1}
    assert run.without_carrier == 1
    assert sorted(first) == ["ozon_express.csv", "sendit.csv"]  # the stale sheet is gone
    assert {p.name: p.read_bytes() for p in again.folder.iterdir()} == first
    with (run.folder / "ozon_express.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        assert tuple(next(reader)) == MANIFEST_COLUMNS
        assert list(reader) == [
            ["shopify:101", "Salma Bennani", phone(101), "Oujda", "12, rue Al Qods", "300.00",
             "yes"]
        ]  # fmt: skip
    with (run.folder / "sendit.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["name"] == 'Karim "K" Alaoui' and row["cod_amount"] == "0.00"
    assert row["delivery_code_required"] == "no"  # prepaid: nothing to collect
    with (off.folder / "ozon_express.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["delivery_code_required"] == "no"  # delivery codes are not switched on
