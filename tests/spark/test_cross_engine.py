"""The same dbt project on DuckDB and on Apache Spark 3.5 local mode gives the same marts.

One small sample store is generated and ingested by the product's loader into DuckDB;
dbt builds it there. Its raw tables are written as Parquet in the layout ingestion uses
behind COD360_RAW_PARQUET_DIR, registered as Spark tables by the project's
``register_raw_parquet`` operation, and dbt builds the same project on Spark
(``spark_local`` target). The marts the lead score and the activations read are then
compared row by row: the same rows, the same values (floats within ``FLOAT_TOLERANCE``),
and every dbt test passing on both engines.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from common.marts import DbtManifest, DuckDBMartReader, SparkMartReader
from common.segments import dbt_vars_args
from common.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR

pytestmark = pytest.mark.spark

# Small: Spark runs each of the ~45 models and ~370 tests as its own job.
CUSTOMERS = 300
MONTHS = 6
SEED = 11
# Sums and averages of doubles may differ in their last bits (summation order).
FLOAT_TOLERANCE = 1e-9

# The marts the lead score and the activations read, with their keys.
COMPARED = {
    "customer_360": ["customer_phone"],
    "rfm_scores": ["customer_phone"],
    "customer_lifecycle": ["customer_phone"],
    "segment_membership": ["segment_name", "customer_phone"],
    "order_rto_history": ["order_ref"],
    "carrier_city_delivery_rates": ["carrier", "city"],
    # Not orders_to_dispatch: no confirmed order waits for pickup at the end of this store,
    # so there is no row to compare (its dbt tests run on both engines above).
}
_SUMMARY = re.compile(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)")


def _dbt(
    root: Path, target_dir: str, *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess:
    command = [
        DBT_EXECUTABLE,
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(root / target_dir / "target"),
        "--log-path",
        str(root / target_dir / "logs"),
    ]
    result = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=1800
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    return result


def _summary(result: subprocess.CompletedProcess) -> dict[str, int]:
    found = _SUMMARY.findall(result.stdout)
    assert found, result.stdout[-3000:]
    passed, warned, errors, skipped = map(int, found[-1])
    return {"pass": passed, "warn": warned, "error": errors, "skip": skipped}


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    """The sample store built by dbt on DuckDB and on Spark; yields both readers."""
    from pyspark.sql import SparkSession

    from common.warehouse import connect
    from connectors.ingestion import LANDING_SOURCES, ingest_source
    from connectors.phones import refresh_phone_numbers
    from sandbox.sample_store import generate

    root = tmp_path_factory.mktemp("cross_engine")
    generate(root / "landing", root / "truth", customers=CUSTOMERS, months=MONTHS, seed=SEED)
    warehouse = root / "warehouse.duckdb"
    # Ingestion writes the raw tables' Parquet copy itself (COD360_RAW_PARQUET_DIR): the
    # product's path to the files Spark reads.
    parquet_root = root / "raw_parquet"
    with connect(warehouse) as conn:
        for source in LANDING_SOURCES:
            ingest_source(conn, source, root / "landing", parquet_dir=parquet_root)
        refresh_phone_numbers(conn, parquet_dir=parquet_root)

    base_env = {k: v for k, v in os.environ.items() if k != "COD360_SEGMENTS_DIR"}
    segment_vars = dbt_vars_args(base_env, DBT_PROJECT_DIR, str(root))

    started = time.perf_counter()
    duck = _dbt(
        root, "duckdb", "build", *segment_vars, env={**base_env, "COD360_WAREHOUSE": str(warehouse)}
    )
    duck_seconds = time.perf_counter() - started

    # The raw tables as ingestion wrote them, registered as Spark tables.
    spark_dir = root / "spark"
    spark_env = {
        **base_env,
        "COD360_DBT_TARGET": "spark_local",
        "COD360_SPARK_WAREHOUSE_DIR": str(spark_dir / "warehouse"),
        "COD360_SPARK_METASTORE_DIR": str(spark_dir),
        "COD360_RAW_PARQUET_DIR": str(parquet_root),
    }
    started = time.perf_counter()
    _dbt(root, "spark", "run-operation", "register_raw_parquet", env=spark_env)
    spark = _dbt(root, "spark", "build", *segment_vars, env=spark_env)
    spark_seconds = time.perf_counter() - started

    counts = {name: _summary(result) for name, result in (("duckdb", duck), ("spark", spark))}
    nodes = DbtManifest(root / "spark" / "target" / "manifest.json").models()
    print(
        f"\ncross_engine: models={len(nodes)} "
        f"duckdb dbt build {duck_seconds:.0f} s {counts['duckdb']} | "
        f"spark register + dbt build {spark_seconds:.0f} s {counts['spark']}"
    )

    session = (
        SparkSession.builder.master("local[1]")
        .appName("cod360-cross-engine")
        .config("spark.sql.warehouse.dir", str(spark_dir / "warehouse"))
        .config("spark.sql.catalogImplementation", "hive")
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true",
        )
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .enableHiveSupport()
        .getOrCreate()
    )
    try:
        yield {
            "duckdb": DuckDBMartReader(
                warehouse, DbtManifest(root / "duckdb" / "target" / "manifest.json")
            ),
            "spark": SparkMartReader(
                session, DbtManifest(root / "spark" / "target" / "manifest.json")
            ),
            "counts": counts,
        }
    finally:
        session.stop()


def test_every_dbt_test_passes_on_both_engines(engines):
    duck, spark = engines["counts"]["duckdb"], engines["counts"]["spark"]
    assert duck["error"] == 0 and spark["error"] == 0
    assert duck["skip"] == 0 and spark["skip"] == 0
    # The same nodes ran: only the warning-level checks may warn, on both alike.
    assert duck == spark


def _canonical(value):
    """One form for a value whichever engine and reader produced it: pandas gives DuckDB's
    nulls as NA / NaT and its dates as midnight Timestamps; Spark gives None and dates."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # an array-like value: compared as it is
        pass
    if hasattr(value, "isoformat") or isinstance(value, dt.date):
        text = str(value)[:26].replace("T", " ")
        return text[:10] if text[10:] in ("", " 00:00:00") else text
    if isinstance(value, Decimal | float):
        return float(value)
    if hasattr(value, "item"):  # numpy scalars
        return _canonical(value.item())
    return value


def _rows(frame, keys):
    rows = [tuple(_canonical(v) for v in row) for row in frame.itertuples(index=False)]
    key_at = [list(frame.columns).index(k) for k in keys]
    return sorted(rows, key=lambda row: tuple(str(row[i]) for i in key_at))


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
    return a == b


def _read(reader, model):
    """A contracted mart through the reader; any other mart (rfm_scores, customer_lifecycle)
    by the relation the same manifest names, every column."""
    node = reader.manifest.models()[model]
    if ((node.get("config") or {}).get("contract") or {}).get("enforced"):
        return reader.read(model)
    schema, identifier = node["schema"], node["alias"] or node["name"]
    if isinstance(reader, SparkMartReader):
        return reader.spark.table(f"`{schema}`.`{identifier}`").toPandas()
    import duckdb

    with duckdb.connect(str(reader.warehouse_path), read_only=True) as conn:
        return conn.execute(f'select * from "{schema}"."{identifier}"').df()


@pytest.mark.parametrize("model", sorted(COMPARED))
def test_the_mart_is_the_same_on_both_engines(engines, model):
    duck = _read(engines["duckdb"], model)
    spark = _read(engines["spark"], model)
    assert list(spark.columns) == list(duck.columns)
    assert len(duck) > 0
    duck_rows, spark_rows = _rows(duck, COMPARED[model]), _rows(spark, COMPARED[model])
    assert len(spark_rows) == len(duck_rows)
    differences = [
        (column, d[i], s[i])
        for d, s in zip(duck_rows, spark_rows, strict=True)
        for i, column in enumerate(duck.columns)
        if not _same(d[i], s[i])
    ]
    assert differences == [], differences[:20]
