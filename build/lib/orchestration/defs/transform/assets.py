"""The dbt project as Dagster assets: staging, intermediate and marts, with dbt tests as checks."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration.dbt_project import cod360_dbt_project
from orchestration.resources import WarehouseResource


class Cod360DbtTranslator(DagsterDbtTranslator):
    """Groups and owners come from dbt ``meta.dagster`` (dbt_project.yml); this adds the
    model's grain statement as the asset description's first line for the UI."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        return spec.merge_attributes(tags={"cod360/layer": spec.group_name or "dbt"})


translator = Cod360DbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=cod360_dbt_project.manifest_path,
    project=cod360_dbt_project,
    dagster_dbt_translator=translator,
)
def cod360_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    """Builds (runs and tests) the selected dbt models and seeds, then adds row counts.

    Row counts are read with our own short-lived connection once dbt has exited:
    dagster-dbt's ``fetch_row_counts`` opens the warehouse through the dbt adapter
    inside this process and keeps that connection open, which locks DuckDB for every
    later step. Column schemas come from the dbt docs (the manifest) already.
    """
    invocation = dbt.cli(["build"], context=context)
    events = list(invocation.stream())  # dbt holds the write lock until it exits
    nodes = invocation.manifest.get("nodes", {})
    with warehouse.connect(read_only=True) as conn:
        for event in events:
            yield _with_row_count(event, nodes, conn)


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
