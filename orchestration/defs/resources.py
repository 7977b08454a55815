"""The resources every domain uses, configured from the environment."""

from functools import cached_property

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from common.settings import DBT_EXECUTABLE, load_settings
from ml.store_resource import ModelStoreResource
from orchestration.dbt_project import cod360_dbt_project
from orchestration.resources import WarehouseResource


class DbtCli(DbtCliResource):
    """dagster-dbt's dbt resource, without two costs per dbt step that cod360 never uses
    (~8 CPU-s of a run with 1 % new data, two dbt steps per run):

    * the version of the dbt executable, which dagster-dbt asks ``dbt --version`` in a
      subprocess: the executable is this environment's dbt-core (``DBT_EXECUTABLE``), so
      the installed package's version is the answer;
    * an in-process dbt adapter, which dagster-dbt opens only for its own row counts and
      column metadata: cod360 counts rows itself once dbt has exited (an adapter opened
      here would also hold DuckDB's one-writer lock), and the columns come from the
      manifest.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args):
        return None


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
            "dbt": DbtCli(project_dir=cod360_dbt_project, dbt_executable=DBT_EXECUTABLE),
        }
    )
