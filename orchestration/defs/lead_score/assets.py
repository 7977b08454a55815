"""The lead score in Dagster: retrain, evaluate against the baseline, gate, promote, score.

``lead_score_model`` → ``lead_score_evaluation`` (its blocking check
``beats_baseline_and_approved_version`` only judges) → ``lead_score_approved_version``
(promotes, or keeps the previous version) → ``order_scores``. A refused version stops
the run at the check: nothing downstream runs and the approved version stays.

The model library is ``ml/``; these assets only move data between the warehouse
and the model store and show the results in the UI.
"""

import base64
import os

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model

from common.marts import MartError
from ml.config import load_lead_score_config
from ml.drift import drift_report
from ml.evaluation import EvaluationReport
from ml.features import ORDER_HISTORY_MART
from ml.markdown_tables import markdown_table
from ml.model_lifecycle import (
    evaluate_version,
    promote_if_approved,
    record_verdict,
    score_with_approved,
    train_and_store,
)
from ml.promotion import decide_promotion
from ml.store_resource import ModelStoreResource
from orchestration.defs.transform.assets import cod360_dbt_models
from orchestration.resources import WarehouseResource
from orchestration.staleness import why_behind
from orchestration.tags import GATE_BOUNDARY_TAG

LEAD_SCORE_GROUP = "lead_score"
ORDER_RTO_HISTORY = get_asset_key_for_model([cod360_dbt_models], ORDER_HISTORY_MART)
SCORES_TABLE = "ml.order_scores"
AUTO_PROMOTE_ENV = "COD360_AUTO_PROMOTE"


def auto_promote_enabled() -> bool:
    """``COD360_AUTO_PROMOTE`` is anything but 'false' (the default is to promote)."""
    return os.environ.get(AUTO_PROMOTE_ENV, "true").lower() != "false"


class LeadScoreTrainingConfig(dg.Config):
    """Which data a retraining sees."""

    cutoff: str | None = None
    """Train on what was known at this moment (ISO date or time, UTC). Default: all data."""


def _order_frame(warehouse: WarehouseResource, *, open_only: bool = False) -> pd.DataFrame:
    """``order_rto_history`` as the ML input contract wants it (tz-aware UTC timestamps)."""
    reader = warehouse.mart_reader()
    try:
        frame = reader.read(ORDER_HISTORY_MART, where="is_open" if open_only else None)
    except MartError as exc:
        raise dg.Failure(f"{exc} (materialize the dbt marts first)") from exc
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]) and frame[column].dt.tz is None:
            frame[column] = frame[column].dt.tz_localize("UTC")
    return frame


def _png_markdown(charts: dict[str, bytes]) -> str:
    return "\n\n".join(
        f"**{name}**\n\n![{name}](data:image/png;base64,{base64.b64encode(png).decode()})"
        for name, png in charts.items()
    )


@dg.asset(
    deps=[ORDER_RTO_HISTORY],
    group_name=LEAD_SCORE_GROUP,
    kinds={"scikitlearn", "python"},
    output_required=False,
    description=(
        "Retrains the lead-score scorecard on resolved orders (delivered vs RTO) from the "
        "leakage-free `order_rto_history`, calibrates it on a later window and places the "
        "bands by expected profit. Saves the version (model, points table, windows, data "
        "fingerprint) in the model store; returns the version name."
    ),
)
def lead_score_model(
    context: dg.AssetExecutionContext,
    config: LeadScoreTrainingConfig,
    warehouse: WarehouseResource,
    model_store: ModelStoreResource,
) -> dg.Output[str]:
    orders = _order_frame(warehouse)
    cutoff = pd.Timestamp(config.cutoff, tz="UTC") if config.cutoff else None
    context.log.info(f"Training on {len(orders)} orders (cutoff: {cutoff or 'all data'})")
    result = train_and_store(
        orders, model_store.get_store(), load_lead_score_config(), cutoff=cutoff
    )
    model = result.model
    if result.reused:
        context.log.info(
            f"Same data and configuration as {model.version}: reusing it, no new version"
        )
    return dg.Output(
        model.version,
        metadata={
            "version": model.version,
            "reused_existing_version": result.reused,
            "points_table": dg.MetadataValue.md(markdown_table(model.points)),
            "bands": dg.MetadataValue.json(model.bands.as_dict()),
            "time_splits": dg.MetadataValue.json(result.splits.as_dict()),
            "sign_adjustments": dg.MetadataValue.json(model.card.get("sign_adjustments", [])),
            "orders_rejected": len(result.rejected),
            "data_fingerprint": str(model.card.get("data_fingerprint", "")),
        },
    )


@dg.asset(
    deps=[ORDER_RTO_HISTORY],
    group_name=LEAD_SCORE_GROUP,
    kinds={"scikitlearn", "python"},
    description=(
        "Compares the new version with the rule-based baseline and the approved version on "
        "the same held-out, later-in-time window: AUC, average precision, Brier (and skill), "
        "log loss, profit at the bands; calibration and gains charts; band sizes and RTO rate "
        "per band. Records the promotion verdict with the version in the model store; the "
        "blocking check reads the same report."
    ),
)
def lead_score_evaluation(
    context: dg.AssetExecutionContext,
    lead_score_model: str,
    warehouse: WarehouseResource,
    model_store: ModelStoreResource,
) -> EvaluationReport:
    store = model_store.get_store()
    orders = _order_frame(warehouse)
    report = evaluate_version(orders, store, lead_score_model)
    verdict = record_verdict(store, lead_score_model, report, load_lead_score_config(), orders)
    context.add_output_metadata(
        {
            "version": lead_score_model,
            "verdict": verdict.summary(),
            "report": dg.MetadataValue.md(report.to_markdown()),
            "charts": dg.MetadataValue.md(_png_markdown(report.charts)),
            "metrics": dg.MetadataValue.md(markdown_table(report.metrics)),
            **evaluation_plot_metadata(report),
        }
    )
    return report


# The figures the UI's Plots tab charts across materializations, per contender.
PLOTTED_METRICS = (
    "auc",
    "brier",
    "ece",
    "ece_debiased",
    "ece_low",
    "ece_high",
    "log_loss",
    "profit_per_order",
)


def evaluation_plot_metadata(report: EvaluationReport) -> dict[str, dg.MetadataValue]:
    """``<contender>/<metric>`` as numeric metadata (NaN left out: it cannot be charted)."""
    values: dict[str, dg.MetadataValue] = {}
    for row in report.metrics.to_dict("records"):
        for metric in PLOTTED_METRICS:
            value = row.get(metric)
            if value is not None and pd.notna(value):
                values[f"{row['contender']}/{metric}"] = dg.MetadataValue.float(float(value))
    values["test_rto_rate"] = dg.MetadataValue.float(float(report.rto_rate))
    values["test_orders"] = dg.MetadataValue.int(int(report.orders))
    return values


@dg.asset_check(
    asset=lead_score_evaluation,
    name="beats_baseline_and_approved_version",
    blocking=True,
    description=(
        "Refuses a version that is worse than the rule-based baseline or than the approved "
        "version on the same held-out window (AUC, Brier, log loss, profit at the bands), "
        "or that is stale: drifted beyond `drift.tolerance` on the orders resolved after its "
        "calibration window. "
        "Blocking: when it fails, `lead_score_approved_version` and `order_scores` do not run "
        "and the approved version stays."
    ),
)
def lead_score_promotion_gate(
    lead_score_evaluation: EvaluationReport, model_store: ModelStoreResource
) -> dg.AssetCheckResult:
    report = lead_score_evaluation
    store = model_store.get_store()
    # The verdict the evaluation recorded (it saw the order frame, so drift counts too);
    # decided again from the report alone if none was recorded.
    verdict = (
        store.decision(report.candidate_version)
        or decide_promotion(report, load_lead_score_config().promotion).as_dict()
    )
    return dg.AssetCheckResult(
        passed=bool(verdict["approved"]),
        description=verdict["summary"],
        metadata={
            "version": report.candidate_version,
            "approved_version": store.approved_version() or "none (baseline scores orders)",
            "checks": dg.MetadataValue.json(verdict["checks"]),
        },
    )


@dg.asset(
    group_name=LEAD_SCORE_GROUP,
    kinds={"python"},
    # A refused candidate leaves the approved version as it was: activations downstream
    # keep acting on scores from it (see orchestration/tags.py).
    tags={GATE_BOUNDARY_TAG: "true"},
    description=(
        "The lead-score version that scores orders (the model store's approved pointer). "
        "Runs after the blocking check `beats_baseline_and_approved_version` passed: promotes "
        "the evaluated version when its recorded verdict approves it and COD360_AUTO_PROMOTE "
        "is not 'false'; otherwise keeps the previously approved version (the rule-based "
        "baseline before any)."
    ),
)
def lead_score_approved_version(
    context: dg.AssetExecutionContext,
    lead_score_evaluation: EvaluationReport,
    model_store: ModelStoreResource,
) -> dg.MaterializeResult:
    store = model_store.get_store()
    candidate = lead_score_evaluation.candidate_version
    before = store.approved_version()
    auto_promote = auto_promote_enabled()
    # The verdict is read from the store, not assumed from the check: a run that selects
    # this asset without its check still never promotes a refused version.
    approved = promote_if_approved(store, candidate, auto_promote=auto_promote)
    promoted = approved == candidate and approved != before
    if approved != candidate:
        why = "promotion by hand (COD360_AUTO_PROMOTE=false)" if not auto_promote else "refused"
        context.log.info(f"{candidate} not promoted ({why}); approved stays {approved}")
    return dg.MaterializeResult(
        metadata={
            "approved_version": approved or "none (baseline scores orders)",
            "candidate_version": candidate,
            "promoted": promoted,
            "previous_version": before or "none",
            "auto_promote": auto_promote,
        }
    )


@dg.asset(
    deps=[ORDER_RTO_HISTORY, lead_score_approved_version],
    group_name=LEAD_SCORE_GROUP,
    kinds={"duckdb", "python"},
    description=(
        "Scores every live open order (`is_open`: not stale by the marts' "
        "`open_order_stale_after_days` rule) with the approved lead-score version (the "
        "rule-based baseline until one is approved): RTO probability, score, band (confirm / "
        "review / hold) and the top positive and negative signals behind it, with the "
        "rule-based baseline's score and band beside them for comparison. Replaces "
        "`ml.order_scores`."
    ),
)
def order_scores(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, model_store: ModelStoreResource
) -> dg.MaterializeResult:
    orders = _order_frame(warehouse, open_only=True)
    scored = score_with_approved(orders, model_store.get_store())
    scores = scored.scores.merge(
        orders[["order_ref", "customer_phone"]], on="order_ref", how="left"
    )
    scores = scores.rename(
        columns={
            "top_positive_signals": "top_positive_reasons",
            "top_negative_signals": "top_negative_reasons",
        }
    )
    scores["scored_at"] = pd.to_datetime(scores["scored_at"], utc=True).dt.tz_localize(None)
    with warehouse.connect() as conn:
        conn.execute("create schema if not exists ml")
        conn.register("_scores", scores)
        conn.execute(f"create or replace table {SCORES_TABLE} as select * from _scores")
        conn.unregister("_scores")
    bands = scores["band"].value_counts().to_dict() if len(scores) else {}
    for row in scored.rejected.head(20).itertuples():
        context.log.warning(
            f"order {row.order_ref}: not scored, field '{row.field}': {row.problem}"
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(scores),
            "orders_not_scored": len(scored.rejected),
            "model_version": ", ".join(sorted(scores["model_version"].unique()))
            if len(scores)
            else "",
            "band_sizes": dg.MetadataValue.json({str(k): int(v) for k, v in bands.items()}),
            "preview": dg.MetadataValue.md(
                markdown_table(
                    scores[
                        ["order_ref", "score", "band", "rto_probability", "top_negative_reasons"]
                    ].head(10)
                )
                if len(scores)
                else "No open order."
            ),
        }
    )


@dg.asset_check(
    asset=lead_score_approved_version,
    name="approved_version_has_not_drifted",
    description=(
        "Compares the approved version's decision-time RTO probabilities with the realised "
        "RTO of the orders placed after its calibration window that have resolved since, per "
        "platform, carrier and band. Warns when a group of at least `drift.min_orders` "
        "orders is more than `drift.tolerance` away (ml/lead_score_config.yaml): retraining "
        "is due on evidence, not on habit."
    ),
)
def approved_version_has_not_drifted(
    warehouse: WarehouseResource, model_store: ModelStoreResource
) -> dg.AssetCheckResult:
    store = model_store.get_store()
    model = store.load_approved()
    if model is None:
        return dg.AssetCheckResult(
            passed=True, description="No approved version: the rule baseline scores orders."
        )
    report = drift_report(model, _order_frame(warehouse), load_lead_score_config().drift)
    gaps = {
        f"gap/{row.dimension}/{row.value}": dg.MetadataValue.float(float(row.gap))
        for row in report.groups.itertuples()
    }
    return dg.AssetCheckResult(
        passed=report.drifted.empty,
        severity=dg.AssetCheckSeverity.WARN,
        description=report.summary(),
        metadata={
            "version": model.version,
            "groups": dg.MetadataValue.md(markdown_table(report.groups))
            if len(report.groups)
            else "none yet",
            **gaps,
        },
    )


lead_score_training_schedule = dg.ScheduleDefinition(
    name="lead_score_weekly_retraining",
    target=dg.AssetSelection.assets(
        lead_score_model, lead_score_evaluation, lead_score_approved_version
    ),
    cron_schedule="0 3 * * 1",
    execution_timezone="Africa/Casablanca",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Retrain, evaluate and (if the gate approves) promote the lead score every Monday at 03:00.",
)

SCORING_TIMEZONE = "Africa/Casablanca"


@dg.schedule(
    name="order_scoring_every_15_minutes",
    target=dg.AssetSelection.assets(order_scores),
    cron_schedule="*/15 * * * *",
    execution_timezone=SCORING_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=(
        "Every 15 minutes, scores the open orders with the approved version, if anything "
        "it reads has changed: order_rto_history or the approved version materialized since "
        "the last scoring, or the last scoring was on an earlier day (the staleness rule "
        "counts days). A tick with nothing new is skipped. The landing sensor scores new "
        "orders itself as soon as their files are modelled."
    ),
)
def order_scoring_schedule(context: dg.ScheduleEvaluationContext):
    reason = why_behind(
        context.instance,
        order_scores.key,
        [ORDER_RTO_HISTORY, lead_score_approved_version.key],
        now=context.scheduled_execution_time or pd.Timestamp.now(tz="UTC").to_pydatetime(),
        day_timezone=SCORING_TIMEZONE,
    )
    if reason is None:
        return dg.SkipReason("Nothing order_scores reads has changed since it last ran.")
    context.log.info(f"Scoring: {reason}")
    return dg.RunRequest(tags={"cod360/scoring_reason": reason[:200]})
