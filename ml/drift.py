"""Drift after deployment: predicted vs realised RTO per platform, carrier and band.

A version is calibrated on one window and then scores later orders. When a channel's
RTO rate moves (a new TikTok audience, a carrier that degrades), the probabilities
stop meaning what they say. This compares, on the orders placed after the version's
calibration window that have since resolved, the mean predicted RTO (as the order was
seen at the decision horizon) with the realised rate, per group; a group of at least
``min_orders`` whose gap exceeds ``tolerance`` is drift (``ml/lead_score_config.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ml.config import DriftConfig
from ml.features import validate_orders
from ml.time_splits import TimeSplits, TimeWindow
from ml.training_examples import decision_snapshots

DRIFT_DIMENSIONS = ("platform", "carrier", "band")


@dataclass(frozen=True)
class DriftReport:
    """One row per (dimension, value): orders, mean predicted, realised, gap, drifted."""

    version: str
    window: TimeWindow
    groups: pd.DataFrame
    tolerance: float

    @property
    def drifted(self) -> pd.DataFrame:
        """The groups beyond the tolerance."""
        return self.groups[self.groups["drifted"]]

    def summary(self) -> str:
        """One line for a check description."""
        if self.groups.empty:
            return f"{self.version}: no resolved order after its calibration window yet"
        if self.drifted.empty:
            return (
                f"{self.version}: predicted and realised RTO within ±{self.tolerance:.0%} "
                f"in every group of {', '.join(DRIFT_DIMENSIONS)}"
            )
        parts = [
            f"{r.dimension}={r.value} predicted {r.predicted:.1%} vs realised {r.realised:.1%}"
            for r in self.drifted.itertuples()
        ]
        return f"{self.version} drifted: " + "; ".join(parts)


def drift_report(model, orders: pd.DataFrame, config: DriftConfig) -> DriftReport:
    """Compare ``model``'s decision-time predictions with outcomes after its calibration.

    ``model`` is a stored :class:`ml.lead_score_model.LeadScoreModel` (its card gives
    the windows and the decision horizon); ``orders`` the warehouse's order frame now.
    """
    splits = TimeSplits.from_dict(model.card["splits"])
    frame = validate_orders(orders).orders
    # Everything placed after the calibration window, up to the latest order (inclusive).
    latest = max(frame["placed_at"].max(), splits.calibration.end)
    after = TimeWindow(splits.calibration.end, latest + pd.Timedelta(seconds=1))
    return _report(model, frame, after, config)


def staleness_report(model, orders: pd.DataFrame, config: DriftConfig) -> DriftReport:
    """Drift on the *mature* orders placed after everything the version was fitted or
    judged on: after its test window, and at least its outcome gap before the latest order.

    A version trained on today's data has no such order (its test window ends one gap
    before the data), so this is empty for it; a version trained on an old cutoff, or
    approved long ago, is judged on every order it has met since, each resolved as fully
    as the windows it was trained on. The promotion gate refuses on this report
    (:mod:`ml.promotion`); :func:`drift_report` (from the calibration window, young
    orders included) is the early warning on the approved version.
    """
    splits = TimeSplits.from_dict(model.card["splits"])
    frame = validate_orders(orders).orders
    mature_until = frame["placed_at"].max() - splits.gap
    if not mature_until > splits.test.end:
        window = TimeWindow(splits.test.end, splits.test.end)
        return DriftReport(model.version, window, _empty(), config.tolerance)
    return _report(model, frame, TimeWindow(splits.test.end, mature_until), config)


def _report(model, frame: pd.DataFrame, after: TimeWindow, config: DriftConfig) -> DriftReport:
    seen = decision_snapshots(frame, after, pd.Timedelta(model.card["decision_horizon"]))
    if len(seen) == 0:
        return DriftReport(model.version, after, _empty(), config.tolerance)
    predicted = model.rto_probability(seen.evidence)
    groups = pd.DataFrame(
        {
            "platform": seen.evidence["platform"].to_numpy(),
            # The outcome is known, so is the carrier: group by the one that shipped.
            "carrier": frame.set_index("order_ref")["carrier"]
            .reindex(seen.evidence["order_ref"])
            .fillna("none")
            .to_numpy(),
            "band": model.bands.band_of(model.scores(seen.evidence)),
            "predicted": predicted,
            "realised": seen.rto.astype(float),
        }
    )
    rows = []
    for dimension in DRIFT_DIMENSIONS:
        for value, group in groups.groupby(dimension):
            gap = float(group["predicted"].mean() - group["realised"].mean())
            rows.append(
                {
                    "dimension": dimension,
                    "value": str(value),
                    "orders": len(group),
                    "predicted": float(group["predicted"].mean()),
                    "realised": float(group["realised"].mean()),
                    "gap": gap,
                    "drifted": bool(
                        len(group) >= config.min_orders and abs(gap) > config.tolerance
                    ),
                }
            )
    return DriftReport(model.version, after, pd.DataFrame(rows), config.tolerance)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dimension": pd.Series(dtype=object),
            "value": pd.Series(dtype=object),
            "orders": pd.Series(dtype=int),
            "predicted": pd.Series(dtype=float),
            "realised": pd.Series(dtype=float),
            "gap": pd.Series(dtype=float),
            "drifted": pd.Series(dtype=bool),
        }
    )


__all__ = ["DRIFT_DIMENSIONS", "DriftReport", "drift_report", "staleness_report"]
