"""Resources shared by every domain of the code location."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from common.warehouse import connect


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file and the landing folder that feeds it.

    Connections are opened per use and closed at once: dbt runs as a separate
    process and DuckDB allows one writer per file.
    """

    path: str
    landing_dir: str

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection to the warehouse."""
        with connect(self.path, read_only=read_only) as conn:
            yield conn

    @property
    def landing_path(self) -> Path:
        return Path(self.landing_dir)
