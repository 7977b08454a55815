"""Sample stores shared by the tests: generated once per session, small and fast."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.sample_store import SampleStoreSummary, generate


@dataclass
class Store:
    landing: Path
    truth: Path
    summary: SampleStoreSummary

    def files(self, pattern: str) -> list[Path]:
        return sorted(self.landing.glob(pattern))

    def json_lines(self, pattern: str) -> tuple[list[dict], list[str]]:
        """(parsed records, lines that are not JSON) of every file matching ``pattern``."""
        records, broken = [], []
        for path in self.files(pattern):
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    broken.append(line)
        return records, broken

    def csv_rows(self, pattern: str) -> list[dict]:
        rows = []
        for path in self.files(pattern):
            with path.open(encoding="utf-8", newline="") as handle:
                rows.extend(csv.DictReader(handle))
        return rows

    def truth_orders(self) -> list[dict]:
        with (self.truth / "orders.csv").open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def truth_customers(self) -> list[dict]:
        with (self.truth / "customers.csv").open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))


def _make(root: Path, **kwargs) -> Store:
    landing, truth = root / "landing", root / "truth"
    summary = generate(landing, truth, **kwargs)
    return Store(landing, truth, summary)


@pytest.fixture(scope="session")
def small_store(tmp_path_factory) -> Store:
    """200 customers, 3 months, the mess on."""
    return _make(tmp_path_factory.mktemp("small"), customers=200, months=3, seed=11)


@pytest.fixture(scope="session")
def clean_store(tmp_path_factory) -> Store:
    """The same world with --no-mess."""
    return _make(tmp_path_factory.mktemp("clean"), customers=200, months=3, seed=11, mess=False)


@pytest.fixture(scope="session")
def moderate_store(tmp_path_factory) -> Store:
    """2000 customers over 12 months: enough orders for the statistical checks."""
    return _make(tmp_path_factory.mktemp("moderate"), customers=2000, months=12, seed=3)
