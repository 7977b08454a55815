"""Probability calibration on a later time window than training.

The fitted scorecard is frozen (``sklearn.frozen.FrozenEstimator``) and a calibrator
is fitted on the calibration window only, so the probabilities answer for the recent
past rather than the training period. ``cv="prefit"`` is gone in scikit-learn 1.9;
this is its replacement.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator


def calibrate(
    estimator: object,
    features: pd.DataFrame,
    rto: np.ndarray,
    sample_weight: np.ndarray | None = None,
    method: str = "sigmoid",
) -> CalibratedClassifierCV:
    """Fit a calibrator of ``estimator`` (left unchanged) on a later window.

    ``method`` is ``"sigmoid"`` (Platt: two parameters, steady on a few thousand
    orders) or ``"isotonic"`` (needs more data). The result predicts P(RTO) in column 1.
    """
    calibrated = CalibratedClassifierCV(FrozenEstimator(estimator), method=method)
    with warnings.catch_warnings():
        # The frozen estimator is not refitted, so the weights only reach the
        # calibrator — exactly what we want; scikit-learn warns regardless.
        warnings.filterwarnings("ignore", message=".*FrozenEstimator does not appear to accept")
        calibrated.fit(features, np.asarray(rto), sample_weight=sample_weight)
    return calibrated


def probability_at_scores(
    scores: np.ndarray, rto_probability: np.ndarray, at: list[float]
) -> list[float | None]:
    """Calibrated RTO probability at given score values, read off scored orders.

    Calibration is monotone in the score, so the probability at a threshold is
    interpolated between the orders scored just above and below it (clamped at the
    ends). Works for sigmoid and isotonic calibrators alike without reaching into
    their internals.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.size == 0:
        return [None for _ in at]
    order = np.argsort(scores, kind="stable")
    xs, ys = scores[order], np.asarray(rto_probability, dtype=float)[order]
    # Average duplicates so np.interp sees a function of the score.
    unique, inverse = np.unique(xs, return_inverse=True)
    means = np.bincount(inverse, weights=ys) / np.bincount(inverse)
    return [float(np.interp(value, unique, means)) for value in at]
