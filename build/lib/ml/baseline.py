"""The rule-based baseline of SPEC §4, read from ``ml/baseline_scorecard.yaml``.

The points are data an analyst edits; this module only reads them, checks that each
signal exists in the as-of evidence frame, and wraps the table as a scikit-learn
classifier so the baseline can be calibrated and evaluated exactly like a learned
model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin

from ml.bands import BandThresholds
from ml.calibration import calibrate, probability_at_scores
from ml.lead_score_model import LeadScoreModel
from ml.points_table import (
    PointsTableError,
    check_points_table,
    points_breakdown,
    scored_signals,
    total_score,
)
from ml.score_scaling import ScoreScaling

BASELINE_VERSION = "baseline"
DEFAULT_PATH = Path(__file__).with_name("baseline_scorecard.yaml")
# Columns of ml.evidence.evidence_as_of that a baseline row may name.
BASELINE_SIGNAL_COLUMNS = (
    "long_visit",
    "deep_scroll",
    "several_products",
    "whatsapp_confirmation",
    "whatsapp_confirmed",
    "whatsapp_no_reply_2h",
    "sms_replied",
    "email_opened",
    "conversation_answered",
    "phone_unreachable",
    "fraud_flagged",
    "lead_source",
    "payment_method",
    "platform",
)


class EvidenceFlags(TransformerMixin, BaseEstimator):
    """Reads the baseline's signals off the as-of evidence: flags become "yes" / "no"."""

    def __init__(self, signals: tuple[str, ...] = ()):
        self.signals = signals

    def fit(self, evidence: pd.DataFrame, y: object = None) -> EvidenceFlags:
        """Nothing to learn; present for the scikit-learn protocol."""
        return self

    def transform(self, evidence: pd.DataFrame) -> pd.DataFrame:
        """One column per signal with its bin label."""
        out = pd.DataFrame(index=evidence.index)
        for signal in self.signals:
            values = evidence[signal]
            if pd.api.types.is_bool_dtype(values.dtype):
                out[signal] = np.where(values.fillna(False).astype(bool), "yes", "no")
            else:
                out[signal] = values.astype(object).where(values.notna(), "unknown")
        return out.astype(object)


class PointsTableClassifier(ClassifierMixin, BaseEstimator):
    """A fixed points table as a classifier: P(RTO) is read from the score by the scaling.

    Fitting learns nothing (the points are given); it exists so that
    ``CalibratedClassifierCV(FrozenEstimator(...))`` can calibrate the table.
    """

    def __init__(
        self,
        binner: object = None,
        points: pd.DataFrame | None = None,
        scaling: ScoreScaling | None = None,
    ):
        self.binner = binner
        self.points = points
        self.scaling = scaling

    def fit(self, evidence: pd.DataFrame, y: object = None, sample_weight: object = None):
        """Record the classes (0 delivered, 1 RTO); the points are not changed."""
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, evidence: pd.DataFrame) -> np.ndarray:
        """Log-odds of RTO read from the points score."""
        breakdown = points_breakdown(self.binner.transform(evidence), self.points)
        return self.scaling.rto_log_odds_from_score(total_score(breakdown, self.points))

    def predict_proba(self, evidence: pd.DataFrame) -> np.ndarray:
        """Columns: P(delivered), P(RTO)."""
        rto = 1.0 / (1.0 + np.exp(-self.decision_function(evidence)))
        return np.column_stack([1.0 - rto, rto])

    def predict(self, evidence: pd.DataFrame) -> np.ndarray:
        """1 where RTO is the likelier outcome."""
        return (self.decision_function(evidence) > 0).astype(int)


def load_baseline_scorecard(path: Path | None = None) -> tuple[pd.DataFrame, BandThresholds]:
    """Read the baseline points table and its bands from YAML.

    Raises :class:`ml.points_table.PointsTableError` naming any signal that the as-of
    evidence frame does not provide.
    """
    text = Path(path or DEFAULT_PATH).read_text("utf-8")
    document = yaml.safe_load(text)
    rows = pd.DataFrame(document["points"])
    # YAML reads an unquoted yes / no as a boolean: give the label back.
    rows["bin"] = [("yes" if b else "no") if isinstance(b, bool) else b for b in rows["bin"]]
    table = check_points_table(rows)
    unknown = [s for s in scored_signals(table) if s not in BASELINE_SIGNAL_COLUMNS]
    if unknown:
        raise PointsTableError(
            f"baseline signal(s) {unknown} are not in the evidence frame; "
            f"choose among {list(BASELINE_SIGNAL_COLUMNS)}"
        )
    bands = BandThresholds(
        confirm_at=float(document["bands"]["confirm_at"]),
        review_at=float(document["bands"]["review_at"]),
        placed_by="baseline_scorecard.yaml",
    )
    return table, bands


def baseline_model(
    scaling: ScoreScaling,
    calibration: tuple[pd.DataFrame, np.ndarray, np.ndarray] | None = None,
    method: str = "sigmoid",
    path: Path | None = None,
) -> LeadScoreModel:
    """The baseline as a :class:`LeadScoreModel`.

    Without ``calibration`` its probability is the scaling's reading of the score
    (score 80 -> 20 % RTO). With ``calibration = (evidence, rto, weight)`` of a window,
    the probability is calibrated on it, so the baseline competes with a learned
    model on equal terms in the evaluation. The bands stay those of the YAML file.
    """
    table, bands = load_baseline_scorecard(path)
    binner = EvidenceFlags(signals=tuple(scored_signals(table)))
    classifier = PointsTableClassifier(binner=binner, points=table, scaling=scaling).fit(None)
    estimator: object = classifier
    card: dict[str, object] = {"kind": "rule-based baseline", "calibrated": False}
    bands = BandThresholds(
        bands.confirm_at,
        bands.review_at,
        float(scaling.rto_probability(bands.confirm_at)),
        float(scaling.rto_probability(bands.review_at)),
        bands.placed_by,
    )
    if calibration is not None:
        evidence, rto, weight = calibration
        estimator = calibrate(classifier, evidence, rto, weight, method=method)
        scores = total_score(points_breakdown(binner.transform(evidence), table), table)
        confirm_p, review_p = probability_at_scores(
            scores.to_numpy(),
            estimator.predict_proba(evidence)[:, 1],
            [bands.confirm_at, bands.review_at],
        )
        bands = BandThresholds(
            bands.confirm_at, bands.review_at, confirm_p, review_p, bands.placed_by
        )
        card["calibrated"] = True
    return LeadScoreModel(
        version=BASELINE_VERSION,
        binner=binner,
        points=table,
        scaling=scaling,
        estimator=estimator,
        bands=bands,
        card=card,
    )
