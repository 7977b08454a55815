"""The carrier pull job and its schedule: pull every account, ingest, rebuild the models.

``carrier_pull_job`` selects the carrier pull assets, ``raw/carrier_tracking_events``
that loads what they land, the dbt models downstream of it (by kind ``dbt``, not by
group names analysts may change), and the delivery-code instruction assets of the
accounts that opted in (``instructions.py``), which run after the orders mart. Every 15 minutes by default
(``COD360_CARRIER_PULL_CRON``): the carriers' quotas are small (Yalidine 50 a minute and
1 000 an hour by default, EcoTrack 50 a minute) and tracking moves by the hour. STOPPED
until an operator turns it on once the accounts' credentials are set; a tick is skipped
while the previous run is still going.
"""

from __future__ import annotations

import os

import dagster as dg

from connectors.carriers.config import CarrierAccount
from orchestration.defs.carrier_pulls.assets import RAW_TRACKING_KEY, pull_asset_key
from orchestration.defs.carrier_pulls.instructions import instruction_asset_key

PULL_JOB_NAME = "carrier_pull_job"
SCHEDULE_NAME = "carrier_pull_schedule"
DEFAULT_CRON = "*/15 * * * *"
_ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def carrier_pull_job_selection(accounts: list[CarrierAccount]) -> dg.AssetSelection:
    """The pulls, the raw tracking table they feed, the dbt models downstream of it, and
    the delivery-code instructions of the accounts that opted in (after the models)."""
    pulls = dg.AssetSelection.assets(*[pull_asset_key(a) for a in accounts])
    raw = dg.AssetSelection.assets(RAW_TRACKING_KEY)
    selection = pulls | raw | (raw.downstream() & dg.AssetSelection.kind("dbt"))
    instructed = [instruction_asset_key(a) for a in accounts if a.delivery_code_instruction]
    return selection | dg.AssetSelection.assets(*instructed) if instructed else selection


def carrier_pull_schedule_definitions(accounts: list[CarrierAccount]) -> dg.Definitions:
    if not accounts:
        return dg.Definitions()
    job = dg.define_asset_job(
        PULL_JOB_NAME,
        selection=carrier_pull_job_selection(accounts),
        # One process, steps in dependency order (pulls first); DuckDB has one writer.
        executor_def=dg.in_process_executor,
        description="Pull every configured carrier account, ingest the tracking, rebuild the models.",
    )

    @dg.schedule(
        name=SCHEDULE_NAME,
        job=job,
        cron_schedule=os.environ.get("COD360_CARRIER_PULL_CRON", DEFAULT_CRON),
        execution_timezone="Africa/Algiers",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Pulls tracking from every configured carrier API account, then ingests and models it.",
    )
    def carrier_pull_schedule(context: dg.ScheduleEvaluationContext):
        running = context.instance.get_runs(
            filters=dg.RunsFilter(job_name=PULL_JOB_NAME, statuses=_ACTIVE), limit=1
        )
        if running:
            return dg.SkipReason(f"run {running[0].run_id} of {PULL_JOB_NAME} is still going")
        return dg.RunRequest()

    return dg.Definitions(jobs=[job], schedules=[carrier_pull_schedule])
