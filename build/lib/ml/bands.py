"""Decision bands: confirm, review, hold, and the two score thresholds between them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

CONFIRM = "confirm"
REVIEW = "review"
HOLD = "hold"
BANDS = (CONFIRM, REVIEW, HOLD)


@dataclass(frozen=True)
class BandThresholds:
    """Score thresholds of the bands, with the RTO probabilities they correspond to.

    score >= ``confirm_at`` -> confirm and release for dispatch;
    ``review_at`` <= score < ``confirm_at`` -> agent review queue;
    score < ``review_at`` -> hold (re-engage or cancel).
    The probabilities are the calibrated RTO probability at each threshold score (null
    when the scorecard has no calibration, e.g. the baseline read as published).
    """

    confirm_at: float
    review_at: float
    confirm_rto_probability: float | None = None
    review_rto_probability: float | None = None
    placed_by: str = "configuration"

    def __post_init__(self) -> None:
        if self.review_at > self.confirm_at:
            raise ValueError(
                f"review_at ({self.review_at}) must not exceed confirm_at ({self.confirm_at})"
            )

    def band_of(self, scores: np.ndarray) -> np.ndarray:
        """Band name of each score."""
        scores = np.asarray(scores, dtype=float)
        return np.where(
            scores >= self.confirm_at, CONFIRM, np.where(scores >= self.review_at, REVIEW, HOLD)
        ).astype(object)

    def as_dict(self) -> dict[str, float | str | None]:
        """Plain values for model cards."""
        return asdict(self)
