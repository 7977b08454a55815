"""The steps the orchestration runs, each one call: train, evaluate (and record the
verdict), promote if approved, score.

Assets pass a version name between steps, never a model object: everything a later
step needs is in the store (the model card holds the windows and horizons), so each
step can be re-run alone.
"""

from __future__ import annotations

import pandas as pd

from ml.baseline import baseline_model
from ml.challenger import fit_challenger
from ml.config import LeadScoreConfig, load_lead_score_config
from ml.drift import staleness_report
from ml.evaluation import EvaluationReport, evaluate_lead_score
from ml.features import validate_orders
from ml.model_store import ModelStore
from ml.order_scoring import ScoredOrders, score_orders
from ml.promotion import PromotionDecision, decide_promotion
from ml.time_splits import TimeSplits, known_at
from ml.training import TrainedLeadScore, train_lead_score, training_fingerprints
from ml.training_examples import decision_snapshots, labelled_snapshots


def train_and_store(
    orders: pd.DataFrame,
    store: ModelStore,
    config: LeadScoreConfig | None = None,
    *,
    cutoff: pd.Timestamp | None = None,
) -> TrainedLeadScore:
    """Train a version on the order frame and save it; ``result.model.version`` names it.

    When the store already holds a version trained on the same data (fingerprint) with
    the same configuration, that version is returned (``result.reused``) and nothing new
    is stored: three retrains on unchanged data leave one version, not three copies.
    """
    config = config or load_lead_score_config()
    data_fp, config_fp = training_fingerprints(orders, config, cutoff)
    existing = store.find_version(data_fp, config_fp)
    if existing is not None:
        model = store.load(existing)
        return TrainedLeadScore(
            model=model,
            baseline=None,
            challenger=None,
            splits=TimeSplits.from_dict(model.card["splits"]),
            rejected=validate_orders(orders).rejected,
            reused=True,
        )
    result = train_lead_score(orders, config, cutoff=cutoff)
    store.save(result.model)
    return result


def evaluate_version(
    orders: pd.DataFrame,
    store: ModelStore,
    version: str,
    config: LeadScoreConfig | None = None,
    *,
    include_challenger: bool | None = None,
) -> EvaluationReport:
    """Evaluate a stored version against the baseline and the approved version.

    The baseline is calibrated on the version's own calibration window; the approved
    version (if any, and not this one) is loaded from the store; the challenger is
    refitted on the version's training window when enabled. The report is saved with
    the version and returned.
    """
    config = config or load_lead_score_config()
    candidate = store.load(version)
    splits = TimeSplits.from_dict(candidate.card["splits"])
    horizons = [pd.Timedelta(h) for h in candidate.card["snapshot_horizons"]]
    known = known_at(validate_orders(orders).orders, splits.cutoff)
    calibration = labelled_snapshots(known, splits.calibration, horizons)
    baseline = baseline_model(
        config.scaling.scaling(),
        calibration=(calibration.evidence, calibration.rto, calibration.weight),
        method=config.calibration.method,
    )
    approved = store.approved_version()
    previous = store.load(approved) if approved and approved != version else None
    challenger = None
    wanted = config.challenger.enabled if include_challenger is None else include_challenger
    if wanted:
        train = labelled_snapshots(known, splits.train, horizons)
        decision = decision_snapshots(
            known, splits.calibration, pd.Timedelta(candidate.card["decision_horizon"])
        )
        challenger = fit_challenger(train, calibration, decision, config)
    report = evaluate_lead_score(
        candidate, baseline, orders, config, previous=previous, challenger=challenger
    )
    store.save_evaluation(version, report)
    return report


def record_verdict(
    store: ModelStore,
    version: str,
    report: EvaluationReport,
    config: LeadScoreConfig | None = None,
    orders: pd.DataFrame | None = None,
) -> PromotionDecision:
    """Decide whether ``version`` may replace the approved one; keep the verdict with it.

    With ``orders`` (the warehouse's order frame now), a version that has drifted on the
    mature orders placed after its test window is refused as stale (:mod:`ml.promotion`).

    Nothing is promoted here: the verdict is what :func:`promote_if_approved` (and
    ``python -m ml promote``) read later.
    """
    config = config or load_lead_score_config()
    drift = (
        staleness_report(store.load(version), orders, config.drift) if orders is not None else None
    )
    decision = decide_promotion(report, config.promotion, drift)
    store.record_decision(version, decision)
    return decision


def promote_if_approved(store: ModelStore, version: str, *, auto_promote: bool) -> str | None:
    """Promote ``version`` if its recorded verdict approves it and ``auto_promote`` is on.

    Returns the approved version afterwards: ``version``, or the one approved before
    (``None`` before any) when the verdict refused it, it was never evaluated, or
    promotion is by hand.
    """
    verdict = store.decision(version)
    if auto_promote and verdict is not None and verdict.get("approved"):
        store.promote(version, note="promoted by the lead-score approved-version asset")
    return store.approved_version()


def gate_promotion(
    store: ModelStore,
    version: str,
    report: EvaluationReport,
    config: LeadScoreConfig | None = None,
    *,
    auto_promote: bool = False,
) -> PromotionDecision:
    """Decide, record the verdict with the version, and promote it if asked and approved.

    The two steps in one call, for notebooks and tests; the orchestration runs them as
    two assets with the blocking check between them.
    """
    decision = record_verdict(store, version, report, config)
    promote_if_approved(store, version, auto_promote=auto_promote)
    return decision


def score_with_approved(
    orders: pd.DataFrame,
    store: ModelStore,
    as_of: pd.Timestamp | pd.Series | None = None,
    config: LeadScoreConfig | None = None,
) -> ScoredOrders:
    """Score orders with the approved version, or the rule-based baseline before any.

    The baseline's probability is then the scaling's reading of its score (it has not
    been calibrated); ``model_version`` says which one scored each order. Every row also
    carries the rule-based baseline's ``baseline_score``, ``baseline_band`` and
    ``baseline_rto_probability`` for the same evidence, so the two can be compared order
    by order (SPEC §4: every version is compared with the baseline).
    """
    config = config or load_lead_score_config()
    baseline = baseline_model(config.scaling.scaling())
    model = store.load_approved() or baseline
    scored = score_orders(model, orders, as_of=as_of, top_n=config.reasons.top_n)
    reference = score_orders(baseline, orders, as_of=as_of, top_n=config.reasons.top_n)
    beside = reference.scores.set_index("order_ref")
    for column in BASELINE_COLUMNS:
        scored.scores[f"baseline_{column}"] = (
            beside[column].reindex(scored.scores["order_ref"]).to_numpy()
        )
    return scored


# The baseline's columns kept beside the approved version's in every score row.
BASELINE_COLUMNS = ("score", "band", "rto_probability")
