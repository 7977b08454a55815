"""The one place that builds the dbt project object the code location uses."""

import os

from dagster_dbt import DbtProject

from common.segments import SegmentFileError, dbt_vars_args
from common.settings import DBT_PROJECT_DIR, load_settings

load_settings().export_env()
# The dbt assets are two dbt invocations (orchestration/defs/transform/assets.py). A test
# with parents in both (segment_membership → customer_360) must run in the second, once
# both exist: dbt's 'buildable' indirect selection does that, its default 'eager' would run
# it in the first. dagster-dbt still overrides this when a run selects checks one by one.
os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")


def _parse_args() -> list[str]:
    """``dbt parse`` with the ``--vars`` every build passes (the compiled segments).

    dbt reuses its partial parse only for the same vars: parsed without them, every build
    (two per run) parsed the whole project again (~15 s of a run with 1 % new data). A
    broken segment file parses without them; the builds report it.
    """
    try:
        return ["parse", "--quiet", *dbt_vars_args(project_dir=DBT_PROJECT_DIR)]
    except SegmentFileError:
        return ["parse", "--quiet"]


cod360_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, prepare_project_cli_args=_parse_args())
# Under `dagster dev` the manifest is re-parsed on every reload so model edits show up.
cod360_dbt_project.prepare_if_dev()


def prepare_manifest() -> None:
    """Parse the dbt project into target/manifest.json (a few seconds).

    The CLI and the tests call this before loading definitions, so that what runs
    is always the dbt project as it is on disk, never a stale manifest.
    """
    cod360_dbt_project.preparer.prepare(cod360_dbt_project)


# Files whose change changes the manifest (segments/ is compiled into the segment models).
_PROJECT_FOLDERS = ("models", "macros", "seeds", "tests", "snapshots", "analyses", "segments")
_PROJECT_FILES = ("dbt_project.yml", "packages.yml", "selectors.yml", "profiles.yml")


def manifest_is_stale() -> bool:
    """Whether target/manifest.json is missing or older than a file of the project.

    The dbt assets read the manifest when their module is imported: one older than the
    project (a fresh clone, a `git pull`, an edited model) would make dbt run models the
    assets do not know, and the run fail on an unknown node.
    """
    manifest = cod360_dbt_project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime_ns
    files = [DBT_PROJECT_DIR / name for name in _PROJECT_FILES]
    for folder in _PROJECT_FOLDERS:
        files.extend((DBT_PROJECT_DIR / folder).rglob("*"))
    return any(path.is_file() and path.stat().st_mtime_ns > built for path in files)


if manifest_is_stale():
    # Parse once (a few seconds) rather than load definitions from a stale manifest.
    prepare_manifest()
