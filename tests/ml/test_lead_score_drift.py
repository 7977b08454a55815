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
