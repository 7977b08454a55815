"""common.marts on a hand-written manifest and a real DuckDB file: how a model name becomes
a relation, what may not be read, and what a read returns."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from common.marts import DbtManifest, DuckDBMartReader, MartError, mart_exists


def _node(name: str, folder: str, *, enforced: bool, schema: str = "marts") -> dict:
    return {
        "resource_type": "model",
        "name": name,
        "fqn": ["cod360", folder, name],
        "original_file_path": f"models/{folder}/{name}.sql",
        # The database is the warehouse file's name when dbt parsed: not this test's file.
        "relation_name": f'"parse_time_warehouse"."{schema}"."{name}"',
        "config": {"contract": {"enforced": enforced}, "materialized": "table"},
        "columns": {
            "order_ref": {"name": "order_ref", "data_type": "varchar"},
            "total_amount": {"name": "total_amount", "data_type": "decimal(12,2)"},
            "is_open": {"name": "is_open", "data_type": "boolean"},
        },
    }


@pytest.fixture
def manifest(tmp_path: Path) -> DbtManifest:
    nodes = [
        _node("orders", "marts", enforced=True),
        _node("int_orders", "intermediate", enforced=True, schema="intermediate"),
        _node("kpis", "marts", enforced=False),
    ]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": {f"model.cod360.{n['name']}": n for n in nodes}}))
    return DbtManifest(path)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "reader_test.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "create schema marts; create table marts.orders "
            "(order_ref varchar, total_amount decimal(12,2), is_open boolean, extra integer)"
        )
        conn.execute(
            "insert into marts.orders values ('shopify:1', 249.00, true, 1), "
            "('shopify:2', 99.50, false, 2)"
        )
    return path


def test_a_model_name_resolves_to_schema_and_identifier_of_its_relation(manifest):
    orders = manifest.mart("orders")
    assert (orders.schema, orders.identifier) == ("marts", "orders")
    assert str(orders) == '"marts"."orders"'
    assert dict(orders.columns) == {
        "order_ref": "varchar",
        "total_amount": "decimal(12,2)",
        "is_open": "boolean",
    }


@pytest.mark.parametrize(
    ("model", "why"),
    [
        ("int_orders", "is not a mart"),
        ("kpis", "no enforced contract"),
        ("customers", "no model named"),
    ],
)
def test_only_marts_with_an_enforced_contract_can_be_read(manifest, model, why):
    with pytest.raises(MartError, match=why):
        manifest.mart(model)


def test_a_missing_manifest_says_how_to_make_one(tmp_path):
    with pytest.raises(MartError, match="dbt parse"):
        DbtManifest(tmp_path / "nowhere.json").mart("orders")


def test_the_duckdb_reader_reads_the_contract_columns_with_an_optional_filter(manifest, warehouse):
    reader = DuckDBMartReader(warehouse, manifest)
    assert reader.exists("orders")
    everything = reader.read("orders")
    assert list(everything.columns) == ["order_ref", "total_amount", "is_open"]
    assert len(everything) == 2
    open_orders = reader.read("orders", where="is_open and total_amount > ?", params=[100])
    assert open_orders["order_ref"].tolist() == ["shopify:1"]


def test_a_mart_not_built_yet_is_reported_not_read(manifest, tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    reader = DuckDBMartReader(empty, manifest)
    assert not reader.exists("orders")
    with pytest.raises(MartError, match="not built yet"):
        reader.read("orders")
    with duckdb.connect(str(empty)) as conn:
        assert not mart_exists(conn, manifest.mart("orders"))


def test_a_re_parsed_manifest_is_read_again(manifest):
    assert manifest.mart("orders").identifier == "orders"
    data = json.loads(manifest.path.read_text())
    data["nodes"]["model.cod360.orders"]["relation_name"] = '"w"."marts"."orders_v2"'
    manifest.path.write_text(json.dumps(data) + " ")  # another size: another cache key
    assert manifest.mart("orders").identifier == "orders_v2"


def test_a_manifest_caught_half_written_is_read_again_once_complete(tmp_path):
    """dbt rewrites target/manifest.json in place; a reader meeting it mid-write waits."""
    import threading

    from common.marts import DbtManifest

    path = tmp_path / "manifest.json"
    path.write_text('{"nodes": {"model.x.orders": {"resource_type": "mo')
    whole = {"nodes": {"model.x.orders": {"resource_type": "model", "name": "orders"}}}

    def finish_writing():
        path.write_text(json.dumps(whole))

    threading.Timer(0.5, finish_writing).start()
    assert set(DbtManifest(path).models()) == {"orders"}


def test_copy_marts_lands_each_mart_at_its_manifest_name_typed_by_its_contract(
    manifest, warehouse, tmp_path
):
    """What a Spark target does before an activation, here from one DuckDB file to another:
    the contract's columns only, cast to the contract's types; a re-copy replaces, and a
    mart not built yet is skipped without touching the store."""
    from common.marts import copy_marts

    reader = DuckDBMartReader(warehouse, manifest)
    store = tmp_path / "operational.duckdb"
    with duckdb.connect(str(store)) as conn:
        assert copy_marts(reader, conn, ["orders"]) == {"orders": 2}
        assert copy_marts(reader, conn, ["orders"]) == {"orders": 2}  # replaced, not appended
        columns = conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'orders' order by ordinal_position"
        ).fetchall()
        rows = conn.execute("select * from marts.orders order by order_ref").fetchall()
    assert columns == [
        ("order_ref", "VARCHAR"),
        ("total_amount", "DECIMAL(12,2)"),
        ("is_open", "BOOLEAN"),
    ]
    assert [(r[0], float(r[1]), r[2]) for r in rows] == [
        ("shopify:1", 249.0, True),
        ("shopify:2", 99.5, False),
    ]

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with duckdb.connect(str(store)) as conn:
        assert copy_marts(DuckDBMartReader(empty, manifest), conn, ["orders"]) == {"orders": 0}
        assert conn.execute("select count(*) from marts.orders").fetchone() == (2,)


def test_the_manifest_can_be_named_by_the_environment(manifest, monkeypatch):
    monkeypatch.setenv("COD360_DBT_MANIFEST", str(manifest.path))
    assert DbtManifest().path == manifest.path
    assert DbtManifest().mart("orders").identifier == "orders"


def test_the_warehouse_resource_reads_marts_on_the_engine_of_the_dbt_target(warehouse, monkeypatch):
    from common import spark
    from orchestration.resources import WarehouseResource

    monkeypatch.delenv("COD360_DBT_TARGET", raising=False)
    resource = WarehouseResource(path=str(warehouse), landing_dir=".")
    assert resource.marts_engine == "duckdb"
    assert isinstance(resource.mart_reader(), DuckDBMartReader)
    assert resource.copy_marts_here(("orders",)) == {}  # the marts are already in the file
    for target in ("spark_local", "spark_cluster", "databricks"):
        monkeypatch.setenv("COD360_DBT_TARGET", target)
        assert spark.engine() == "spark"
        assert WarehouseResource(path=str(warehouse), landing_dir=".").marts_engine == "spark"
    assert WarehouseResource(
        path=str(warehouse), landing_dir=".", engine="duckdb"
    ).marts_engine == ("duckdb")
