"""The lead-score configuration, read from ``ml/lead_score_config.yaml``.

The YAML file is the single documented source of the values; these models only type
and check them, so a typo in the file is a clear error rather than a silent default.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ml.score_scaling import ScoreScaling

# Shipped beside this module (the package may be a namespace package in editable installs,
# where importlib.resources cannot read it).
DEFAULT_PATH = Path(__file__).with_name("lead_score_config.yaml")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScalingConfig(_Section):
    """Points-to-double-odds scaling (see ml/score_scaling.py)."""

    points_to_double_odds: float = Field(gt=0)
    anchor_score: float
    anchor_odds: float = Field(gt=0)

    def scaling(self) -> ScoreScaling:
        """As a :class:`ml.score_scaling.ScoreScaling`."""
        return ScoreScaling(self.points_to_double_odds, self.anchor_score, self.anchor_odds)


class UnitEconomics(_Section):
    """Money per order (MAD) and what an agent review achieves."""

    delivered_margin: float = Field(ge=0)
    rto_forward_shipping: float = Field(ge=0)
    rto_return_shipping: float = Field(ge=0)
    rto_handling: float = Field(ge=0)
    review_cost: float = Field(ge=0)
    review_prevents_rto_share: float = Field(ge=0, le=1)
    review_loses_delivery_share: float = Field(ge=0, le=1)

    @property
    def rto_cost(self) -> float:
        """What one RTO costs."""
        return self.rto_forward_shipping + self.rto_return_shipping + self.rto_handling


class TimeSplitConfig(_Section):
    """Window lengths and the gap rule of the time splits."""

    calibration_days: int = Field(gt=0)
    test_days: int = Field(gt=0)
    min_gap_days: int = Field(ge=0)
    latency_quantile: float = Field(gt=0, le=1)
    min_train_orders: int = Field(gt=0)
    min_window_orders: int = Field(gt=0)


class SnapshotConfig(_Section):
    """Moments after placement at which orders are seen."""

    horizons: tuple[str, ...]
    decision_horizon: str

    @field_validator("horizons", "decision_horizon")
    @classmethod
    def _readable(cls, value: object) -> object:
        for item in value if isinstance(value, tuple) else (value,):
            if pd.Timedelta(item) < pd.Timedelta(0):
                raise ValueError(f"horizon {item!r} is negative")
        return value

    def horizon_deltas(self) -> list[pd.Timedelta]:
        """Training horizons as time deltas."""
        return [pd.Timedelta(h) for h in self.horizons]

    def decision_delta(self) -> pd.Timedelta:
        """Decision horizon as a time delta."""
        return pd.Timedelta(self.decision_horizon)


class ScorecardConfig(_Section):
    """Fitting of the learned scorecard."""

    regularization_c: float = Field(gt=0)
    sign_tolerance_points: float = Field(ge=0)
    max_adjustments: int = Field(ge=0)


class CalibrationConfig(_Section):
    """Calibrator choice."""

    method: str = Field(pattern="^(sigmoid|isotonic)$")


class BandScanConfig(_Section):
    """Grid of the band threshold scan."""

    scan_step: float = Field(gt=0)


class PromotionTolerances(_Section):
    """How much worse than the approved version or the baseline a candidate may be."""

    max_auc_drop: float = Field(ge=0)
    max_brier_rise: float = Field(ge=0)
    max_log_loss_rise: float = Field(ge=0)
    max_profit_drop_per_order: float = Field(ge=0)


class ReasonConfig(_Section):
    """Per-order reasons."""

    top_n: int = Field(gt=0)


class ChallengerConfig(_Section):
    """The gradient-boosting challenger (comparison only)."""

    enabled: bool
    max_iter: int = Field(gt=0)
    learning_rate: float = Field(gt=0)


class DriftConfig(_Section):
    """When predicted and realised RTO rates have drifted apart after deployment."""

    tolerance: float = Field(gt=0, le=1)
    min_orders: int = Field(gt=0)


class LeadScoreConfig(_Section):
    """Everything the lead-score training, evaluation and promotion read."""

    scaling: ScalingConfig
    unit_economics: UnitEconomics
    time_splits: TimeSplitConfig
    snapshots: SnapshotConfig
    scorecard: ScorecardConfig
    calibration: CalibrationConfig
    bands: BandScanConfig
    promotion: PromotionTolerances
    reasons: ReasonConfig
    challenger: ChallengerConfig
    drift: DriftConfig


def load_lead_score_config(path: Path | str | None = None) -> LeadScoreConfig:
    """Read the configuration (the packaged ``lead_score_config.yaml`` by default).

    Raises ``pydantic.ValidationError`` naming the offending key on a bad file.
    """
    text = Path(path or DEFAULT_PATH).read_text("utf-8")
    return LeadScoreConfig.model_validate(yaml.safe_load(text))
