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
    # Issue 15: the ads mart (attribution JSON of three vendors, Wilson intervals).
    "ad_performance": ["ad_key"],
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


# --- the Python side on each engine: scores and a campaign dry run --------------------------
# Compared per order, every column but scored_at (the moment of each run).
DRY_RUN_COLUMNS = ["outbox_key", "verdict", "reason", "variant", "template_name", "body_params"]


def _operational_store(warehouse: Path, target: Path) -> Path:
    """The DuckDB file as a Spark deployment has it: raw tables and phones, no dbt models."""
    import shutil

    import duckdb

    shutil.copy(warehouse, target)
    with duckdb.connect(str(target)) as conn:
        catalog = conn.execute("select current_database()").fetchone()[0]
        schemas = [
            row[0]
            for row in conn.execute(
                "select schema_name from information_schema.schemata where catalog_name = ?",
                [catalog],
            ).fetchall()
        ]
        for schema in schemas:
            if schema not in ("main", "raw", "information_schema", "pg_catalog"):
                conn.execute(f'drop schema "{schema}" cascade')
        # dbt's models in the default schema (main cannot be dropped itself)
        for name, kind in conn.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_catalog = ? and table_schema = 'main'",
            [catalog],
        ).fetchall():
            conn.execute(f'drop {"view" if kind == "VIEW" else "table"} main."{name}"')
    return target


@pytest.fixture(scope="module")
def activation_runs(engines, tmp_path_factory):
    """``order_scores`` and every shipped campaign's dry run, materialized by Dagster through
    the warehouse resource on each engine; yields the rows they wrote, per engine."""
    import dagster as dg
    import duckdb

    from activations.campaign_config import CAMPAIGNS_DIR, load_campaign_files
    from activations.clients.resources import WhatsAppCloudResource
    from ml.store_resource import ModelStoreResource
    from orchestration.defs.activations.campaigns import build_campaign_asset
    from orchestration.defs.lead_score.assets import order_scores
    from orchestration.resources import WarehouseResource

    root = tmp_path_factory.mktemp("activations_on_both")
    campaigns = load_campaign_files(CAMPAIGNS_DIR).campaigns
    duck_warehouse = engines["duckdb"].warehouse_path
    stores = {
        "duckdb": duck_warehouse,
        "spark": _operational_store(duck_warehouse, root / "spark_operational.duckdb"),
    }
    runs = {}
    with pytest.MonkeyPatch.context() as patch:
        for name, store in stores.items():
            patch.setenv("COD360_DBT_MANIFEST", str(engines[name].manifest.path))
            warehouse = WarehouseResource(path=str(store), landing_dir=str(root), engine=name)
            started = time.perf_counter()
            result = dg.materialize(
                [order_scores, *(build_campaign_asset(c) for c in campaigns)],
                resources={
                    "warehouse": warehouse,
                    "model_store": ModelStoreResource(root=str(root / f"models_{name}")),
                    # The shipped campaigns are off: no client is built, nothing is called.
                    "whatsapp": WhatsAppCloudResource(phone_number_id="0", access_token="off"),
                },
            )
            assert result.success
            with duckdb.connect(str(store), read_only=True) as conn:
                runs[name] = {
                    "seconds": time.perf_counter() - started,
                    "scores": conn.execute("select * from ml.order_scores").df(),
                    "dry_runs": conn.execute("select * from activations.dry_run_sends").df(),
                    "reports": {
                        c.id: result.asset_materializations_for_node(
                            "__".join(["activations", c.id])
                        )
                        for c in campaigns
                    },
                }
    print(
        f"\nactivations: order_scores + {len(campaigns)} campaign dry runs "
        + " | ".join(
            f"{name} {run['seconds']:.0f} s, {len(run['scores'])} scores, "
            f"{len(run['dry_runs'])} planned sends"
            for name, run in runs.items()
        )
    )
    return runs


def _by_key(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return sorted(
        tuple(_canonical(v) for v in row) for row in frame[columns].itertuples(index=False)
    )


def test_order_scores_are_the_same_on_both_engines(activation_runs):
    duck, spark = activation_runs["duckdb"]["scores"], activation_runs["spark"]["scores"]
    assert len(duck) > 0
    assert list(spark.columns) == list(duck.columns)
    compared = [c for c in duck.columns if c != "scored_at"]
    duck_rows, spark_rows = _by_key(duck, compared), _by_key(spark, compared)
    differences = [
        (d, s)
        for d, s in zip(duck_rows, spark_rows, strict=True)
        if not all(_same(a, b) for a, b in zip(d, s, strict=True))
    ]
    assert differences == [], differences[:10]


def test_a_campaign_dry_run_plans_the_same_sends_on_both_engines(activation_runs):
    duck, spark = activation_runs["duckdb"]["dry_runs"], activation_runs["spark"]["dry_runs"]
    # The shipped campaigns are off: each run is a dry run, and at least one has an audience.
    assert len(duck) > 0
    assert _by_key(spark, ["campaign_id", *DRY_RUN_COLUMNS]) == _by_key(
        duck, ["campaign_id", *DRY_RUN_COLUMNS]
    )
