"""The code location loads, and its sensor and checks behave when called directly."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from common.warehouse import connect
from connectors.ingestion import LANDING_SOURCES, ingest_source


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    from orchestration.dbt_project import prepare_manifest
    from orchestration.definitions import defs

    prepare_manifest()
    return defs()


def test_every_layer_is_one_lineage_graph(definitions):
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for source in LANDING_SOURCES:
        assert f"raw/{source.name}" in keys
    # dbt staging reads the raw tables the ingestion assets write: one graph, not two.
    staging = graph.get(dg.AssetKey(["staging", "stg_carriers__tracking_events"]))
    assert dg.AssetKey(["raw", "carrier_tracking_events"]) in staging.parent_keys
    assert graph.get(dg.AssetKey(["raw", "carrier_tracking_events"])).group_name == "ingestion"
    assert graph.get(dg.AssetKey(["intermediate", "int_orders"])).group_name == "intermediate"
    # The raw tables carry the freshness their dbt sources declare (warn 24 h, fail 72 h).
    raw = graph.get(dg.AssetKey(["raw", "carrier_tracking_events"]))
    assert raw.freshness_policy == dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=72), warn_window=timedelta(hours=24)
    )
    # The histories (their own dbt asset) read the rest: still one graph.
    history = graph.get(dg.AssetKey(["marts", "segment_membership_history"]))
    assert dg.AssetKey(["marts", "segment_evaluation"]) in history.parent_keys


def test_order_scores_wait_for_the_approved_version_which_the_blocking_gate_guards(
    definitions,
):
    graph = definitions.resolve_asset_graph()
    evaluation = dg.AssetKey("lead_score_evaluation")
    approved = dg.AssetKey("lead_score_approved_version")
    assert approved in graph.get(dg.AssetKey("order_scores")).parent_keys
    assert evaluation in graph.get(approved).parent_keys
    gate = dg.AssetCheckKey(evaluation, "beats_baseline_and_approved_version")
    assert graph.get_check_spec(gate).blocking


def test_a_refused_lead_score_does_not_gate_storefront_decisions_but_bad_raw_data_does(
    definitions,
):
    from orchestration.defs.activations.gates import gated_upstream

    graph = definitions.resolve_asset_graph()
    gated = gated_upstream(graph, dg.AssetKey(["activations", "storefront_decisions"]))
    assert {dg.AssetKey("order_scores"), dg.AssetKey("lead_score_approved_version")} <= gated
    # The approved version stays when the promotion check refuses a candidate: its
    # upstream (the evaluation and its blocking check) does not stop the decisions.
    assert dg.AssetKey("lead_score_evaluation") not in gated
    assert dg.AssetKey(["raw", "shopify_orders"]) in gated  # via order_rto_history


def test_raw_tables_carry_blocking_quality_and_reconciliation_checks(definitions):
    graph = definitions.resolve_asset_graph()
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    for source in LANDING_SOURCES:
        assert (f"raw/{source.name}", "great_expectations_suite") in checks
        assert (f"raw/{source.name}", "records_reconcile") in checks
    # dbt tests are asset checks too.
    assert any(
        asset == "intermediate/int_orders" and name.startswith("unique_") for asset, name in checks
    )


def test_the_landing_sensor_requests_a_run_only_for_new_files(data_dir: Path):
    from orchestration.defs.ingestion.sensors import landing_files_sensor

    landing = data_dir / "landing"
    context = dg.build_sensor_context()
    assert isinstance(landing_files_sensor(context), dg.SkipReason)

    path = landing / "tracking/ameex/a.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("{}\n")
    (landing / "tracking/ameex/b.jsonl.open").write_text("{}\n")  # still being written
    result = landing_files_sensor(context)
    assert len(result.run_requests) == 1
    cursor = json.loads(result.cursor)
    assert set(cursor) == {"carrier_tracking_events"}

    again = landing_files_sensor(dg.build_sensor_context(cursor=result.cursor))
    assert isinstance(again, dg.SkipReason)


def test_the_great_expectations_check_fails_on_bad_but_parseable_records(data_dir: Path):
    from orchestration.defs.quality.raw_input_checks import raw_input_checks
    from orchestration.resources import WarehouseResource

    landing = data_dir / "landing"
    events = landing / "tracking/unknown_carrier/events.jsonl"
    events.parent.mkdir(parents=True)
    good = {
        "carrier": "ameex",
        "tracking_number": "A1",
        "order_ref": "shopify:1",
        "raw_status": "Livré",
        "event_time": "2026-03-01T10:00:00+01:00",
    }
    # Loads (every required field parses) but is wrong: an unknown carrier, a platform
    # cod360 does not know, an event time a year in the future.
    bad = {
        **good,
        "carrier": "pigeon_post",
        "order_ref": "ebay:9",
        "event_time": "2099-01-01T00:00:00+00:00",
    }
    events.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    warehouse = data_dir / "warehouse.duckdb"
    with connect(warehouse) as conn:
        source = next(s for s in LANDING_SOURCES if s.name == "carrier_tracking_events")
        assert ingest_source(conn, source, landing).records_loaded == 2

    check = next(c for c in raw_input_checks if "carrier_tracking_events" in str(c.check_keys))
    resource = WarehouseResource(path=str(warehouse), landing_dir=str(landing))
    result = check(warehouse=resource)
    assert result.passed is False
    failed = result.metadata["expectations_failed"].value
    assert failed == 3  # carrier, platform, future time
    assert "pigeon_post" in result.metadata["results"].value
    assert os.environ["COD360_WAREHOUSE"] == str(warehouse)
