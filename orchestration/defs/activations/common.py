"""What every activation asset shares: run config, asset keys it reads, metadata, mode."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from pydantic import Field

from activations.campaign_runner import CampaignHalted, CampaignReport
from activations.warehouse_tables import (
    ACTIVATION_MARTS,
    CUSTOMER_360_MODEL,
    INBOUND_MESSAGES_MODEL,
    ORDERS_MODEL,
    SEGMENT_MEMBERSHIP_MODEL,
    USER_PREFERENCES_MODEL,
)
from orchestration.defs.lead_score.assets import order_scores
from orchestration.defs.transform.assets import cod360_dbt_models
from orchestration.resources import WarehouseResource

ACTIVATIONS_GROUP = "activations"
# The lead-score asset that writes ml.order_scores: its own key, so lineage follows a rename.
ORDER_SCORES_KEY = order_scores.key
# Reconciliation reads the raw webhooks (activations.outbox parses the callback data).
WHATSAPP_WEBHOOKS_KEY = dg.AssetKey(["raw", "whatsapp_webhooks"])


def model_key(name: str) -> dg.AssetKey:
    return get_asset_key_for_model([cod360_dbt_models], name)


def activation_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([ACTIVATIONS_GROUP, name])


ORDERS_KEY = model_key(ORDERS_MODEL)
INBOUND_KEY = model_key(INBOUND_MESSAGES_MODEL)
USER_PREFERENCES_KEY = model_key(USER_PREFERENCES_MODEL)
SEGMENT_KEYS = [model_key(SEGMENT_MEMBERSHIP_MODEL), model_key(CUSTOMER_360_MODEL)]
# Every send refreshes the opt-outs first (inbound STOPs, user preferences, webhooks).
MESSAGE_DEPS = [ORDERS_KEY, INBOUND_KEY, USER_PREFERENCES_KEY, WHATSAPP_WEBHOOKS_KEY]


class ActivationConfig(dg.Config):
    """Run options every sending activation accepts (Launchpad or ``run_config``)."""

    dry_run: bool = Field(
        default=False,
        description="Plan only: write what would be sent to activations.dry_run_sends and the "
        "run's metadata; build no client, call nobody.",
    )
    reconcile_grace_minutes: float = Field(
        default=30.0,
        ge=0,
        description="How long after an unanswered send, with webhooks ingested since, the "
        "message counts as not accepted and is sent again.",
    )

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.reconcile_grace_minutes)


def run_mode(
    config: ActivationConfig, deliverer: object | None, missing: str
) -> tuple[bool, str | None]:
    """``(dry_run, why)``: asked for, or forced because the channel is not configured."""
    if config.dry_run:
        return True, "dry run requested in the run config"
    if deliverer is None:
        return True, f"{missing} not configured: dry run, nothing sent"
    return False, None


def _samples_markdown(samples: list[dict]) -> str:
    if not samples:
        return "No audience."
    header = (
        "| customer | order | verdict | reason | variant | template |\n|---|---|---|---|---|---|"
    )
    lines = [
        f"| {s.get('customer_phone_masked')} | {s.get('order_ref') or '-'} | {s.get('verdict')} "
        f"| {s.get('reason') or '-'} | {s.get('variant') or '-'} | {s.get('template_name') or '-'} |"
        for s in samples
    ]
    return "\n".join([header, *lines])


def report_metadata(report: CampaignReport) -> dict[str, object]:
    """Counts and masked sample rows: what the UI shows for one run of a campaign."""
    summary = report.summary()
    rules = summary.pop("suppressed_by_rule")
    return {
        **{k: v for k, v in summary.items()},
        "suppressed_by_rule": dg.MetadataValue.json(rules),
        "reconciliation": dg.MetadataValue.json(report.reconciliation or {}),
        "sample_rows": dg.MetadataValue.md(_samples_markdown(report.samples)),
    }


@contextmanager
def failing_loudly_when_halted() -> Iterator[None]:
    """A run the breaker stopped (template, account or credential refused) fails the asset
    with the vendor's code and the template, instead of materialising green."""
    try:
        yield
    except CampaignHalted as halted:
        raise dg.Failure(
            description=str(halted),
            metadata={
                "error_code": str(halted.code),
                "template": halted.template or "-",
                "left_to_send": halted.report.awaiting_retry,
                **report_metadata(halted.report),
            },
        ) from halted


def marts_here(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> None:
    """On a Spark target, copy the marts activations read into the DuckDB store first
    (``WarehouseResource.copy_marts_here``; docs/spark.md); on DuckDB, nothing to do."""
    copied = warehouse.copy_marts_here(ACTIVATION_MARTS)
    if copied:
        context.log.info(f"marts copied from {warehouse.marts_engine}: {copied}")
