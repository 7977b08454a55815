"""A lead-score model as it is shipped: points table, probability, bands.

The same shape serves the rule-based baseline and every learned version, so scoring,
evaluation and the model store treat them alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ml.bands import BandThresholds
from ml.points_table import points_breakdown, top_reasons, total_score
from ml.score_scaling import ScoreScaling

SCORE_COLUMNS = (
    "score",
    "band",
    "rto_probability",
    "delivery_probability",
    "top_positive_signals",
    "top_negative_signals",
)


@dataclass
class LeadScoreModel:
    """Everything needed to score an order's as-of evidence.

    ``binner`` turns the as-of evidence frame (:func:`ml.evidence.evidence_as_of`) into
    one bin label per signal; ``points`` is the points table read by people and used
    for the score and the reasons; ``estimator`` gives the calibrated P(RTO) in column
    1 of ``predict_proba``; ``card`` holds the metadata the model store keeps (training
    window, fingerprint, sign adjustments, ...).
    """

    version: str
    binner: Any
    points: pd.DataFrame
    scaling: ScoreScaling
    estimator: Any
    bands: BandThresholds
    card: dict[str, Any] = field(default_factory=dict)

    def signal_bins(self, evidence: pd.DataFrame) -> pd.DataFrame:
        """Bin label of each signal for each order."""
        return self.binner.transform(evidence)

    def scores(self, evidence: pd.DataFrame) -> np.ndarray:
        """Points-table score of each order."""
        breakdown = points_breakdown(self.signal_bins(evidence), self.points)
        return total_score(breakdown, self.points).to_numpy(dtype=float)

    def rto_probability(self, evidence: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that each order ends in RTO."""
        return self.estimator.predict_proba(evidence)[:, 1]

    def uncalibrated(self) -> LeadScoreModel:
        """The same model with the probability read straight from the points.

        Used to show what calibration changes; the estimator inside the calibrator is
        the frozen, unchanged scorecard.
        """
        inner = getattr(self.estimator, "estimator", None)
        frozen = getattr(inner, "estimator", None)
        if frozen is None:
            return self
        return replace(self, version=f"{self.version} (uncalibrated)", estimator=frozen)

    def score_evidence(self, evidence: pd.DataFrame, top_n: int = 3) -> pd.DataFrame:
        """Score, band, probabilities and top reasons of each order (index kept)."""
        bins = self.signal_bins(evidence)
        breakdown = points_breakdown(bins, self.points)
        score = total_score(breakdown, self.points)
        rto = self.rto_probability(evidence)
        positive, negative = top_reasons(breakdown, bins, top_n)
        return pd.DataFrame(
            {
                "score": score.to_numpy(dtype=float),
                "band": self.bands.band_of(score.to_numpy(dtype=float)),
                "rto_probability": rto,
                "delivery_probability": 1.0 - rto,
                "top_positive_signals": positive.to_numpy(),
                "top_negative_signals": negative.to_numpy(),
            },
            index=evidence.index,
        )
