"""Resources shared by every domain of the code location."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from common import spark
from common.marts import DuckDBMartReader, MartReader, SparkMartReader, copy_marts
from common.warehouse import connect


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file and the landing folder that feeds it.

    Connections are opened per use and closed at once: dbt runs as a separate
    process and DuckDB allows one writer per file.

    On a Spark dbt target (``COD360_DBT_TARGET``), the marts live on Spark; the DuckDB
    file keeps the raw tables, the scores and the operational state, and
    :meth:`mart_reader` reads the marts where dbt built them.
    """

    path: str
    landing_dir: str
    engine: str = ""
    """``duckdb`` or ``spark``; empty: from the dbt target (``COD360_DBT_TARGET``)."""

    @property
    def marts_engine(self) -> str:
        return self.engine or spark.engine()

    def mart_reader(self) -> MartReader:
        """The contracted marts, read on the engine dbt built them on."""
        if self.marts_engine == "spark":
            return SparkMartReader(spark.spark_session())
        return DuckDBMartReader(self.path)

    def copy_marts_here(self, models: tuple[str, ...]) -> dict[str, int]:
        """On a Spark target, copy ``models`` into the DuckDB file (see
        :func:`common.marts.copy_marts`) so the activations join them with their own
        tables in one transaction; on DuckDB the marts are already here (nothing done)."""
        if self.marts_engine != "spark":
            return {}
        reader = self.mart_reader()
        with self.connect() as conn:
            return copy_marts(reader, conn, models)

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection to the warehouse."""
        with connect(self.path, read_only=read_only) as conn:
            yield conn

    @property
    def landing_path(self) -> Path:
        return Path(self.landing_dir)
