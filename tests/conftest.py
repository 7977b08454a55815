"""Shared fixtures: every test gets its own data folder and warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private COD360_DATA_DIR (warehouse, landing folder) for one test."""
    monkeypatch.setenv("COD360_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COD360_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("COD360_LANDING_DIR", str(tmp_path / "landing"))
    (tmp_path / "landing").mkdir()
    return tmp_path
