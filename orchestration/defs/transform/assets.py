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
def cod360_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Builds (runs and tests) the selected dbt models and seeds, with row counts and column metadata."""
    yield from (
        dbt.cli(["build"], context=context).stream().fetch_row_counts().fetch_column_metadata()
    )
