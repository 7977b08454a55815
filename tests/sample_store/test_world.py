"""The simulated world has the structure the dbt models and the lead-score model must find."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
import pytest


def _rto(rows: list[dict]) -> float:
    resolved = [r for r in rows if r["final_outcome"] in ("delivered", "returned")]
    return sum(r["final_outcome"] == "returned" for r in resolved) / len(resolved)


def _auc(scores: np.ndarray, positives: np.ndarray) -> float:
    """Mann-Whitney AUC: chance that a positive outscores a negative."""
    order = scores.argsort(kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    n_pos = positives.sum()
    n_neg = len(positives) - n_pos
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@pytest.fixture(scope="module")
def orders(moderate_store) -> list[dict]:
    return moderate_store.truth_orders()


@pytest.fixture(scope="module")
def cod(orders) -> list[dict]:
    return [r for r in orders if r["payment_method"] == "cod"]


def test_rto_rate_of_resolved_cod_orders(cod, moderate_store):
    assert len(cod) > 2500
    assert 0.25 <= _rto(cod) <= 0.35
    outcomes = moderate_store.summary.outcomes
    assert outcomes["delivered"] > outcomes["returned"] > outcomes["cancelled"] > 0


def test_prepaid_almost_never_comes_back(orders):
    prepaid = [r for r in orders if r["payment_method"] == "prepaid"]
    assert 0.04 < len(prepaid) / len(orders) < 0.15
    assert _rto(prepaid) < 0.05
    assert not any(r["platform"] == "tiktok" for r in prepaid)


def test_tiktok_leads_are_riskier_than_shopify(cod):
    by_platform = defaultdict(list)
    for r in cod:
        by_platform[r["platform"]].append(r)
    assert set(by_platform) == {"shopify", "woocommerce", "youcan", "tiktok"}
    assert _rto(by_platform["tiktok"]) > _rto(by_platform["shopify"]) + 0.15


def test_cities_and_carriers_differ(cod):
    by_city, by_carrier = defaultdict(list), defaultdict(list)
    for r in cod:
        by_city[r["city"]].append(r)
        if r["carrier"]:
            by_carrier[r["carrier"]].append(r)
    assert len(by_city) >= 15
    far = by_city["Oujda"] + by_city["Nador"] + by_city["Laâyoune"] + by_city["Dakhla"]
    assert _rto(far) > _rto(by_city["Casablanca"]) + 0.08
    assert set(by_carrier) == {"ameex", "ozon_express", "coliix", "sendit", "cathedis"}
    rates = {carrier: _rto(rows) for carrier, rows in by_carrier.items()}
    assert rates["cathedis"] > rates["ameex"] + 0.04


def test_days_to_deliver_differ_by_carrier(orders):
    days = defaultdict(list)
    for r in orders:
        if r["delivered_at"]:
            placed = datetime.fromisoformat(r["placed_at"].replace("Z", "+00:00"))
            delivered = datetime.fromisoformat(r["delivered_at"].replace("Z", "+00:00"))
            days[r["carrier"]].append((delivered - placed) / timedelta(days=1))
    means = {carrier: float(np.mean(values)) for carrier, values in days.items()}
    assert all(0.5 < m < 10 for m in means.values())
    assert means["cathedis"] > means["ameex"] + 0.7


def test_hidden_reliability_and_p_delivery_predict_the_outcome(cod):
    resolved = [r for r in cod if r["final_outcome"] in ("delivered", "returned")]
    delivered = np.array([r["final_outcome"] == "delivered" for r in resolved])
    reliability = np.array([float(r["reliability"]) for r in resolved])
    p = np.array([float(r["p_delivery"]) for r in resolved])
    assert reliability[delivered].mean() > reliability[~delivered].mean() + 0.08
    assert 0.68 < _auc(reliability, delivered) < _auc(p, delivered) < 0.95
    # p_delivery is calibrated: its mean matches the delivered share
    assert abs(p.mean() - delivered.mean()) < 0.03


def test_engagement_and_confirmation_signals_carry_information(moderate_store, cod):
    outcome = {r["order_ref"]: r["final_outcome"] for r in cod}
    signals, _ = moderate_store.json_lines("signals/**/*.jsonl")
    time_on_page = defaultdict(list)
    scroll = defaultdict(list)
    for s in signals:
        result = outcome.get(s.get("order_ref"))
        if result in ("delivered", "returned") and "session_id" in s:
            time_on_page[result].append(np.log(s["time_on_page_s"] + 1))
            scroll[result].append(s["scroll_depth_pct"])
    assert np.mean(time_on_page["delivered"]) > np.mean(time_on_page["returned"]) + 0.1
    assert np.mean(scroll["delivered"]) > np.mean(scroll["returned"]) + 3

    by_channel = defaultdict(list)
    for r in cod:
        by_channel[
            r["confirmation"] if r["confirmation"] != "confirmed" else r["confirmation_channel"]
        ].append(r)
    assert _rto(by_channel["whatsapp_button"]) < _rto(by_channel["unreachable"]) - 0.15


def test_repeat_buyers_one_timers_and_several_platforms(moderate_store):
    customers = moderate_store.truth_customers()
    counts = np.array([int(c["orders"]) for c in customers])
    assert (counts == 1).mean() > 0.5
    assert (counts >= 2).mean() > 0.15
    assert counts.max() >= 6  # heavy tail
    assert sum(";" in c["platforms"] for c in customers) >= 20
    reliable = np.array([float(c["reliability"]) for c in customers])
    assert reliable[counts >= 3].mean() > reliable[counts == 1].mean()


def test_some_orders_are_still_open_at_the_end_date(orders, moderate_store):
    end = datetime.fromisoformat(moderate_store.summary.end_date + "T23:59:59+01:00")
    open_orders = [r for r in orders if r["final_outcome"] == "open"]
    assert len(open_orders) >= 20
    for r in open_orders:
        placed = datetime.fromisoformat(r["placed_at"].replace("Z", "+00:00"))
        assert end - placed < timedelta(days=30)
        assert r["simulated_outcome"] in ("delivered", "returned", "cancelled")
        assert r["resolved_at"] == "" or r["resolved_at"] > end.astimezone().isoformat()[:19]
    resolved = [r for r in orders if r["final_outcome"] != "open"]
    assert all(r["resolved_at"] and r["final_outcome"] == r["simulated_outcome"] for r in resolved)


def test_baskets_are_realistic(orders):
    totals = np.array([int(r["total_mad"]) for r in orders])
    assert totals.min() >= 99 and totals.max() <= 1500
    assert 200 < np.median(totals) < 500


def test_whatsapp_counts_cover_every_kind(moderate_store):
    kinds = moderate_store.summary.whatsapp
    for key in (
        "status:sent",
        "status:delivered",
        "status:read",
        "status:failed:131026",
        "status:failed:131047",
        "status:failed:131049",
        "message:button",
        "message:text",
        "user_preferences:stop",
        "user_preferences:resume",
    ):
        assert kinds.get(key, 0) > 0, key
    summary = json.loads((moderate_store.truth / "summary.json").read_text())
    assert summary["whatsapp"] == kinds
