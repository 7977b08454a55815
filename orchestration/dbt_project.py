"""The one place that builds the dbt project object the code location uses."""

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR, load_settings

load_settings().export_env()

cod360_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
# Under `dagster dev` the manifest is re-parsed on every reload so model edits show up.
cod360_dbt_project.prepare_if_dev()
if not cod360_dbt_project.manifest_path.exists():
    # A fresh clone has no manifest yet: parse once (a few seconds) rather than fail to load.
    cod360_dbt_project.preparer.prepare(cod360_dbt_project)
