"""The marts Python reads: dbt models with an enforced contract, found by name in the manifest.

Python code never types a schema-qualified dbt relation. It names the model
(``orders``) and the manifest dbt writes when it parses the project says where the
model lives (the node's ``relation_name``) and which columns and types its contract
promises. Only marts with an enforced contract can be read this way, so a refactor of
staging or intermediate models cannot break a Python consumer silently.

:class:`MartReader` is the engine-neutral interface (read a whole mart into a frame);
:class:`DuckDBMartReader` implements it with a short-lived connection to the warehouse
file, :class:`SparkMartReader` with a SparkSession (the ``spark`` extra) on the catalog
dbt-spark built the marts in: the same :class:`Mart`, quoted for Spark. Code that already holds a DuckDB connection (activations join marts with
their own tables in one transaction) uses :func:`mart` and :func:`mart_exists`.
"""

from __future__ import annotations

import json
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from common.settings import DBT_MANIFEST_PATH
from common.warehouse import connect

_MARTS_FOLDER = "marts"  # models/marts/…: the layer other code may read
_QUOTED_PART = re.compile(r'"((?:[^"]|"")*)"|([^."]+)')


class MartError(LookupError):
    """A model that Python may not read: unknown, not a mart, or without enforced contract."""


@dataclass(frozen=True)
class Mart:
    """Where one contracted mart lives and the columns its contract promises."""

    model: str
    schema: str
    identifier: str
    columns: Mapping[str, str]  # column name → declared data_type, in contract order

    @property
    def relation(self) -> str:
        """The quoted ``"schema"."identifier"`` to put in SQL."""
        return f"{_quote(self.schema)}.{_quote(self.identifier)}"

    def __str__(self) -> str:
        return self.relation


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _relation_parts(relation_name: str) -> list[str]:
    return [
        (quoted.replace('""', '"') if quoted else bare)
        for quoted, bare in _QUOTED_PART.findall(relation_name)
    ]


def _is_mart(node: Mapping[str, Any]) -> bool:
    fqn = node.get("fqn") or []
    return len(fqn) > 2 and fqn[1] == _MARTS_FOLDER


def _contract_enforced(node: Mapping[str, Any]) -> bool:
    return bool(((node.get("config") or {}).get("contract") or {}).get("enforced"))


def _to_mart(node: Mapping[str, Any]) -> Mart:
    # relation_name is "database"."schema"."identifier". The database part is the
    # warehouse file's name when dbt parsed the project; a reader connects to the
    # warehouse file itself, whose default catalog that is, so only the last two count.
    parts = _relation_parts(node["relation_name"])
    schema, identifier = parts[-2], parts[-1]
    columns = {name: column.get("data_type") for name, column in node["columns"].items()}
    return Mart(node["name"], schema, identifier, columns)


_MANIFEST_WRITE_WAIT_S = 10.0


@lru_cache(maxsize=4)
def _load_nodes(path: str, mtime_ns: int, size: int) -> dict[str, dict[str, Any]]:
    # Keyed on the file's mtime and size, so a re-parsed manifest is read again.
    manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    return {
        node["name"]: node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
    }


class DbtManifest:
    """dbt's ``target/manifest.json``, read for the marts it describes."""

    def __init__(self, path: Path | str | None = None) -> None:
        # COD360_DBT_MANIFEST: a deployment (or a test) whose dbt writes its target
        # folder elsewhere; default dbt_project/target/manifest.json.
        self.path = Path(path or os.environ.get("COD360_DBT_MANIFEST") or DBT_MANIFEST_PATH)

    def _nodes(self) -> dict[str, dict[str, Any]]:
        # dbt rewrites the manifest in place on every invocation: a reader that meets a
        # half-written file reads it again once dbt has finished writing it.
        deadline = time.monotonic() + _MANIFEST_WRITE_WAIT_S
        while True:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                raise MartError(
                    f"no dbt manifest at {self.path}: parse the dbt project first "
                    "(`dbt parse`, or `cod360 run`, which does it)"
                ) from None
            try:
                return _load_nodes(str(self.path), stat.st_mtime_ns, stat.st_size)
            except json.JSONDecodeError as exc:
                if time.monotonic() > deadline:
                    raise MartError(
                        f"the dbt manifest {self.path} is not valid JSON: {exc}"
                    ) from exc
                time.sleep(0.2)

    def models(self) -> dict[str, dict[str, Any]]:
        """Every model node of the manifest, by model name."""
        return dict(self._nodes())

    def mart(self, model: str) -> Mart:
        """The contracted mart ``model``; :class:`MartError` if Python may not read it."""
        node = self._nodes().get(model)
        if node is None:
            raise MartError(f"dbt has no model named {model!r} (manifest {self.path})")
        if not _is_mart(node):
            raise MartError(
                f"{model!r} is not a mart ({node.get('original_file_path')}): "
                "Python reads only models under models/marts/"
            )
        if not _contract_enforced(node):
            raise MartError(f"mart {model!r} has no enforced contract (config: contract: enforced)")
        return _to_mart(node)


def mart(model: str, manifest: DbtManifest | None = None) -> Mart:
    """The contracted mart ``model``, from the project's manifest unless one is given."""
    return (manifest or DbtManifest()).mart(model)


def mart_exists(conn: duckdb.DuckDBPyConnection, target: Mart) -> bool:
    """Whether the mart has been built in the warehouse ``conn`` is open on."""
    row = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [target.schema, target.identifier],
    ).fetchone()
    return bool(row and row[0])


class MartReader(ABC):
    """Reads contracted marts by model name; one implementation per warehouse engine."""

    def __init__(self, manifest: DbtManifest | None = None) -> None:
        self.manifest = manifest or DbtManifest()

    def mart(self, model: str) -> Mart:
        """Resolve ``model`` to its relation and contract (see :meth:`DbtManifest.mart`)."""
        return self.manifest.mart(model)

    @abstractmethod
    def exists(self, model: str) -> bool:
        """Whether the mart has been built."""

    @abstractmethod
    def read(
        self, model: str, *, where: str | None = None, params: Sequence[object] = ()
    ) -> pd.DataFrame:
        """Every contract column of the mart (in contract order), rows filtered by the
        optional SQL predicate ``where`` over those columns, with ``?`` parameters."""


class DuckDBMartReader(MartReader):
    """Reads marts from the DuckDB warehouse file, one short-lived connection per read."""

    def __init__(self, warehouse_path: Path | str, manifest: DbtManifest | None = None) -> None:
        super().__init__(manifest)
        self.warehouse_path = Path(warehouse_path)

    def exists(self, model: str) -> bool:
        target = self.mart(model)
        if not self.warehouse_path.exists():
            return False
        with connect(self.warehouse_path, read_only=True) as conn:
            return mart_exists(conn, target)

    def read(
        self, model: str, *, where: str | None = None, params: Sequence[object] = ()
    ) -> pd.DataFrame:
        target = self.mart(model)
        columns = ", ".join(_quote(name) for name in target.columns) or "*"
        sql = f"select {columns} from {target.relation}" + (f" where {where}" if where else "")
        with connect(self.warehouse_path, read_only=True) as conn:
            if not mart_exists(conn, target):
                raise MartError(f"mart {model!r} is not built yet: run the dbt models first")
            return conn.execute(sql, list(params)).df()


def _spark_quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


class SparkMartReader(MartReader):
    """Reads marts through a SparkSession (pyspark) on the catalog dbt-spark built them in.

    The session is the caller's (local mode with the project's metastore, or a cluster's);
    ``where`` uses Spark SQL with ``?`` parameters, as :meth:`MartReader.read` promises.
    """

    def __init__(self, spark: Any, manifest: DbtManifest | None = None) -> None:
        super().__init__(manifest)
        self.spark = spark

    def relation(self, model: str) -> str:
        """The mart's ```schema`.`identifier``` for Spark SQL."""
        target = self.mart(model)
        return f"{_spark_quote(target.schema)}.{_spark_quote(target.identifier)}"

    def exists(self, model: str) -> bool:
        target = self.mart(model)
        return bool(self.spark.catalog.tableExists(f"{target.schema}.{target.identifier}"))

    def read(
        self, model: str, *, where: str | None = None, params: Sequence[object] = ()
    ) -> pd.DataFrame:
        target = self.mart(model)
        if not self.exists(model):
            raise MartError(f"mart {model!r} is not built yet: run the dbt models first")
        columns = ", ".join(_spark_quote(name) for name in target.columns) or "*"
        sql = f"select {columns} from {self.relation(model)}" + (f" where {where}" if where else "")
        frame = self.spark.sql(sql, args=list(params)) if params else self.spark.sql(sql)
        return frame.toPandas()


def copy_marts(
    reader: MartReader, conn: duckdb.DuckDBPyConnection, models: Sequence[str]
) -> dict[str, int]:
    """Copy contracted marts from ``reader``'s engine into the DuckDB store ``conn`` is on.

    Each mart lands at the relation its manifest names, typed by its contract, so code
    that joins marts with the operational tables in one DuckDB transaction (the
    activations) runs unchanged when the marts were built on another engine. The copy is
    whole and replaces the previous one in one transaction; its cost is the marts'
    size (customers, open orders), not the history's. Returns rows copied per model;
    a mart not built yet is skipped (0 rows, nothing replaced).
    """
    copied: dict[str, int] = {}
    for model in models:
        target = reader.mart(model)
        if not reader.exists(model):
            copied[model] = 0
            continue
        frame = reader.read(model)
        columns = ", ".join(
            f"cast({_quote(name)} as {data_type or 'varchar'}) as {_quote(name)}"
            for name, data_type in target.columns.items()
        )
        conn.execute("begin transaction")
        try:
            conn.execute(f"create schema if not exists {_quote(target.schema)}")
            conn.register("_mart_copy", frame)
            conn.execute(
                f"create or replace table {target.relation} as select {columns} from _mart_copy"
            )
            conn.unregister("_mart_copy")
            conn.execute("commit")
        except Exception:
            conn.execute("rollback")
            raise
        copied[model] = len(frame)
    return copied
