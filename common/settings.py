"""Where things live: resolved once, from environment variables with project defaults.

Every path the pipeline uses comes from here, so tests and deployments change a
setting, never the code (STYLE: no ``Path(__file__).parent.parent`` chains).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# Written by `dbt parse` (and every dbt run); Python finds the marts it reads there.
DBT_MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
# The dbt installed beside this interpreter, so an un-activated venv still finds it.
DBT_EXECUTABLE = (
    str(Path(sys.executable).parent / "dbt")
    if (Path(sys.executable).parent / "dbt").exists()
    else (shutil.which("dbt") or "dbt")
)


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    path = Path(value) if value else default
    # dbt runs in its own working directory: hand it absolute paths only.
    return path if path.is_absolute() else (Path.cwd() / path).resolve()


@dataclass(frozen=True)
class Settings:
    """The deployment's locations. Read with :func:`load_settings` at run time."""

    warehouse_path: Path
    landing_dir: Path
    data_dir: Path
    model_store_dir: Path
    # Where raw batches are also written as Parquet (connectors/ingestion/raw_parquet.py);
    # None (``COD360_RAW_PARQUET_DIR`` unset or empty, the default): not written.
    raw_parquet_dir: Path | None = None

    def export_env(self) -> None:
        """Publish the resolved paths to subprocesses (dbt reads them in profiles.yml)."""
        os.environ["COD360_WAREHOUSE"] = str(self.warehouse_path)
        os.environ["COD360_LANDING_DIR"] = str(self.landing_dir)
        os.environ["COD360_MODEL_STORE"] = str(self.model_store_dir)
        # dagster-dbt looks for `dbt` on PATH when it parses the project: make the one
        # installed beside this interpreter visible even if the venv is not activated.
        bin_dir = str(Path(sys.executable).parent)
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def load_settings() -> Settings:
    """Resolve settings from the environment.

    ``COD360_DATA_DIR`` (default ``<project>/data``) holds the defaults of the others:
    ``COD360_WAREHOUSE`` (``<data>/warehouse.duckdb``) and ``COD360_LANDING_DIR``
    (``<data>/landing``). ``COD360_RAW_PARQUET_DIR`` (no default: off) turns on the
    Parquet copy of the raw tables.
    """
    data_dir = _path_from_env("COD360_DATA_DIR", PROJECT_ROOT / "data")
    parquet = os.environ.get("COD360_RAW_PARQUET_DIR", "").strip()
    return Settings(
        warehouse_path=_path_from_env("COD360_WAREHOUSE", data_dir / "warehouse.duckdb"),
        landing_dir=_path_from_env("COD360_LANDING_DIR", data_dir / "landing"),
        data_dir=data_dir,
        model_store_dir=_path_from_env("COD360_MODEL_STORE", data_dir / "models"),
        raw_parquet_dir=_path_from_env("COD360_RAW_PARQUET_DIR", Path(parquet))
        if parquet
        else None,
    )
