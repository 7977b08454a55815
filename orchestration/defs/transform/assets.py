"""The dbt project as Dagster assets: staging, intermediate and marts, with dbt tests as checks.

Two ``@dbt_assets`` over the same manifest, split by named selectors as in
dagster-open-platform: the daily histories (incremental models that replace one run
date at a time, tagged ``daily_history``) with the models built from them, and the rest
(staging is incremental too: it appends what is new, macros/incremental.sql). Both take
:class:`DbtConfig`, so a full refresh of the histories is a Launchpad option, not a
code change.
"""

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from pydantic import Field

from common.segments import dbt_vars_args
from orchestration.dbt_project import cod360_dbt_project
from orchestration.resources import WarehouseResource

# The daily histories (customer_lifecycle_history, segment_*_history): incremental, so a
# run rebuilds one run date.
INCREMENTAL_SELECTOR = "tag:daily_history"
# The histories and what is built from them (segment_membership, *_changes, kpis). Split
# on INCREMENTAL_SELECTOR alone, the two sets would depend on each other both ways and
# Dagster would run the rest as several dbt invocations (the seeds alone first).
HISTORIES_SELECTOR = f"{INCREMENTAL_SELECTOR}+"


class Cod360DbtTranslator(DagsterDbtTranslator):
    """dagster-dbt's asset specs, plus a ``cod360/layer`` tag equal to the asset's group.

    Groups and owners come from dbt ``meta.dagster`` (``dbt_project.yml``) through the
    default translation; this only tags each asset with its group (``dbt`` when it has
    none), so the UI can filter one layer by tag across code locations.
    """

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        return spec.merge_attributes(tags={"cod360/layer": spec.group_name or "dbt"})


translator = Cod360DbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


class DbtConfig(dg.Config):
    """Run options of the dbt assets (Launchpad or ``run_config``)."""

    full_refresh: bool = Field(
        default=False,
        description="Rebuild incremental models from scratch (dbt --full-refresh): staging is "
        "parsed again from raw, and the daily histories lose the run dates the current data "
        "cannot reproduce.",
    )


def dbt_build_args(config: DbtConfig, segment_vars: list[str] | None = None) -> list[str]:
    """The dbt CLI arguments of one build; dagster-dbt adds the selection of the run.

    ``segment_vars`` is ``--vars`` with the compiled segment files (common.segments):
    the segment models are SQL rendered from them, so every engine runs them.
    """
    args = ["build", *(segment_vars or [])]
    if config.full_refresh:
        args.append("--full-refresh")
    return args


def _build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtConfig,
):
    """Builds (runs and tests) the selected dbt models and seeds, then adds row counts.

    Row counts are read with our own short-lived connection once dbt has exited:
    dagster-dbt's ``fetch_row_counts`` opens the warehouse through the dbt adapter
    inside this process and keeps that connection open, which locks DuckDB for every
    later step. Column schemas come from the dbt docs (the manifest) already.
    """
    segment_vars = dbt_vars_args(project_dir=cod360_dbt_project.project_dir)
    invocation = dbt.cli(dbt_build_args(config, segment_vars), context=context)
    events = list(invocation.stream())  # dbt holds the write lock until it exits
    nodes = invocation.manifest.get("nodes", {})
    with warehouse.connect(read_only=True) as conn:
        for event in events:
            yield _with_row_count(event, nodes, conn)


@dbt_assets(
    manifest=cod360_dbt_project.manifest_path,
    project=cod360_dbt_project,
    dagster_dbt_translator=translator,
    exclude=HISTORIES_SELECTOR,
)
def cod360_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtConfig,
):
    """Every dbt model, seed and test except the histories and the models built from them."""
    yield from _build(context, dbt, warehouse, config)


@dbt_assets(
    manifest=cod360_dbt_project.manifest_path,
    project=cod360_dbt_project,
    dagster_dbt_translator=translator,
    select=HISTORIES_SELECTOR,
)
def cod360_dbt_incremental_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtConfig,
):
    """The incremental dbt models (daily histories), the models built from them, their tests."""
    yield from _build(context, dbt, warehouse, config)


_PERIODS = {"minute": "minutes", "hour": "hours", "day": "days"}


def _window(threshold: Mapping[str, Any] | None) -> timedelta | None:
    if not threshold or threshold.get("count") is None or threshold.get("period") is None:
        return None
    return timedelta(**{_PERIODS[threshold["period"]]: threshold["count"]})


def source_freshness_policies(
    manifest: Mapping[str, Any], dagster_dbt_translator: DagsterDbtTranslator = translator
) -> dict[dg.AssetKey, dg.FreshnessPolicy]:
    """A freshness policy per dbt source that declares ``freshness``, keyed by its asset key.

    dbt's ``error_after`` becomes the fail window and ``warn_after`` the warn window
    (a source with only ``warn_after`` fails after it). The assets that load those
    sources (``raw/<source>``) carry the policies, so the UI shows a raw table that
    stopped arriving; nothing runs for it.
    """
    policies = {}
    for unique_id, source in manifest.get("sources", {}).items():
        freshness = (source.get("config") or {}).get("freshness") or source.get("freshness")
        if not freshness:
            continue
        warn, fail = _window(freshness.get("warn_after")), _window(freshness.get("error_after"))
        if fail is None and warn is None:
            continue
        policy = dg.FreshnessPolicy.time_window(
            fail_window=fail or warn, warn_window=warn if fail is not None else None
        )
        key = dagster_dbt_translator.get_asset_spec(manifest, unique_id, None).key
        policies[key] = policy
    return policies


def raw_source_freshness_policies() -> dict[dg.AssetKey, dg.FreshnessPolicy]:
    """:func:`source_freshness_policies` of the code location's dbt manifest."""
    return source_freshness_policies(json.loads(cod360_dbt_project.manifest_path.read_text()))


def _with_row_count(event, nodes: Mapping[str, Any], conn):
    if not isinstance(event, dg.Output | dg.AssetMaterialization):
        return event
    node = nodes.get(
        str(event.metadata.get("unique_id", "").value if event.metadata.get("unique_id") else "")
    )
    relation = node.get("relation_name") if node else None
    if not relation or node.get("config", {}).get("materialized") == "view":
        return event  # views are recomputed on read: counting them would run their query
    try:
        (count,) = conn.execute(f"select count(*) from {relation}").fetchone()
    except Exception:  # a model that failed to build has no table to count
        return event
    metadata = {**event.metadata, "dagster/row_count": dg.MetadataValue.int(int(count))}
    if isinstance(event, dg.Output):
        return dg.Output(
            event.value,
            output_name=event.output_name,
            metadata=metadata,
            data_version=event.data_version,
        )
    return event._replace(metadata=metadata)
