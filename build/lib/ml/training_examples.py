"""Labelled examples: resolved orders seen as of moments after their placement.

An order is scored many times as its evidence arrives, so it is learned from at
several horizons (``snapshots.horizons``), each snapshot weighted so that an order
counts once. A snapshot at or after the moment the outcome became final is left out:
by then the order is no longer scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.evidence import evidence_as_of
from ml.features import RESOLVED_OUTCOMES
from ml.time_splits import TimeWindow


@dataclass
class LabelledEvidence:
    """As-of evidence rows with their outcome (1 = RTO) and weight."""

    evidence: pd.DataFrame
    rto: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return len(self.evidence)

    @property
    def orders(self) -> int:
        """Distinct orders behind the rows."""
        return int(self.evidence["order_ref"].nunique())


def labelled_snapshots(
    orders: pd.DataFrame, window: TimeWindow, horizons: list[pd.Timedelta]
) -> LabelledEvidence:
    """Delivered and returned orders placed in ``window``, seen at each horizon."""
    resolved = orders[
        orders["outcome"].isin(RESOLVED_OUTCOMES) & window.contains(orders["placed_at"])
    ]
    frames = []
    for horizon in horizons:
        as_of = resolved["placed_at"] + horizon
        still_open = as_of < resolved["resolved_at"]
        subset = resolved[still_open]
        frame = evidence_as_of(subset, as_of[still_open])
        frame["rto"] = (subset["outcome"] == "returned").astype(int).to_numpy()
        frames.append(frame)
    stacked = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if stacked.empty:
        return LabelledEvidence(stacked, np.array([], dtype=int), np.array([], dtype=float))
    snapshots = stacked.groupby("order_ref")["order_ref"].transform("size")
    weight = (1.0 / snapshots).to_numpy(dtype=float)
    rto = stacked.pop("rto").to_numpy(dtype=int)
    return LabelledEvidence(stacked, rto, weight)


def decision_snapshots(
    orders: pd.DataFrame, window: TimeWindow, decision_horizon: pd.Timedelta
) -> LabelledEvidence:
    """One row per resolved order of ``window``, as it was at the decision horizon."""
    return labelled_snapshots(orders, window, [decision_horizon])
