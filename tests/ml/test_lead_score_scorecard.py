"""Scorecard scaling, the points table as the model, and the handling of wrong signs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from synthetic_world import World, make_orders

from ml import evidence as ev
from ml.baseline import DEFAULT_PATH, baseline_model, load_baseline_scorecard
from ml.evidence import evidence_as_of
from ml.features import validate_orders
from ml.order_scoring import score_orders
from ml.points_table import BASE_SIGNAL, PointsTableError
from ml.score_scaling import ScoreScaling
from ml.scorecard_signals import LEARNED_SIGNALS
from ml.training import train_lead_score


def test_scaling_anchors_and_doubling() -> None:
    scaling = ScoreScaling(points_to_double_odds=15, anchor_score=50, anchor_odds=1.0)
    assert scaling.factor == pytest.approx(15 / math.log(2))
    assert scaling.offset == pytest.approx(50 - scaling.factor * math.log(1.0))
    # 50 is even odds; every +15 doubles the odds of delivery.
    assert scaling.rto_probability(50) == pytest.approx(0.5)
    assert scaling.rto_probability(80) == pytest.approx(1 / (1 + 4))
    assert scaling.rto_probability(20) == pytest.approx(4 / (1 + 4))
    p = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(scaling.rto_probability(scaling.score_from_rto_probability(p)), p)


def test_points_reproduce_the_learned_log_odds_exactly(trained, test_window_rows) -> None:
    model = trained.model
    pipeline = model.estimator.estimator.estimator  # calibrator -> frozen -> scorecard
    evidence = test_window_rows.evidence
    from_points = model.scores(evidence)
    from_model = model.scaling.score_from_rto_log_odds(pipeline.decision_function(evidence))
    np.testing.assert_allclose(from_points, from_model, rtol=0, atol=1e-9)
    # ... and back: the score read through the scaling is the model's probability.
    np.testing.assert_allclose(
        model.scaling.rto_probability(from_points),
        pipeline.predict_proba(evidence)[:, 1],
        rtol=0,
        atol=1e-12,
    )
    # Every neutral bin earns 0, so the base is the score of an order with nothing known.
    neutral = model.binner.neutral_
    table = model.points.set_index(["signal", "bin"])["points"]
    assert all(table[(signal, label)] == 0.0 for signal, label in neutral.items())
    assert (model.points["signal"] == BASE_SIGNAL).sum() == 1


def test_expected_signs_hold_in_the_shipped_table(trained) -> None:
    model = trained.model
    table = model.points.set_index(["signal", "bin"])["points"]
    for signal, chain in model.binner.expected_order_.items():
        points = [table[(signal, label)] for label in chain]
        assert all(a >= b for a, b in itertools.pairwise(points)), (signal, points)


def test_a_reversed_signal_is_dropped_and_reported(quick_config) -> None:
    # In this store opening the email marks *low* intent: the catalogue expects the
    # opposite, so the fit must not ship a positive-by-assumption, negative-in-fact bin.
    orders, _ = make_orders(World(seed=11, email_effect=-2.5))
    result = train_lead_score(orders, quick_config, version="v-reversed")
    adjustments = result.model.card["sign_adjustments"]
    email = [a for a in adjustments if a["signal"] == "email_opened"]
    assert email and email[0]["action"] == "dropped"
    assert email[0]["points"][0] < email[0]["points"][1]  # "yes" earned less than "no"
    assert "email_opened" not in set(result.model.points["signal"])
    assert "email_opened" in result.model.card["dropped_signals"]


def test_the_unreversed_signal_is_kept(trained) -> None:
    adjusted = {a["signal"] for a in trained.model.card["sign_adjustments"]}
    assert "email_opened" not in adjusted
    table = trained.model.points.set_index(["signal", "bin"])["points"]
    assert table[("email_opened", "yes")] > 0


def test_reasons_come_from_the_points(trained, test_window_rows) -> None:
    model = trained.model
    evidence = test_window_rows.evidence.head(200)
    scored = model.score_evidence(evidence, top_n=3)
    bins = model.signal_bins(evidence)
    table = model.points.set_index(["signal", "bin"])["points"]
    for idx in scored.index[:50]:
        points = {s: table.get((s, bins.at[idx, s]), 0.0) for s in bins.columns}
        best = max(points, key=points.get)
        worst = min(points, key=points.get)
        if points[best] > 0:
            assert scored.at[idx, "top_positive_signals"].startswith(f"{best}: ")
        if points[worst] < 0:
            assert scored.at[idx, "top_negative_signals"].startswith(f"{worst}: ")
    assert set(scored["band"]) <= {"confirm", "review", "hold"}
    pd.testing.assert_series_equal(
        scored["delivery_probability"], 1 - scored["rto_probability"], check_names=False
    )


def test_baseline_points_are_read_from_the_analysts_file(tmp_path, orders) -> None:
    shipped, _ = load_baseline_scorecard()
    assert shipped.set_index("signal").loc["whatsapp_confirmed", "points"] == 30
    edited = DEFAULT_PATH.read_text().replace(
        'whatsapp_confirmed, bin: "yes", points: 30', "whatsapp_confirmed, bin: yes, points: 60"
    )
    path = tmp_path / "baseline.yaml"
    path.write_text(edited)
    confirmed = orders[orders["whatsapp_confirmed_at"].notna()].head(20)
    as_of = confirmed["placed_at"] + pd.Timedelta(hours=6)
    scaling = ScoreScaling(15, 50, 1.0)
    before = score_orders(baseline_model(scaling), confirmed, as_of=as_of).scores
    after = score_orders(baseline_model(scaling, path=path), confirmed, as_of=as_of).scores
    evidence = evidence_as_of(validate_orders(confirmed).orders, as_of.reset_index(drop=True))
    np.testing.assert_allclose(
        after["score"] - before["score"], 30.0 * evidence["whatsapp_confirmed"].to_numpy()
    )

    path.write_text(edited.replace("signal: fraud_flagged", "signal: fraud_score"))
    with pytest.raises(PointsTableError, match="fraud_score"):
        load_baseline_scorecard(path)


def test_form_and_page_timings_are_free_bins_and_bots_lose_points(trained) -> None:
    """Form completion and time on page are binned without an imposed direction (the
    effect is not monotonic); bots, who fill the form in seconds, lose points for it."""
    signals = {s.name: s for s in LEARNED_SIGNALS}
    for name in ("form_completion", "time_on_page"):
        assert signals[name].expected_order == ()
        assert name not in trained.model.binner.dropped
    table = trained.model.points.set_index(["signal", "bin"])["points"]
    assert table[("form_completion", "< 8 s")] < table[("form_completion", "20 s–1 min")] - 10
    # Readable bins: durations in seconds and minutes, and the order's own "no signal".
    assert set(table["form_completion"].index) >= {"< 8 s", "8–20 s", "20 s–1 min", "no signal"}


def test_orders_sharing_an_address_with_other_phones_lose_points(trained) -> None:
    table = trained.model.points.set_index(["signal", "bin"])["points"]
    shared = table["shared_address_recent_orders"]
    assert shared["0"] == 0.0
    # The more other phones at the address, the more points lost (rings mix with the
    # odd family in the 1–2 bin of the synthetic world).
    assert shared["0"] > shared["1–2"] > shared["3+"]
    assert shared["3+"] < -15


def test_the_landing_page_bins_are_cut_where_the_rules_say() -> None:
    frame = pd.DataFrame(
        {"seconds": [3.0, 8.0, 19.9, 45.0, 61.0, 200.0, np.nan]},
    )
    labels = ev._duration_bins(frame["seconds"], ev.DEFAULT_RULES.form_completion_edges_s)
    assert list(labels) == [
        "< 8 s",
        "8–20 s",
        "8–20 s",
        "20 s–1 min",
        "1–3 min",
        "≥ 3 min",
        "no signal",
    ]
