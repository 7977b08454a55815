"""A gradient-boosting challenger, for comparison only.

HistGradientBoosting on the raw as-of evidence, with monotonic constraints in the
directions the scorecard catalogue expects (more past RTOs never lowers the risk,
a confirmation never raises it, ...). It shows how much accuracy the readable
scorecard leaves on the table; it is evaluated next to it but never shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from ml import evidence as ev
from ml.band_placement import place_bands
from ml.bands import BandThresholds
from ml.calibration import calibrate
from ml.config import LeadScoreConfig
from ml.score_scaling import ScoreScaling
from ml.training_examples import LabelledEvidence

CHALLENGER_VERSION = "challenger"

# Direction of each numeric input on the probability of RTO: +1 never lowers it,
# -1 never raises it, 0 free.
MONOTONIC_RTO = {
    "time_on_page_s": -1,
    "scroll_depth_pct": -1,
    "products_viewed": -1,
    "form_completion_s": 0,  # bots fill the form in seconds: not monotonic
    "visits": -1,
    "shared_address_recent_orders": 1,
    "minutes_to_confirmation": 0,
    "whatsapp_confirmed": -1,
    "whatsapp_no_reply_2h": 1,
    "sms_replied": -1,
    "email_opened": -1,
    "conversation_answered": -1,
    "phone_unreachable": 1,
    "fraud_flagged": 1,
    "phone_is_valid": -1,
    "prepaid": -1,
    "is_first_order": 1,
    "customer_past_orders": 0,
    "customer_past_delivered": -1,
    "customer_past_rto": 1,
    "customer_past_refusals": 1,
    "city_rto_rate_prior": 1,
    "carrier_rto_rate_prior": 1,
    "platform_rto_rate_prior": 1,
    "order_total": 0,
}
CATEGORIES = {
    "whatsapp_confirmation": [
        ev.NOT_SENT,
        ev.AWAITING_REPLY,
        ev.REPLIED_WITHOUT_CONFIRMING,
        ev.NO_REPLY_IN_WINDOW,
        ev.CONFIRMED_QUICKLY,
        ev.CONFIRMED_IN_WINDOW,
        ev.CONFIRMED_LATE,
        ev.CANCELLED,
    ],
    "lead_source": ["storefront", "tiktok_lead_form"],
}


class ChallengerInputs(TransformerMixin, BaseEstimator):
    """As-of evidence -> numeric columns and two categorical ones for the booster."""

    def fit(self, evidence: pd.DataFrame, y: object = None) -> ChallengerInputs:
        """Nothing to learn."""
        return self

    def transform(self, evidence: pd.DataFrame) -> pd.DataFrame:
        """The columns of :data:`MONOTONIC_RTO` then :data:`CATEGORIES`."""
        out = pd.DataFrame(index=evidence.index)
        for column in MONOTONIC_RTO:
            if column == "prepaid":
                out[column] = (evidence["payment_method"] == "prepaid").astype(float)
            else:
                out[column] = pd.to_numeric(evidence[column].astype("Float64"), errors="coerce")
        out = out.astype(float)
        for column, categories in CATEGORIES.items():
            out[column] = pd.Categorical(evidence[column], categories=categories)
        return out


@dataclass
class ChallengerModel:
    """The calibrated booster, scored on the same scale and banded by the same scan."""

    version: str
    estimator: Any
    scaling: ScoreScaling
    bands: BandThresholds

    def rto_probability(self, evidence: pd.DataFrame) -> np.ndarray:
        """Calibrated P(RTO)."""
        return self.estimator.predict_proba(evidence)[:, 1]

    def scores(self, evidence: pd.DataFrame) -> np.ndarray:
        """The calibrated probability read on the scorecard scale."""
        return self.scaling.score_from_rto_probability(self.rto_probability(evidence))


def fit_challenger(
    train: LabelledEvidence,
    calibration: LabelledEvidence,
    decision: LabelledEvidence,
    config: LeadScoreConfig,
) -> ChallengerModel:
    """Fit on the training window, calibrate on the calibration window, band by profit."""
    booster = HistGradientBoostingClassifier(
        max_iter=config.challenger.max_iter,
        learning_rate=config.challenger.learning_rate,
        monotonic_cst={**MONOTONIC_RTO},
        categorical_features="from_dtype",
        random_state=0,
    )
    pipeline = Pipeline([("inputs", ChallengerInputs()), ("booster", booster)])
    pipeline.fit(train.evidence, train.rto, booster__sample_weight=train.weight)
    calibrated = calibrate(
        pipeline,
        calibration.evidence,
        calibration.rto,
        calibration.weight,
        method=config.calibration.method,
    )
    scaling = config.scaling.scaling()
    model = ChallengerModel(CHALLENGER_VERSION, calibrated, scaling, BandThresholds(0.0, 0.0))
    placement = place_bands(
        model.scores(decision.evidence),
        decision.rto,
        config.unit_economics,
        step=config.bands.scan_step,
        rto_probability=model.rto_probability(decision.evidence),
    )
    model.bands = placement.thresholds
    return model
