"""The one place that builds the dbt project object the code location uses."""

import hashlib
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


_PARSE_ARGS = _parse_args()
cod360_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, prepare_project_cli_args=_PARSE_ARGS)
# Under `dagster dev` the manifest is re-parsed on every reload so model edits show up.
cod360_dbt_project.prepare_if_dev()

# What the manifest was parsed with (the --vars hold the compiled segments, which may live
# outside the project: COD360_SEGMENTS_DIR), written beside it.
_PARSE_STAMP = cod360_dbt_project.manifest_path.with_name("cod360_parse_args.sha256")


def _parse_args_digest(args: list[str]) -> str:
    return hashlib.sha256("\0".join(args).encode()).hexdigest()


def prepare_manifest() -> None:
    """Parse the dbt project into target/manifest.json (a few seconds).

    Importing this module does it when the manifest is stale (:func:`manifest_is_stale`),
    so what runs is always the dbt project as it is on disk; the tests call it to parse
    whatever the state.
    """
    cod360_dbt_project.preparer.prepare(cod360_dbt_project)
    _PARSE_STAMP.write_text(_parse_args_digest(_PARSE_ARGS))


# Files whose change changes the manifest (segments/ is compiled into the segment models).
_PROJECT_FOLDERS = ("models", "macros", "seeds", "tests", "snapshots", "analyses", "segments")
_PROJECT_FILES = ("dbt_project.yml", "packages.yml", "selectors.yml", "profiles.yml")


def manifest_is_stale() -> bool:
    """Whether target/manifest.json is missing, older than a file of the project, or
    parsed with other ``--vars`` (an edited segment file anywhere).

    The dbt assets read the manifest when their module is imported: one older than the
    project (a fresh clone, a `git pull`, an edited model) would make dbt run models the
    assets do not know, and the run fail on an unknown node. A fresh one is not parsed
    again: every `cod360 run` used to, ~9 CPU-s of a run with 1 % new data.
    """
    manifest = cod360_dbt_project.manifest_path
    if not manifest.exists() or not _PARSE_STAMP.exists():
        return True
    if _PARSE_STAMP.read_text().strip() != _parse_args_digest(_parse_args()):
        return True
    built = manifest.stat().st_mtime_ns
    files = [DBT_PROJECT_DIR / name for name in _PROJECT_FILES]
    for folder in _PROJECT_FOLDERS:
        files.extend((DBT_PROJECT_DIR / folder).rglob("*"))
    return any(path.is_file() and path.stat().st_mtime_ns > built for path in files)


if manifest_is_stale():
    # Parse once (a few seconds) rather than load definitions from a stale manifest.
    prepare_manifest()
