"""One asset per campaign file, from one factory, and a schedule per enabled campaign.

Adding, changing or switching off a campaign is an edit of its YAML file in
``activations/campaigns/`` (``COD360_CAMPAIGNS_DIR`` to use another folder): the
asset, its description and its schedule follow. A disabled campaign keeps its
asset, which runs as a dry run (a preview of what it would send) and has no
schedule. A bad file stops the code location from loading, with an error naming
the file and the field: a typo never reaches a customer.
"""

import os
from pathlib import Path

import dagster as dg

from activations.audience import campaign_audience
from activations.campaign_config import CAMPAIGNS_DIR, Campaign, load_campaigns
from activations.campaign_planning import MessageSpec
from activations.campaign_runner import run_campaign
from activations.clients.resources import WhatsAppCloudResource
from common.settings import DBT_PROJECT_DIR
from orchestration.defs.activations.common import (
    ACTIVATIONS_GROUP,
    MESSAGE_DEPS,
    SEGMENT_KEYS,
    ActivationConfig,
    activation_key,
    failing_loudly_when_halted,
    report_metadata,
    run_mode,
)
from orchestration.defs.activations.flows import FLOW_KEYS
from orchestration.defs.activations.gates import enforce_quality_gate
from orchestration.defs.activations.measurement import build_campaign_results_asset
from orchestration.defs.activations.resources import whatsapp_deliverer
from orchestration.resources import WarehouseResource

SEGMENTS_DIR_ENV = "COD360_SEGMENTS_DIR"


def campaigns_dir() -> Path:
    return Path(os.environ.get("COD360_CAMPAIGNS_DIR") or CAMPAIGNS_DIR)


def segments_dir() -> Path:
    return Path(os.environ.get(SEGMENTS_DIR_ENV) or DBT_PROJECT_DIR / "segments")


def _description(campaign: Campaign) -> str:
    state = "enabled" if campaign.enabled else "disabled (runs as a dry run, no schedule)"
    variants = ", ".join(f"{n} → {t.name}" for n, t in campaign.variant_templates().items())
    return (
        f"{campaign.description.strip()}\n\n"
        f"Campaign file `{campaign.id}.yml`, {state}. Segment `{campaign.segment}`, "
        f"{campaign.category.value}, one message per {campaign.occasion.replace('_', ' ')}; "
        f"variants {variants}; holdout {campaign.holdout_share:.0%}; "
        f"cron `{campaign.schedule.cron}` ({campaign.schedule.timezone}). Writes "
        "`activations.outbox` (one row per customer and occasion, before sending) and "
        "`activations.campaign_runs`."
    )


def build_campaign_asset(campaign: Campaign) -> dg.AssetsDefinition:
    """The asset that plans, records and sends one campaign."""
    spec = MessageSpec.from_campaign(campaign)

    @dg.asset(
        key=activation_key(campaign.id),
        group_name=ACTIVATIONS_GROUP,
        deps=[*SEGMENT_KEYS, *MESSAGE_DEPS],
        kinds={"whatsapp", "python"},
        description=_description(campaign),
        owners=[f"team:{campaign.owner}"] if campaign.owner else None,
        tags={"cod360/activation": "campaign", "cod360/category": campaign.category.value},
        metadata={
            "segment": campaign.segment,
            "enabled": campaign.enabled,
            "cron": campaign.schedule.cron,
            "timezone": campaign.schedule.timezone,
        },
    )
    def _campaign(
        context: dg.AssetExecutionContext,
        config: ActivationConfig,
        warehouse: WarehouseResource,
        whatsapp: WhatsAppCloudResource,
    ) -> dg.MaterializeResult:
        enforce_quality_gate(context)
        if not campaign.enabled:
            dry_run, reason = True, "campaign disabled in its file: dry run, nothing sent"
            deliverer = None
        else:
            deliverer = None if config.dry_run else whatsapp_deliverer(whatsapp)
            dry_run, reason = run_mode(config, deliverer, "WhatsApp (WHATSAPP_ACCESS_TOKEN)")
        try:
            with failing_loudly_when_halted():
                report = run_campaign(
                    warehouse.connect,
                    spec,
                    lambda conn, now: campaign_audience(conn, campaign, now),
                    deliverer=deliverer,
                    dry_run=dry_run,
                    run_id=context.run.run_id,
                    mode_reason=reason,
                    grace=config.grace,
                )
        finally:
            if deliverer is not None:
                deliverer.close()
        context.log.info(f"{campaign.id}: {report.summary()}")
        return dg.MaterializeResult(metadata=report_metadata(report))

    return _campaign


def build_campaign_schedule(
    campaign: Campaign, asset: dg.AssetsDefinition
) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=f"{campaign.id}_schedule",
        target=dg.AssetSelection.assets(asset),
        cron_schedule=campaign.schedule.cron,
        execution_timezone=campaign.schedule.timezone,
        # The file's `enabled` is the switch: an enabled campaign's schedule starts running.
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Runs campaign {campaign.id} ({campaign.schedule.cron}).",
    )


@dg.definitions
def campaign_definitions() -> dg.Definitions:
    campaigns = load_campaigns(campaigns_dir(), segments_dir=segments_dir())
    assets = {c.id: build_campaign_asset(c) for c in campaigns}
    schedules = [build_campaign_schedule(c, assets[c.id]) for c in campaigns if c.enabled]
    results = build_campaign_results_asset([a.key for a in assets.values()] + FLOW_KEYS)
    return dg.Definitions(assets=[*assets.values(), results], schedules=schedules)
