"""One asset per campaign file, from one factory, and a schedule per enabled campaign.

Adding, changing or switching off a campaign is an edit of its YAML file in
``activations/campaigns/`` (``COD360_CAMPAIGNS_DIR`` to use another folder): the
asset, its description and its schedule follow. A disabled campaign keeps its
asset, which runs as a dry run (a preview of what it would send) and has no
schedule. A bad file disables that campaign only: its asset keeps its key, says
in its description what is wrong (file, field, reason), fails with the same
message when run, and has no schedule; the other campaigns load and run. A typo
never reaches a customer, and never takes the code location down.
"""

import logging
import os
import re
from pathlib import Path

import dagster as dg

from activations.audience import campaign_audience
from activations.campaign_config import CAMPAIGNS_DIR, Campaign, load_campaign_files
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
    marts_here,
    report_metadata,
    run_mode,
)
from orchestration.defs.activations.flows import FLOW_KEYS
from orchestration.defs.activations.gates import enforce_quality_gate
from orchestration.defs.activations.measurement import build_campaign_results_asset
from orchestration.defs.activations.resources import whatsapp_deliverer
from orchestration.resources import WarehouseResource

SEGMENTS_DIR_ENV = "COD360_SEGMENTS_DIR"
log = logging.getLogger(__name__)


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
        tags={
            "cod360/activation": "campaign",
            "cod360/category": campaign.category.value,
            "cod360/campaign_state": "on" if campaign.enabled else "off",
        },
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
        marts_here(context, warehouse)
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


def _broken_campaign_name(path: Path, taken: set[str]) -> str:
    """The file's name as an asset name (what the campaign's id would be once it is fixed)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", path.stem) or "campaign"
    return name if name not in taken else f"{name}_invalid_file"


def build_invalid_campaign_asset(name: str, path: Path, problems: list[str]) -> dg.AssetsDefinition:
    """A disabled stand-in for a campaign whose file is invalid: it shows and raises why."""
    listed = "\n".join(f"- {problem}" for problem in problems)

    @dg.asset(
        key=activation_key(name),
        group_name=ACTIVATIONS_GROUP,
        kinds={"whatsapp", "python"},
        description=(
            f"**Campaign disabled: its file `{path.name}` is invalid.** Nothing is sent until "
            f"the file is fixed; the other campaigns are not affected.\n\n{listed}"
        ),
        tags={"cod360/activation": "campaign", "cod360/campaign_file": "invalid"},
        metadata={"campaign_file": str(path), "enabled": False, "problems": len(problems)},
    )
    def _invalid_campaign() -> None:
        raise dg.Failure(
            description=f"campaign file {path} is invalid; nothing was sent:\n{listed}",
            metadata={"campaign_file": str(path), "problems": dg.MetadataValue.md(listed)},
            allow_retries=False,
        )

    return _invalid_campaign


@dg.definitions
def campaign_definitions() -> dg.Definitions:
    loaded = load_campaign_files(campaigns_dir(), segments_dir=segments_dir())
    assets = {c.id: build_campaign_asset(c) for c in loaded.campaigns}
    schedules = [build_campaign_schedule(c, assets[c.id]) for c in loaded.campaigns if c.enabled]
    results = build_campaign_results_asset([a.key for a in assets.values()] + FLOW_KEYS)
    invalid = []
    for path, problems in loaded.problems.items():
        log.warning("campaign disabled, invalid file:\n%s", "\n".join(problems))
        name = _broken_campaign_name(path, set(assets) | {a.key.path[-1] for a in invalid})
        invalid.append(build_invalid_campaign_asset(name, path, problems))
    return dg.Definitions(assets=[*assets.values(), *invalid, results], schedules=schedules)
