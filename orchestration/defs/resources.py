"""The resources every domain uses, configured from the environment."""

import dagster as dg
from dagster_dbt import DbtCliResource

from common.settings import DBT_EXECUTABLE, load_settings
from ml.store_resource import ModelStoreResource
from orchestration.dbt_project import cod360_dbt_project
from orchestration.resources import WarehouseResource


@dg.definitions
def resources() -> dg.Definitions:
    # Resolve defaults (data/warehouse.duckdb, data/landing) and publish them, so the
    # EnvVars below and the dbt subprocess's profiles.yml see the same absolute paths.
    load_settings().export_env()
    return dg.Definitions(
        resources={
            "warehouse": WarehouseResource(
                path=dg.EnvVar("COD360_WAREHOUSE"),
                landing_dir=dg.EnvVar("COD360_LANDING_DIR"),
            ),
            "model_store": ModelStoreResource(root=dg.EnvVar("COD360_MODEL_STORE")),
            "dbt": DbtCliResource(project_dir=cod360_dbt_project, dbt_executable=DBT_EXECUTABLE),
        }
    )
