"""Fixtures: a small sample store (generated once) and contract servers on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from sandbox.contract_servers import ContractServer, serve


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample store's landing folder: ~30–60 orders per platform, with their snapshots."""
    from sandbox.sample_store import generate

    root = tmp_path_factory.mktemp("sample_store")
    generate(root / "landing", root / "truth", customers=150, months=2, seed=5)
    return root / "landing"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def start() -> Iterator[Callable[[ContractServer], str]]:
    """``start(server)`` serves it on 127.0.0.1 for the test and returns its base URL."""
    with ExitStack() as stack:
        yield lambda server: stack.enter_context(serve(server))
