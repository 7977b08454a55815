"""Band thresholds placed by profit, not by habit.

Each order earns, by band (``ml/lead_score_config.yaml``, ``unit_economics``):

* confirm: ``+margin`` if delivered, ``-rto_cost`` if it comes back;
* review: ``-review_cost``, then ``(1 - lost) * margin`` if it would have been
  delivered, ``-(1 - prevented) * rto_cost`` if it would have come back;
* hold: 0 (not dispatched).

The two score thresholds are the pair that maximises the total of these over the
validation window's real outcomes, scanned on a grid of scores. Raising the cost of
an RTO makes confirming and reviewing risky orders dearer, so the hold band widens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.bands import CONFIRM, HOLD, REVIEW, BandThresholds
from ml.calibration import probability_at_scores
from ml.config import UnitEconomics


@dataclass(frozen=True)
class BandPlacement:
    """The thresholds chosen and the profit they earn on the window they were chosen on."""

    thresholds: BandThresholds
    total_profit: float
    profit_per_order: float


def order_profit(returned: np.ndarray, economics: UnitEconomics) -> dict[str, np.ndarray]:
    """Profit of each order under each band, given whether it came back."""
    returned = np.asarray(returned, dtype=bool)
    margin, rto_cost = economics.delivered_margin, economics.rto_cost
    confirm = np.where(returned, -rto_cost, margin)
    review = -economics.review_cost + np.where(
        returned,
        -(1.0 - economics.review_prevents_rto_share) * rto_cost,
        (1.0 - economics.review_loses_delivery_share) * margin,
    )
    return {CONFIRM: confirm, REVIEW: review, HOLD: np.zeros_like(confirm)}


def realised_profit(bands: np.ndarray, returned: np.ndarray, economics: UnitEconomics) -> float:
    """Total profit of a set of band decisions given the real outcomes."""
    by_band = order_profit(returned, economics)
    bands = np.asarray(bands)
    return float(sum(by_band[name][bands == name].sum() for name in (CONFIRM, REVIEW, HOLD)))


def place_bands(
    scores: np.ndarray,
    returned: np.ndarray,
    economics: UnitEconomics,
    *,
    step: float = 1.0,
    rto_probability: np.ndarray | None = None,
) -> BandPlacement:
    """Scan (review_at <= confirm_at) on a score grid and keep the most profitable pair.

    ``rto_probability`` (calibrated, same orders) is only used to report the
    thresholds as probabilities. On a plateau of equal profit the middle of the
    plateau is taken, away from the orders on either side.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.size == 0:
        raise ValueError("cannot place bands on an empty window")
    by_band = order_profit(returned, economics)
    grid = np.arange(np.floor(scores.min()), np.ceil(scores.max()) + 2 * step, step)
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]

    def at_or_above(values: np.ndarray) -> np.ndarray:
        # Sum of values over orders with score >= each grid point.
        tail = np.concatenate([np.cumsum(values[order][::-1])[::-1], [0.0]])
        return tail[np.searchsorted(sorted_scores, grid, side="left")]

    confirm_tail = at_or_above(by_band[CONFIRM])
    review_tail = at_or_above(by_band[REVIEW])
    # total(r, c) = confirm_tail[c] + review_tail[r] - review_tail[c], with r <= c.
    best_review_upto = np.maximum.accumulate(review_tail)
    totals = confirm_tail - review_tail + best_review_upto
    c = _middle_of_best(totals)
    r = _middle_of_best(np.where(np.arange(grid.size) <= c, review_tail, -np.inf))
    confirm_at, review_at = float(grid[c]), float(grid[r])
    probabilities: list[float | None] = [None, None]
    if rto_probability is not None:
        probabilities = probability_at_scores(scores, rto_probability, [confirm_at, review_at])
    thresholds = BandThresholds(
        confirm_at=confirm_at,
        review_at=review_at,
        confirm_rto_probability=probabilities[0],
        review_rto_probability=probabilities[1],
        placed_by="profit scan on the calibration window",
    )
    total = float(totals[c])
    return BandPlacement(thresholds, total, total / scores.size)


def _middle_of_best(values: np.ndarray) -> int:
    best = np.max(values)
    ties = np.flatnonzero(np.isclose(values, best, rtol=0, atol=1e-9))
    # Keep to the first contiguous run of best values, then take its middle.
    run_end = np.flatnonzero(np.diff(ties) > 1)
    run = ties[: run_end[0] + 1] if run_end.size else ties
    return int(run[len(run) // 2])
