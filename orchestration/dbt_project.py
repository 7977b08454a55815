"""The one place that builds the dbt project object the code location uses."""

import os

from dagster_dbt import DbtProject

from common.settings import DBT_PROJECT_DIR, load_settings

load_settings().export_env()
# The dbt assets are two dbt invocations (orchestration/defs/transform/assets.py). A test
# with parents in both (segment_membership → customer_360) must run in the second, once
# both exist: dbt's 'buildable' indirect selection does that, its default 'eager' would run
# it in the first. dagster-dbt still overrides this when a run selects checks one by one.
os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")

cod360_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
# Under `dagster dev` the manifest is re-parsed on every reload so model edits show up.
cod360_dbt_project.prepare_if_dev()


def prepare_manifest() -> None:
    """Parse the dbt project into target/manifest.json (a few seconds).

    The CLI and the tests call this before loading definitions, so that what runs
    is always the dbt project as it is on disk, never a stale manifest.
    """
    cod360_dbt_project.preparer.prepare(cod360_dbt_project)


if not cod360_dbt_project.manifest_path.exists():
    # A fresh clone has no manifest yet: parse once rather than fail to load.
    prepare_manifest()
