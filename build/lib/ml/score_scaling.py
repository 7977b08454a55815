"""Standard scorecard scaling: points <-> odds of delivery.

    factor = PDO / ln 2
    offset = S0 - factor * ln(odds0)
    score  = offset + factor * ln(odds of delivery)

so the score rises by PDO points each time the odds of delivery (delivered : RTO)
double, and equals S0 at odds0. A logistic model of RTO with log-odds
``beta_0 + sum_j beta_j x_j`` therefore gives ``points_j = -factor * beta_j * x_j``
(minus: the model's positive class is RTO, the score measures delivery).

The project's choice (``ml/lead_score_config.yaml``): PDO = 15, S0 = 50 at odds0 = 1.
Score 50 is an even chance, 80 is 4 : 1 (80 % delivery), 20 is 1 : 4. That keeps the
SPEC §4 baseline's landmarks (80 confirm, 50 review) meaning what they say, and a
realistic COD order (2–97 % delivery) lands between about -30 and 125, the same
range as the baseline's points (-80 to 110).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ScoreScaling:
    """Points-to-double-odds scaling of a scorecard."""

    points_to_double_odds: float
    anchor_score: float
    anchor_odds: float  # delivered : RTO odds at anchor_score

    def __post_init__(self) -> None:
        if self.points_to_double_odds <= 0 or self.anchor_odds <= 0:
            raise ValueError("points_to_double_odds and anchor_odds must be positive")

    @property
    def factor(self) -> float:
        """Points per unit of natural log-odds."""
        return self.points_to_double_odds / math.log(2.0)

    @property
    def offset(self) -> float:
        """Score of an order at even odds (log-odds 0)."""
        return self.anchor_score - self.factor * math.log(self.anchor_odds)

    def score_from_rto_log_odds(self, rto_log_odds: np.ndarray | float) -> np.ndarray:
        """Score of an order whose log-odds of RTO are ``rto_log_odds``."""
        return self.offset - self.factor * np.asarray(rto_log_odds, dtype=float)

    def rto_log_odds_from_score(self, score: np.ndarray | float) -> np.ndarray:
        """Inverse of :meth:`score_from_rto_log_odds`."""
        return (self.offset - np.asarray(score, dtype=float)) / self.factor

    def rto_probability(self, score: np.ndarray | float) -> np.ndarray:
        """Probability of RTO that the scaling reads into a score (before calibration)."""
        return 1.0 / (1.0 + np.exp(-self.rto_log_odds_from_score(score)))

    def score_from_rto_probability(self, probability: np.ndarray | float) -> np.ndarray:
        """Score of an order with this probability of RTO."""
        p = np.clip(np.asarray(probability, dtype=float), 1e-12, 1 - 1e-12)
        return self.score_from_rto_log_odds(np.log(p / (1.0 - p)))

    def as_dict(self) -> dict[str, float]:
        """The parameters and the derived factor and offset, for model cards."""
        return {
            "points_to_double_odds": self.points_to_double_odds,
            "anchor_score": self.anchor_score,
            "anchor_odds": self.anchor_odds,
            "factor": self.factor,
            "offset": self.offset,
        }
