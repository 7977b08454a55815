"""Shared fixtures: private data folders, and one small sample store built end to end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Small enough for 2 cores; large enough that every status, channel and mess appears
# and that the lead score has the ~200 resolved orders per 30-day window it needs.
E2E_CUSTOMERS = 2000
E2E_MONTHS = 12
E2E_SEED = 11

# `sandbox` (contract servers, simulator) is not installed with the product; pytest puts the
# repository root on sys.path (pyproject `pythonpath`), and child processes that tests start
# (a send loop to SIGKILL, a CLI) find it through PYTHONPATH.
_ROOT = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_ROOT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
)


@pytest.fixture(scope="session")
def dbt_manifest():
    """dbt's manifest of the project as it is on disk (parsed once per session, a few
    seconds): what common.marts resolves mart names with."""
    from common.marts import DbtManifest
    from orchestration.dbt_project import prepare_manifest

    prepare_manifest()
    return DbtManifest()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private COD360_DATA_DIR (warehouse, landing folder) for one test."""
    monkeypatch.setenv("COD360_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COD360_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("COD360_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("COD360_MODEL_STORE", str(tmp_path / "models"))
    (tmp_path / "landing").mkdir()
    return tmp_path


@dataclass
class BuiltStore:
    """A sample store generated and materialized once for the whole test session."""

    data_dir: Path
    warehouse: Path
    landing: Path
    summary: object  # sandbox.sample_store SampleStoreSummary
    run_succeeded: bool


@pytest.fixture(scope="session")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltStore]:
    """Generate a small sample store and materialize every asset on it (real dbt, real DuckDB)."""
    from orchestration.cli import materialize_everything
    from sandbox.demo import ACT_STAGE
    from sandbox.sample_store import generate

    root = tmp_path_factory.mktemp("e2e")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COD360_DATA_DIR", str(root))
        patch.setenv("COD360_WAREHOUSE", str(root / "warehouse.duckdb"))
        patch.setenv("COD360_LANDING_DIR", str(root / "landing"))
        patch.setenv("COD360_MODEL_STORE", str(root / "models"))
        patch.delenv("DAGSTER_HOME", raising=False)
        summary = generate(
            root / "landing",
            root / "sample_truth",
            customers=E2E_CUSTOMERS,
            months=E2E_MONTHS,
            seed=E2E_SEED,
        )
        # As `python -m sandbox demo`'s first stage: build, train, gate and score in one run.
        # Activations are tested against their contract servers in tests/activations.
        ok = materialize_everything(exclude=ACT_STAGE)
        yield BuiltStore(root, root / "warehouse.duckdb", root / "landing", summary, ok)
