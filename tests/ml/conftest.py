"""Shared fixtures: one synthetic store, one trained version, one evaluation."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

# The synthetic world lives beside the tests (it is test data, not product code).
sys.path.insert(0, str(Path(__file__).parent))

from synthetic_world import World, make_orders

from ml.config import LeadScoreConfig, load_lead_score_config
from ml.evaluation import EvaluationReport, evaluate_lead_score
from ml.features import validate_orders
from ml.time_splits import TimeSplits, known_at
from ml.training import TrainedLeadScore, train_lead_score
from ml.training_examples import LabelledEvidence, decision_snapshots

TRAINED_AT = pd.Timestamp("2025-09-01T00:00:00Z")


@pytest.fixture(scope="session", autouse=True)
def single_threaded_numerics() -> Iterator[None]:
    """Run BLAS / OpenMP on one thread while these tests run.

    Tens of thousands of rows gain nothing from threads, and on a shared runner
    threads spinning for busy cores made the fits several times slower.
    """
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session")
def world() -> tuple[pd.DataFrame, pd.Series]:
    """(orders, true delivery probability) of the default synthetic store."""
    return make_orders(World())


@pytest.fixture(scope="session")
def orders(world: tuple[pd.DataFrame, pd.Series]) -> pd.DataFrame:
    """The synthetic store's orders, in the warehouse contract."""
    return world[0]


@pytest.fixture(scope="session")
def config() -> LeadScoreConfig:
    """The shipped configuration."""
    return load_lead_score_config()


@pytest.fixture(scope="session")
def quick_config(config: LeadScoreConfig) -> LeadScoreConfig:
    """The shipped configuration without the (slower) challenger."""
    return config.model_copy(
        update={"challenger": config.challenger.model_copy(update={"enabled": False})}
    )


@pytest.fixture(scope="session")
def trained(orders: pd.DataFrame, config: LeadScoreConfig) -> TrainedLeadScore:
    """A version trained on the whole synthetic history."""
    return train_lead_score(orders, config, version="v-main", trained_at=TRAINED_AT)


@pytest.fixture(scope="session")
def report(
    trained: TrainedLeadScore, orders: pd.DataFrame, config: LeadScoreConfig
) -> EvaluationReport:
    """Candidate vs baseline vs challenger on the candidate's test window."""
    return evaluate_lead_score(
        trained.model, trained.baseline, orders, config, challenger=trained.challenger
    )


@pytest.fixture(scope="session")
def test_window_rows(trained: TrainedLeadScore, orders: pd.DataFrame) -> LabelledEvidence:
    """Test-window orders as they were at the decision horizon."""
    splits: TimeSplits = trained.splits
    known = known_at(validate_orders(orders).orders, splits.cutoff)
    return decision_snapshots(
        known, splits.test, pd.Timedelta(trained.model.card["decision_horizon"])
    )


@pytest.fixture(scope="session")
def calibration_rows(trained: TrainedLeadScore, orders: pd.DataFrame) -> LabelledEvidence:
    """Calibration-window orders at the decision horizon (where bands are placed)."""
    splits: TimeSplits = trained.splits
    known = known_at(validate_orders(orders).orders, splits.cutoff)
    return decision_snapshots(
        known, splits.calibration, pd.Timedelta(trained.model.card["decision_horizon"])
    )
