"""The pull job and its schedule: pull every store, ingest, rebuild the models.

``storefront_pull_job`` selects the pull assets, the ``raw/<platform>_orders``
assets that load what they land, and the dbt models downstream of those
(staging, intermediate and the marts, whose groups are business areas set in
dbt ``meta``: so the selection is by kind ``dbt``, not by group names that
analysts may change). Not the activations or the lead score, which keep their
own schedules. Every 5 minutes by default
(``COD360_STOREFRONT_PULL_CRON``), STOPPED until an operator turns it on once the
stores' credentials are set. A tick is skipped while the previous run is still
going (a first backfill can take longer than 5 minutes); the stores' own locks
would refuse a second pull anyway.
"""

from __future__ import annotations

import os

import dagster as dg

from connectors.storefronts.config import StoreConfig
from orchestration.defs.storefront_pulls.assets import pull_asset_key, raw_orders_key

PULL_JOB_NAME = "storefront_pull_job"
DEFAULT_CRON = "*/5 * * * *"
_ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def pull_job_selection(stores: list[StoreConfig]) -> dg.AssetSelection:
    """The pulls, the raw tables they feed, and the dbt models downstream of those."""
    pulls = dg.AssetSelection.assets(*[pull_asset_key(s) for s in stores])
    raw_keys = {key for s in stores if (key := raw_orders_key(s.platform)) is not None}
    if not raw_keys:
        return pulls
    raw = dg.AssetSelection.assets(*sorted(raw_keys, key=lambda k: k.to_user_string()))
    models = raw.downstream() & dg.AssetSelection.kind("dbt")
    return pulls | raw | models


def storefront_pull_schedule_definitions(stores: list[StoreConfig]) -> dg.Definitions:
    if not stores:
        return dg.Definitions()
    job = dg.define_asset_job(
        PULL_JOB_NAME,
        selection=pull_job_selection(stores),
        # One process, steps in dependency order (pulls first); DuckDB has one writer.
        executor_def=dg.in_process_executor,
        description="Pull every configured store, ingest the new landing files, rebuild the models.",
    )

    @dg.schedule(
        name="storefront_pull_schedule",
        job=job,
        cron_schedule=os.environ.get("COD360_STOREFRONT_PULL_CRON", DEFAULT_CRON),
        execution_timezone="Africa/Casablanca",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Pulls new and updated orders from every configured store, then ingests and models them.",
    )
    def storefront_pull_schedule(context: dg.ScheduleEvaluationContext):
        running = context.instance.get_runs(
            filters=dg.RunsFilter(job_name=PULL_JOB_NAME, statuses=_ACTIVE), limit=1
        )
        if running:
            return dg.SkipReason(f"run {running[0].run_id} of {PULL_JOB_NAME} is still going")
        return dg.RunRequest()

    return dg.Definitions(jobs=[job], schedules=[storefront_pull_schedule])
