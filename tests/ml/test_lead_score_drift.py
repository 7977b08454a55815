"""Drift after deployment: a channel whose RTO rises is caught, per platform."""

from __future__ import annotations

import pandas as pd

from ml.config import DriftConfig
from ml.drift import drift_report
from ml.time_splits import TimeSplits


def test_a_channel_whose_rto_rises_after_calibration_is_flagged(trained, orders) -> None:
    config = DriftConfig(tolerance=0.05, min_orders=100)
    steady = drift_report(trained.model, orders, config)
    assert {"platform", "carrier", "band"} == set(steady.groups["dimension"])
    tiktok = steady.groups.query("dimension == 'platform' and value == 'tiktok'").iloc[0]
    assert tiktok["orders"] >= 100

    # TikTok parcels placed after the calibration window now come back half the time
    # more often: the realised rate rises, the predictions do not.
    splits = TimeSplits.from_dict(trained.model.card["splits"])
    drifted = orders.copy()
    later = (
        (drifted["placed_at"] >= splits.calibration.end)
        & (drifted["platform"] == "tiktok")
        & (drifted["outcome"] == "delivered")
    )
    flip = later & (drifted["order_ref"].str[-1].isin(list("02468")))
    drifted.loc[flip, "outcome"] = "returned"
    report = drift_report(trained.model, drifted, config)
    row = report.groups.query("dimension == 'platform' and value == 'tiktok'").iloc[0]
    assert row["realised"] > tiktok["realised"] + 0.1
    assert row["drifted"] and row["gap"] < -config.tolerance
    assert "platform=tiktok" in report.summary()
    # Groups too small to judge are never flagged.
    assert not report.groups.query("orders < 100")["drifted"].any()


def test_no_order_after_calibration_means_nothing_to_judge(trained, orders) -> None:
    splits = TimeSplits.from_dict(trained.model.card["splits"])
    early = orders[orders["placed_at"] < splits.calibration.end]
    report = drift_report(trained.model, early, DriftConfig(tolerance=0.05, min_orders=100))
    assert report.groups.empty and report.drifted.empty
    assert "no resolved order" in report.summary()
    assert isinstance(report.window.start, pd.Timestamp)


def _months_later(orders: pd.DataFrame, days: int) -> pd.DataFrame:
    """The same store, ``days`` later: a copy of every order with every time shifted."""
    later = orders.copy()
    for column in later.columns:
        if pd.api.types.is_datetime64_any_dtype(later[column]):
            later[column] = later[column] + pd.Timedelta(days=days)
    later["order_ref"] = later["order_ref"] + "-later"
    return pd.concat([orders, later], ignore_index=True)


def test_the_gate_refuses_a_version_that_went_stale(trained, orders, report, quick_config) -> None:
    """Judged on the mature orders placed after its test window: a version trained on
    today's data has none and passes with a 'not stale' check; met again months later on
    a store whose TikTok RTO rose beyond the tolerance, it is refused as stale, naming the
    group — whatever its AUC on its own test window."""
    from ml.drift import staleness_report
    from ml.promotion import DRIFT, decide_promotion

    config = DriftConfig(tolerance=0.05, min_orders=100)
    fresh = staleness_report(trained.model, orders, config)
    assert fresh.groups.empty
    steady = decide_promotion(report, quick_config.promotion, fresh)
    drift_checks = [c for c in steady.checks if c["reference"] == DRIFT]
    assert steady.approved, steady.summary()
    assert len(drift_checks) == 1 and drift_checks[0]["passed"]

    later = _months_later(orders, days=240)
    tiktok_later = (
        later["order_ref"].str.endswith("-later")
        & (later["platform"] == "tiktok")
        & (later["outcome"] == "delivered")
        & (later["order_ref"].str.removesuffix("-later").str[-1].isin(list("02468")))
    )
    later.loc[tiktok_later, "outcome"] = "returned"
    stale_report = staleness_report(trained.model, later, config)
    splits = TimeSplits.from_dict(trained.model.card["splits"])
    assert stale_report.window.start == splits.test.end
    stale = decide_promotion(report, quick_config.promotion, stale_report)
    assert not stale.approved
    failed = [c for c in stale.checks if not c["passed"]]
    assert failed and {c["reference"] for c in failed} == {DRIFT}
    assert "gap/platform/tiktok" in {c["metric"] for c in failed}
    assert "stale: platform=tiktok" in stale.summary()
    # The carrier is not known at the decision: never a reason to refuse.
    assert not any(c["metric"].startswith("gap/carrier/") for c in failed)
