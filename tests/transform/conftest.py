"""A small sample store with the dbt project built on it, shared by the mart tests.

The sample store is generated and ingested here (a second or two) rather than taken
from the Dagster end-to-end fixture, so that these tests exercise the dbt project alone
and do not fail with unrelated assets. ``dbt build`` runs as a subprocess from a folder
outside the project (as an orchestrator may), with its target and logs in the test's
folder, never in dbt_project/target. Tests that rebuild models (other segment files,
past run dates) work on their own copy of the warehouse file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from common.segments import dbt_vars
from common.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR

# dbt commands that render the segment models (and so need the compiled segment files).
_COMMANDS_WITH_MODELS = ("build", "run", "compile", "test", "show", "retry")


@dataclass(frozen=True)
class DbtWarehouse:
    """A warehouse file and a private dbt target folder to (re)build it with."""

    warehouse: Path
    root: Path

    def dbt(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run dbt on this warehouse from a folder outside the project (like Dagster may)."""
        full_env = {**os.environ, "COD360_WAREHOUSE": str(self.warehouse), **(env or {})}
        if env is None or "COD360_SEGMENTS_DIR" not in env:
            full_env.pop("COD360_SEGMENTS_DIR", None)
        # As the orchestration does: the segment files are compiled before dbt starts (a
        # bad file raises SegmentFileError here, naming the file and the field).
        if args and args[0] in _COMMANDS_WITH_MODELS:
            args = _with_vars(args, dbt_vars(full_env, DBT_PROJECT_DIR, str(self.root)))
        return subprocess.run(
            [
                DBT_EXECUTABLE,
                *args,
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(self.root / "target"),
                "--log-path",
                str(self.root / "logs"),
            ],
            cwd=self.root,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def dbt_ok(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run dbt and fail the test with dbt's own output when it does not succeed."""
        result = self.dbt(*args, env=env)
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        return result

    def copy_to(self, root: Path) -> DbtWarehouse:
        """An independent copy (its own file and dbt target) for tests that rebuild models."""
        root.mkdir(parents=True, exist_ok=True)
        _copy_database(self.warehouse, root / "warehouse.duckdb")
        if (self.root / "target").exists():
            # Reusing the parsed manifest keeps each rebuild to a few seconds.
            shutil.copytree(self.root / "target", root / "target", dirs_exist_ok=True)
        return DbtWarehouse(root / "warehouse.duckdb", root)


def _with_vars(args: tuple[str, ...], extra: dict) -> list[str]:
    """``args`` with one ``--vars`` holding a test's own vars and ``extra`` (dbt reads one)."""
    args = list(args)
    given = {}
    if "--vars" in args:
        at = args.index("--vars")
        given = yaml.safe_load(args[at + 1]) or {}
        del args[at : at + 2]
    return [*args, "--vars", json.dumps({**extra, **given}, ensure_ascii=False, default=str)]


def _copy_database(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():  # committed work not yet checkpointed into the file
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))


# Large enough that every lifecycle stage and most segments have members.
STORE_CUSTOMERS = 600
STORE_MONTHS = 9
STORE_SEED = 11


@pytest.fixture(scope="session")
def marts_warehouse(tmp_path_factory) -> DbtWarehouse:
    """A sample store ingested into raw tables, then every dbt model built and tested."""
    from common.warehouse import connect
    from connectors.ingestion import LANDING_SOURCES, ingest_source
    from connectors.phones import refresh_phone_numbers
    from sandbox.sample_store import generate

    root = tmp_path_factory.mktemp("marts")
    generate(
        root / "landing",
        root / "truth",
        customers=STORE_CUSTOMERS,
        months=STORE_MONTHS,
        seed=STORE_SEED,
    )
    with connect(root / "warehouse.duckdb") as conn:
        for source in LANDING_SOURCES:
            ingest_source(conn, source, root / "landing")
        refresh_phone_numbers(conn)  # the step between the raw tables and dbt
    built = DbtWarehouse(root / "warehouse.duckdb", root)
    built.dbt_ok("build")
    return built
