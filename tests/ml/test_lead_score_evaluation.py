"""Learned vs baseline, calibration, profit bands and the promotion gate."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from ml.band_placement import place_bands, realised_profit
from ml.bands import BandThresholds
from ml.evaluation import BASELINE, CANDIDATE, PREVIOUS, UNCALIBRATED, evaluate_lead_score
from ml.promotion import decide_promotion
from ml.time_splits import TimeWindow
from ml.training import train_lead_score


def test_windows_are_separated_by_the_outcome_latency(trained, orders) -> None:
    splits = trained.splits
    resolved = orders[orders["outcome"].isin(["delivered", "returned"])]
    slowest = (resolved["resolved_at"] - resolved["placed_at"]).quantile(0.99)
    assert splits.gap >= slowest
    assert splits.train.end + splits.gap <= splits.calibration.start
    assert splits.calibration.end + splits.gap <= splits.test.start
    assert splits.test.end + splits.gap <= splits.cutoff


def test_learned_scorecard_beats_the_baseline_on_later_data(report) -> None:
    candidate, baseline = report.metrics_of(CANDIDATE), report.metrics_of(BASELINE)
    assert candidate["auc"] > baseline["auc"] + 0.03
    assert candidate["log_loss"] < baseline["log_loss"]
    assert candidate["brier"] < baseline["brier"]
    assert candidate["brier_skill"] > 0.05
    assert candidate["profit_per_order"] > baseline["profit_per_order"]


def test_learned_probabilities_follow_the_hidden_reliability(trained, test_window_rows, world):
    truth = 1 - world[1].reindex(test_window_rows.evidence["order_ref"]).to_numpy()
    learned = trained.model.rto_probability(test_window_rows.evidence)
    baseline = trained.baseline.rto_probability(test_window_rows.evidence)
    assert np.corrcoef(learned, truth)[0, 1] > np.corrcoef(baseline, truth)[0, 1] + 0.1


def test_calibration_on_a_later_window_improves_brier(report) -> None:
    calibrated, raw = report.metrics_of(CANDIDATE), report.metrics_of(UNCALIBRATED)
    # Same ranking; better probabilities on the (even later) test window.
    assert calibrated["auc"] == raw["auc"]
    assert calibrated["brier"] < raw["brier"]
    assert abs(calibrated["mean_rto_probability"] - report.rto_rate) < abs(
        raw["mean_rto_probability"] - report.rto_rate
    )


def test_band_scan_finds_the_most_profitable_pair(config) -> None:
    rng = np.random.default_rng(3)
    scores = rng.uniform(0, 100, 400)
    returned = rng.random(400) < 1 / (1 + np.exp((scores - 45) / 12))
    placement = place_bands(scores, returned, config.unit_economics, step=5.0)
    grid = np.arange(0, 110, 5.0)
    best = max(
        realised_profit(BandThresholds(c, r).band_of(scores), returned, config.unit_economics)
        for r, c in itertools.combinations_with_replacement(grid, 2)
    )
    assert placement.total_profit == pytest.approx(best)
    chosen = placement.thresholds.band_of(scores)
    assert realised_profit(chosen, returned, config.unit_economics) == pytest.approx(best)


def test_dearer_rto_widens_the_hold_band(trained, calibration_rows, config) -> None:
    model = trained.model
    scores = model.scores(calibration_rows.evidence)
    p = model.rto_probability(calibration_rows.evidence)
    economics = config.unit_economics
    dearer = economics.model_copy(update={"rto_return_shipping": 90.0, "rto_handling": 40.0})
    usual = place_bands(scores, calibration_rows.rto, economics, rto_probability=p).thresholds
    costly = place_bands(scores, calibration_rows.rto, dearer, rto_probability=p).thresholds
    assert costly.review_at > usual.review_at
    assert (scores < costly.review_at).sum() > (scores < usual.review_at).sum()
    assert costly.review_rto_probability < usual.review_rto_probability
    assert costly.confirm_at >= usual.confirm_at


def test_thresholds_are_reported_as_scores_and_probabilities(trained) -> None:
    bands = trained.model.bands
    assert bands.review_at < bands.confirm_at
    assert 0 < bands.confirm_rto_probability < bands.review_rto_probability < 1
    # Monotone: a higher score threshold means a lower RTO probability.
    assert bands.placed_by.startswith("profit scan")


def test_gate_approves_the_candidate_and_refuses_shuffled_labels(
    trained, report, orders, quick_config
) -> None:
    approved = decide_promotion(report, quick_config.promotion)
    assert approved.approved, approved.summary()

    shuffled = orders.copy()
    resolved = shuffled["outcome"].isin(["delivered", "returned"]).to_numpy()
    rng = np.random.default_rng(0)
    shuffled.loc[resolved, "outcome"] = rng.permutation(
        shuffled.loc[resolved, "outcome"].to_numpy()
    )
    noise = train_lead_score(shuffled, quick_config, version="v-shuffled")
    # Evaluated on the real outcomes of the same later window.
    noise_report = evaluate_lead_score(
        noise.model, trained.baseline, orders, quick_config, charts=False
    )
    decision = decide_promotion(noise_report, quick_config.promotion)
    assert not decision.approved
    failed = {c["metric"] for c in decision.checks if not c["passed"]}
    assert {"auc", "log_loss"} <= failed
    assert "refused" in decision.summary()

    # And with the shuffled model as the approved one, the real candidate passes both.
    with_previous = evaluate_lead_score(
        trained.model, trained.baseline, orders, quick_config, previous=noise.model, charts=False
    )
    verdict = decide_promotion(with_previous, quick_config.promotion)
    assert verdict.approved
    assert {c["reference"] for c in verdict.checks} == {BASELINE, PREVIOUS}


def test_report_renders_tables_and_charts(report) -> None:
    markdown = report.to_markdown()
    for contender in report.metrics["contender"]:
        assert f"| {contender} |" in markdown
    for band_table in report.band_tables.values():
        assert band_table["orders"].sum() == report.orders
    assert set(report.charts) == {"calibration.png", "gains.png"}
    assert all(png.startswith(b"\x89PNG") for png in report.charts.values())
    assert isinstance(report.window, TimeWindow)
    assert report.window.start == pd.Timestamp(report.to_dict()["window"]["start"])


def test_ece_comes_with_its_bootstrap_interval(report) -> None:
    for row in report.metrics.to_dict("records"):
        assert 0.0 <= row["ece_low"] <= row["ece_high"] <= 1.0
        assert 0.0 <= row["ece"] <= 1.0
        # The debiased error is reported beside it (ml.metrics.debiased_ece).
        assert 0.0 <= row["ece_debiased"] <= 1.0
    # A calibrated candidate is closer to its realised rates than the uncalibrated one.
    calibrated = report.metrics_of("candidate")
    assert calibrated["ece"] <= report.metrics_of("candidate_uncalibrated")["ece"] + 0.01
