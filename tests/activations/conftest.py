"""Fixtures: the dbt manifest, contract servers on loopback (helpers in ``activation_helpers``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from sandbox.contract_servers import ContractServer, serve


@pytest.fixture(scope="session", autouse=True)
def _parsed_dbt_project(dbt_manifest) -> None:
    """The code under test finds the marts it reads (and the fixtures the tables to
    create) in dbt's manifest, as in production."""


@pytest.fixture
def start() -> Iterator[Callable[[ContractServer], str]]:
    """``start(server)`` serves it on 127.0.0.1 for the test and returns its base URL."""
    with ExitStack() as stack:
        yield lambda server: stack.enter_context(serve(server))
