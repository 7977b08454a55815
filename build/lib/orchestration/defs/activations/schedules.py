"""Schedules of the flows (campaign schedules come from their files: ``campaigns.py``).

They start STOPPED: an operator turns them on in the UI once the WhatsApp, SMS and
storefront credentials of the deployment are set (without them the assets only
dry-run). Each run selects one activation; the quality gate reads the upstream
checks' latest evaluations (``gates.py``).
"""

import dagster as dg

from orchestration.defs.activations.common import activation_key


def _schedule(name: str, assets: list[str], cron: str, description: str) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=name,
        target=dg.AssetSelection.assets(*[activation_key(a) for a in assets]),
        cron_schedule=cron,
        execution_timezone="Africa/Casablanca",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=description,
    )


order_confirmation_schedule = _schedule(
    "order_confirmation_schedule",
    ["order_confirmation", "order_confirmation_sms_fallback"],
    "*/15 * * * *",
    "Confirmation messages for new COD orders, and the SMS fallback after 2 h of silence.",
)
delivery_codes_schedule = _schedule(
    "delivery_codes_schedule",
    ["delivery_codes", "delivery_reattempts"],
    "*/10 6-21 * * *",
    "Delivery codes for parcels out for delivery; re-attempt notices after a missing code.",
)
storefront_decisions_schedule = _schedule(
    "storefront_decisions_schedule",
    ["storefront_decisions", "agent_queue"],
    "*/15 * * * *",
    "Push scoring decisions to the storefronts and refresh the agent queue.",
)
campaign_results_schedule = _schedule(
    "campaign_results_schedule",
    ["campaign_results"],
    "0 6 * * *",
    "Recompute treated vs holdout results and the template funnel.",
)
