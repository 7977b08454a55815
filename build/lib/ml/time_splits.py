"""Train, calibration and test windows laid out in time, with gaps.

Windows are half-open intervals of ``placed_at``, laid out backwards from the data
cutoff (the moment the data was read, or a chosen past moment for a backfill):

    train | gap | calibration | gap | test | gap | cutoff

The gap is at least as long as the time an outcome takes to become final, so every
order of a window is resolved before the next window starts and before the cutoff:
no window learns from outcomes that were unknown when the next one began.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ml.config import TimeSplitConfig
from ml.features import EVIDENCE_TIMESTAMPS, RESOLVED_OUTCOMES


class InsufficientHistoryError(ValueError):
    """Too few resolved orders to lay out the windows."""


@dataclass(frozen=True)
class TimeWindow:
    """Orders placed in ``[start, end)``."""

    start: pd.Timestamp
    end: pd.Timestamp

    def contains(self, placed_at: pd.Series) -> pd.Series:
        """Mask of the orders placed in the window."""
        return (placed_at >= self.start) & (placed_at < self.end)

    def as_dict(self) -> dict[str, str]:
        """ISO timestamps for model cards."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_dict(cls, values: dict[str, str]) -> TimeWindow:
        """Inverse of :meth:`as_dict`."""
        return cls(pd.Timestamp(values["start"]), pd.Timestamp(values["end"]))


@dataclass(frozen=True)
class TimeSplits:
    """The three windows, the gap between them and the cutoff they were laid from."""

    train: TimeWindow
    calibration: TimeWindow
    test: TimeWindow
    gap: pd.Timedelta
    cutoff: pd.Timestamp

    def as_dict(self) -> dict[str, object]:
        """Plain values for model cards."""
        return {
            "train": self.train.as_dict(),
            "calibration": self.calibration.as_dict(),
            "test": self.test.as_dict(),
            "gap_days": self.gap / pd.Timedelta(days=1),
            "cutoff": self.cutoff.isoformat(),
        }

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> TimeSplits:
        """Inverse of :meth:`as_dict`."""
        return cls(
            train=TimeWindow.from_dict(values["train"]),
            calibration=TimeWindow.from_dict(values["calibration"]),
            test=TimeWindow.from_dict(values["test"]),
            gap=pd.Timedelta(days=float(values["gap_days"])),
            cutoff=pd.Timestamp(values["cutoff"]),
        )


def known_at(orders: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The orders as the warehouse knew them at ``cutoff``.

    Orders placed later are removed; outcomes that became final later are reopened;
    evidence stamped later is erased. Training "as of" a past moment then sees exactly
    what a run at that moment would have seen.
    """
    frame = orders.loc[orders["placed_at"] <= cutoff].copy()
    late = frame["resolved_at"] > cutoff
    frame.loc[late, "outcome"] = None
    frame.loc[late, "resolved_at"] = pd.NaT
    for column in EVIDENCE_TIMESTAMPS:
        frame.loc[frame[column] > cutoff, column] = pd.NaT
    return frame.reset_index(drop=True)


def outcome_gap(orders: pd.DataFrame, config: TimeSplitConfig) -> pd.Timedelta:
    """Gap between windows: ``min_gap_days`` or the latency quantile, whichever is longer.

    Latency is ``resolved_at - placed_at`` of delivered and returned orders, rounded up
    to whole days.
    """
    resolved = orders[orders["outcome"].isin(RESOLVED_OUTCOMES)]
    latency_days = 0.0
    if len(resolved):
        latency = (resolved["resolved_at"] - resolved["placed_at"]) / pd.Timedelta(days=1)
        latency_days = float(latency.quantile(config.latency_quantile))
    return pd.Timedelta(days=max(config.min_gap_days, math.ceil(latency_days)))


def plan_time_splits(
    orders: pd.DataFrame, config: TimeSplitConfig, cutoff: pd.Timestamp
) -> TimeSplits:
    """Lay out the windows from ``cutoff`` backwards (see the module docstring).

    Raises :class:`InsufficientHistoryError` when training has fewer than
    ``min_train_orders`` resolved orders, or a later window fewer than
    ``min_window_orders``, or a window lacks one of the two outcomes.
    """
    gap = outcome_gap(orders, config)
    test = TimeWindow(cutoff - gap - pd.Timedelta(days=config.test_days), cutoff - gap)
    calibration = TimeWindow(
        test.start - gap - pd.Timedelta(days=config.calibration_days), test.start - gap
    )
    train = TimeWindow(orders["placed_at"].min(), calibration.start - gap)
    resolved = orders[orders["outcome"].isin(RESOLVED_OUTCOMES)]
    for name, window, minimum in (
        ("train", train, config.min_train_orders),
        ("calibration", calibration, config.min_window_orders),
        ("test", test, config.min_window_orders),
    ):
        inside = resolved[window.contains(resolved["placed_at"])]
        outcomes = set(inside["outcome"])
        if len(inside) < minimum or outcomes != set(RESOLVED_OUTCOMES):
            raise InsufficientHistoryError(
                f"{name} window {window.start:%Y-%m-%d}..{window.end:%Y-%m-%d} has "
                f"{len(inside)} resolved orders with outcomes {sorted(outcomes)}; needs "
                f"{minimum} with both delivered and returned (gap {gap.days} days)"
            )
    return TimeSplits(train, calibration, test, gap, cutoff)
