"""Training a lead-score version: scorecard, calibration, profit bands, model card.

One call does the whole recipe on the warehouse's order frame:

1. validate the frame and see it as it was at the cutoff (:func:`ml.time_splits.known_at`);
2. lay out train | gap | calibration | gap | test windows;
3. fit the scorecard on training snapshots, fixing and reporting wrong signs;
4. calibrate it on the calibration window (frozen scorecard);
5. place the bands by profit on the calibration window at the decision horizon;
6. calibrate the rule-based baseline (and fit the challenger) on the same windows,
   so the evaluation compares like with like on the untouched test window.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pandas as pd
import sklearn
import skops

from ml.band_placement import place_bands
from ml.bands import BandThresholds
from ml.baseline import baseline_model
from ml.calibration import calibrate
from ml.challenger import ChallengerModel, fit_challenger
from ml.config import LeadScoreConfig, load_lead_score_config
from ml.evidence import DEFAULT_RULES
from ml.features import ORDER_CONTRACT, orders_fingerprint, validate_orders
from ml.lead_score_model import LeadScoreModel
from ml.scorecard import fit_scorecard
from ml.scorecard_signals import LEARNED_SIGNALS
from ml.time_splits import TimeSplits, known_at, plan_time_splits
from ml.training_examples import decision_snapshots, labelled_snapshots


@dataclass
class TrainedLeadScore:
    """A new version, the baseline and challenger calibrated alike, and the windows.

    ``reused``: the store already held a version trained on the same data with the same
    configuration, and ``model`` is that version (no baseline nor challenger was fitted).
    """

    model: LeadScoreModel
    baseline: LeadScoreModel | None
    challenger: ChallengerModel | None
    splits: TimeSplits
    rejected: pd.DataFrame
    reused: bool = False


def config_fingerprint(config: LeadScoreConfig) -> str:
    """SHA-256 of everything besides the data that decides what training produces.

    The YAML configuration, the signal catalogue with its bins, the evidence rules and
    the decision-time contract: a change to any of them makes a new version.
    """
    recipe = {
        "config": config.model_dump(mode="json"),
        "signals": repr(LEARNED_SIGNALS),
        "evidence_rules": repr(DEFAULT_RULES),
        "contract": repr(ORDER_CONTRACT),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def training_fingerprints(
    orders: pd.DataFrame, config: LeadScoreConfig, cutoff: pd.Timestamp | None = None
) -> tuple[str, str]:
    """(data fingerprint, config fingerprint) a training of ``orders`` would record."""
    validated = validate_orders(orders)
    cutoff = pd.Timestamp(cutoff) if cutoff is not None else data_cutoff(validated.orders)
    return orders_fingerprint(known_at(validated.orders, cutoff)), config_fingerprint(config)


def data_cutoff(orders: pd.DataFrame) -> pd.Timestamp:
    """The latest moment the frame knows of (last placement or resolution)."""
    return max(orders["placed_at"].max(), orders["resolved_at"].max())


def train_lead_score(
    orders: pd.DataFrame,
    config: LeadScoreConfig | None = None,
    *,
    cutoff: pd.Timestamp | None = None,
    version: str | None = None,
    trained_at: pd.Timestamp | None = None,
) -> TrainedLeadScore:
    """Train a lead-score version on the warehouse's order frame (see module docstring).

    ``cutoff`` trains as of a past moment (default: the latest moment in the data);
    ``version`` defaults to ``<trained_at UTC>-<data fingerprint>-<config fingerprint>``
    (prefixes). Raises
    :class:`ml.features.OrderContractError` on a malformed frame and
    :class:`ml.time_splits.InsufficientHistoryError` on too little history.
    """
    config = config or load_lead_score_config()
    scaling = config.scaling.scaling()
    validated = validate_orders(orders)
    cutoff = pd.Timestamp(cutoff) if cutoff is not None else data_cutoff(validated.orders)
    known = known_at(validated.orders, cutoff)
    splits = plan_time_splits(known, config.time_splits, cutoff)
    horizons = config.snapshots.horizon_deltas()
    decision_horizon = config.snapshots.decision_delta()

    train = labelled_snapshots(known, splits.train, horizons)
    calibration = labelled_snapshots(known, splits.calibration, horizons)
    decision = decision_snapshots(known, splits.calibration, decision_horizon)

    fitted = fit_scorecard(train.evidence, train.rto, train.weight, scaling, config.scorecard)
    calibrated = calibrate(
        fitted.pipeline,
        calibration.evidence,
        calibration.rto,
        calibration.weight,
        method=config.calibration.method,
    )
    fingerprint = orders_fingerprint(known)
    recipe = config_fingerprint(config)
    trained_at = trained_at or pd.Timestamp.now(tz="UTC")
    # Data and recipe in the name: two trainings in one second differ unless both match.
    version = version or f"{trained_at:%Y%m%dT%H%M%SZ}-{fingerprint[:8]}-{recipe[:4]}"
    model = LeadScoreModel(
        version=version,
        binner=fitted.pipeline.named_steps["bins"],
        points=fitted.points,
        scaling=scaling,
        estimator=calibrated,
        bands=BandThresholds(0.0, 0.0),
    )
    placement = place_bands(
        model.scores(decision.evidence),
        decision.rto,
        config.unit_economics,
        step=config.bands.scan_step,
        rto_probability=model.rto_probability(decision.evidence),
    )
    model.bands = placement.thresholds
    model.card = {
        "version": version,
        "kind": "learned scorecard",
        "trained_at": trained_at.isoformat(),
        "data_fingerprint": fingerprint,
        "config_fingerprint": recipe,
        "splits": splits.as_dict(),
        "snapshot_horizons": list(config.snapshots.horizons),
        "decision_horizon": config.snapshots.decision_horizon,
        "training_orders": train.orders,
        "calibration_orders": calibration.orders,
        "training_rto_rate": float((train.rto * train.weight).sum() / train.weight.sum()),
        "calibration_rto_rate": float(decision.rto.mean()),
        "scaling": scaling.as_dict(),
        "bands": model.bands.as_dict(),
        "band_profit_per_order_on_calibration": placement.profit_per_order,
        "sign_adjustments": [a.as_dict() for a in fitted.adjustments],
        "dropped_signals": list(fitted.pipeline.named_steps["bins"].dropped),
        "calibration_method": config.calibration.method,
        "rejected_rows": len(validated.rejected),
        "config": config.model_dump(mode="json"),
        "libraries": {"scikit-learn": sklearn.__version__, "skops": skops.__version__},
    }
    baseline = baseline_model(
        scaling,
        calibration=(calibration.evidence, calibration.rto, calibration.weight),
        method=config.calibration.method,
    )
    challenger = (
        fit_challenger(train, calibration, decision, config) if config.challenger.enabled else None
    )
    return TrainedLeadScore(model, baseline, challenger, splits, validated.rejected)
