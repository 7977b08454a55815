"""The learned scorecard: a logistic regression on signal bins, read as a points table.

Pipeline: :class:`ml.signal_binning.SignalBinner` -> one-hot bins -> logistic
regression of RTO. With ``beta`` the coefficient of a bin and ``beta_0`` the intercept,
the scaling (:mod:`ml.score_scaling`) gives each bin ``-factor * beta`` points. Points
are then shifted so each signal's neutral bin earns 0, the shifts going to the
``base`` row; the sum over an order's bins is unchanged, so

    base + sum(points of the order's bins) == offset - factor * (RTO log-odds)

exactly, and the table is the model, not a summary of it.

Counter-intuitive directions (a bin the catalogue expects to deliver more earning
fewer points than a worse one) are not shipped silently: the worst one is fixed by
merging the two bins (or, for a yes/no signal, by dropping the signal), the model is
refitted, and every fix is reported as a :class:`SignAdjustment`.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from ml.config import ScorecardConfig
from ml.points_table import BASE_SIGNAL, check_points_table
from ml.score_scaling import ScoreScaling
from ml.scorecard_signals import LEARNED_SIGNALS, ScorecardSignal
from ml.signal_binning import SignalBinner


@dataclass(frozen=True)
class SignAdjustment:
    """One correction of a counter-intuitive direction, for the model card."""

    signal: str
    action: str  # "merged", "dropped" or "unresolved"
    bins: tuple[str, ...]
    points: tuple[float, ...]
    reason: str

    def as_dict(self) -> dict[str, object]:
        """Plain values for model cards."""
        return asdict(self)


@dataclass
class FittedScorecard:
    """The fitted pipeline, its points table and the adjustments made on the way."""

    pipeline: Pipeline
    points: pd.DataFrame
    adjustments: list[SignAdjustment] = field(default_factory=list)


def fit_scorecard(
    evidence: pd.DataFrame,
    rto: np.ndarray,
    weight: np.ndarray,
    scaling: ScoreScaling,
    config: ScorecardConfig,
    signals: tuple[ScorecardSignal, ...] = LEARNED_SIGNALS,
) -> FittedScorecard:
    """Fit the scorecard on labelled as-of evidence, fixing counter-intuitive signs.

    ``rto`` is 1 for orders that came back and 0 for delivered ones; ``weight`` lets
    several snapshots of one order count as one order.
    """
    merges: dict[str, dict[str, str]] = {}
    dropped: tuple[str, ...] = ()
    adjustments: list[SignAdjustment] = []
    while True:
        pipeline = _fit_pipeline(evidence, rto, weight, signals, merges, dropped, config)
        points = points_from_pipeline(pipeline, scaling, evidence, rto, weight)
        violation = _worst_violation(pipeline.named_steps["bins"], points, config)
        if violation is None:
            return FittedScorecard(pipeline, points, adjustments)
        name, better, worse, _gap = violation
        pair_points = (_points_of(points, name, better), _points_of(points, name, worse))
        reason = (
            f"expected '{better}' to earn at least the points of '{worse}', "
            f"got {pair_points[0]:+.1f} vs {pair_points[1]:+.1f}"
        )
        if len(adjustments) >= config.max_adjustments:
            adjustments.append(
                SignAdjustment(name, "unresolved", (better, worse), pair_points, reason)
            )
            return FittedScorecard(pipeline, points, adjustments)
        binner: SignalBinner = pipeline.named_steps["bins"]
        chain = binner.expected_order_[name]
        free_bins = set(binner.labels_[name]) - set(chain)
        if len(chain) > 2 or free_bins:
            merges = _merged(merges, binner, name, better, worse)
            action = "merged"
        else:
            dropped = (*dropped, name)
            action = "dropped"
        adjustments.append(SignAdjustment(name, action, (better, worse), pair_points, reason))


def points_from_pipeline(
    pipeline: Pipeline,
    scaling: ScoreScaling,
    evidence: pd.DataFrame,
    rto: np.ndarray,
    weight: np.ndarray,
) -> pd.DataFrame:
    """Read the fitted pipeline as a points table (see the module docstring).

    The training share and RTO rate of each bin (weighted as in the fit) are added so
    readers can see how much evidence stands behind each number.
    """
    binner: SignalBinner = pipeline.named_steps["bins"]
    encoder: OneHotEncoder = pipeline.named_steps["onehot"]
    model: LogisticRegression = pipeline.named_steps["logit"]
    coefficients = model.coef_[0]
    bins = binner.transform(evidence)
    weight = np.asarray(weight, dtype=float)
    rto = np.asarray(rto, dtype=float)
    base = scaling.offset - scaling.factor * float(model.intercept_[0])
    rows = []
    position = 0
    for signal, categories in zip(binner.active_signals, encoder.categories_, strict=True):
        raw = {
            str(c): -scaling.factor * coefficients[position + i] for i, c in enumerate(categories)
        }
        position += len(categories)
        neutral_points = raw[binner.neutral_[signal.name]]
        base += neutral_points
        column = bins[signal.name].to_numpy()
        for label, value in raw.items():
            member = column == label
            share = weight[member].sum() / weight.sum()
            rate = (weight[member] * rto[member]).sum() / max(weight[member].sum(), 1e-12)
            rows.append(
                {
                    "signal": signal.name,
                    "bin": label,
                    "points": value - neutral_points,
                    "description": signal.description,
                    "training_share": share,
                    "training_rto_rate": rate if member.any() else np.nan,
                }
            )
    base_row = {
        "signal": BASE_SIGNAL,
        "bin": "order submitted",
        "points": base,
        "description": "every order, all signals at their neutral bin",
        "training_share": 1.0,
        "training_rto_rate": float((weight * rto).sum() / weight.sum()),
    }
    return check_points_table(pd.DataFrame([base_row, *rows]))


def _fit_pipeline(
    evidence: pd.DataFrame,
    rto: np.ndarray,
    weight: np.ndarray,
    signals: tuple[ScorecardSignal, ...],
    merges: dict[str, dict[str, str]],
    dropped: tuple[str, ...],
    config: ScorecardConfig,
) -> Pipeline:
    binner = SignalBinner(signals=signals, merges=merges or None, dropped=dropped).fit(evidence)
    categories = [binner.labels_[s.name] for s in binner.active_signals]
    pipeline = Pipeline(
        [
            ("bins", binner),
            ("onehot", OneHotEncoder(categories=categories, sparse_output=False)),
            # Full one-hot (no dropped level): the L2 penalty makes it identifiable and
            # treats every bin alike; the neutral shift happens in the points table.
            # newton-cholesky: a few exact Newton steps on ~60 columns, converged tightly,
            # so the points reproduce the fitted log-odds to machine precision.
            (
                "logit",
                LogisticRegression(
                    C=config.regularization_c, solver="newton-cholesky", max_iter=200
                ),
            ),
        ]
    )
    # The binner is already fitted; refitting it on the same data gives the same edges.
    pipeline.fit(evidence, np.asarray(rto), logit__sample_weight=np.asarray(weight))
    return pipeline


def _points_of(points: pd.DataFrame, signal: str, label: str) -> float:
    row = points[(points["signal"] == signal) & (points["bin"] == label)]
    return float(row["points"].iloc[0])


def _worst_violation(
    binner: SignalBinner, points: pd.DataFrame, config: ScorecardConfig
) -> tuple[str, str, str, float] | None:
    worst: tuple[str, str, str, float] | None = None
    for name, chain in binner.expected_order_.items():
        for better, worse in itertools.pairwise(chain):
            gap = _points_of(points, name, worse) - _points_of(points, name, better)
            if gap > config.sign_tolerance_points and (worst is None or gap > worst[3]):
                worst = (name, better, worse, gap)
    return worst


def _merged(
    merges: dict[str, dict[str, str]], binner: SignalBinner, name: str, first: str, second: str
) -> dict[str, dict[str, str]]:
    merged_label = f"{first} | {second}"
    mapping = dict(merges.get(name, {}))
    for original in binner.raw_labels_[name]:
        if mapping.get(original, original) in (first, second):
            mapping[original] = merged_label
    return {**merges, name: mapping}
