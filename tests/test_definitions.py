"""The code location loads, and its sensor and checks behave when called directly."""

from __future__ import annotations

import json
import os
import shutil
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


def test_carrier_pulls_exist_only_for_configured_accounts_and_feed_raw_tracking(
    definitions, tmp_path, monkeypatch
):
    from orchestration.definitions import defs

    # The shipped accounts file lists none: no carrier is called, no carrier schedule.
    keys = {k.to_user_string() for k in definitions.resolve_asset_graph().get_all_asset_keys()}
    assert not any(k.startswith("carrier_pulls/") for k in keys)
    assert all(s.name != "carrier_pull_schedule" for s in definitions.schedules or [])
    accounts = tmp_path / "accounts.yml"
    accounts.write_text("accounts: [{name: dhd, api: ecotrack, carrier: dhd}]\n")
    monkeypatch.setenv("COD360_CARRIER_ACCOUNTS", str(accounts))
    configured = defs()
    graph = configured.resolve_asset_graph()
    pull = dg.AssetKey(["carrier_pulls", "dhd", "dhd"])
    assert graph.get(pull).group_name == "carrier_pulls"
    assert pull in graph.get(dg.AssetKey(["raw", "carrier_tracking_events"])).parent_keys
    schedule = configured.resolve_schedule_def("carrier_pull_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


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


def test_a_file_with_an_old_mtime_is_still_picked_up_by_the_sensor(data_dir: Path):
    """Copied with its timestamps (cp -p, rsync -t) or renamed late from .tmp: the
    cursor is the listing, not the newest mtime, so neither can be missed."""
    from orchestration.defs.ingestion.sensors import landing_files_sensor

    landing = data_dir / "landing"
    newer = landing / "tracking/ameex/b.jsonl"
    newer.parent.mkdir(parents=True)
    newer.write_text("{}\n")
    first = landing_files_sensor(dg.build_sensor_context())
    older = landing / "tracking/ameex/a.jsonl.tmp"
    older.write_text("{}\n")
    os.utime(older, ns=(10**18, 10**18))  # 2001: older than the file already seen
    assert isinstance(
        landing_files_sensor(dg.build_sensor_context(cursor=first.cursor)), dg.SkipReason
    )
    renamed = older.rename(landing / "tracking/ameex/a.jsonl")
    assert renamed.stat().st_mtime_ns < newer.stat().st_mtime_ns
    result = landing_files_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert len(result.run_requests) == 1
    assert result.run_requests[0].tags["cod360/changed_sources"] == "carrier_tracking_events"


def _check_for(source_name: str):
    from orchestration.defs.quality.raw_input_checks import raw_input_checks

    return next(c for c in raw_input_checks if source_name in str(c.check_keys))


def test_every_landing_source_has_a_suite_and_its_blocking_check():
    from connectors.quality.raw_suites import build_suites
    from orchestration.defs.quality.raw_input_checks import raw_input_checks

    sources = {source.name for source in LANDING_SOURCES}
    assert set(build_suites()) == sources
    assert len(raw_input_checks) == len(sources)
    assert all(spec.blocking for check in raw_input_checks for spec in check.check_specs)


GOOD_EVENT = {
    "carrier": "ameex",
    "tracking_number": "A1",
    "order_ref": "shopify:1",
    "raw_status": "Livré",
    "event_time": "2026-03-01T10:00:00+01:00",
}


def _land_and_check(data_dir: Path, records: list[dict]):
    from orchestration.resources import WarehouseResource

    landing = data_dir / "landing"
    events = landing / "tracking/mixed/events.jsonl"
    events.parent.mkdir(parents=True, exist_ok=True)
    events.write_text("".join(json.dumps(r) + "\n" for r in records))
    warehouse = data_dir / "warehouse.duckdb"
    with connect(warehouse) as conn:
        source = next(s for s in LANDING_SOURCES if s.name == "carrier_tracking_events")
        report = ingest_source(conn, source, landing)
    resource = WarehouseResource(path=str(warehouse), landing_dir=str(landing))
    return report, _check_for("carrier_tracking_events")(warehouse=resource)


def test_a_handful_of_odd_records_does_not_block_the_good_ones(data_dir: Path):
    good = [{**GOOD_EVENT, "tracking_number": f"A{i}"} for i in range(100)]
    # Loads (every field is plausible) but unusual: a carrier and a platform cod360 does
    # not know. One in a hundred is a new value to map, not a broken feed.
    odd = {**GOOD_EVENT, "carrier": "pigeon_post", "order_ref": "ebay:9"}
    # One event dated 2099 is quarantined at the boundary, not loaded to fail the suite.
    future = {**GOOD_EVENT, "event_time": "2099-01-01T00:00:00+00:00"}
    report, result = _land_and_check(data_dir, [*good, odd, future])
    assert (report.records_loaded, report.records_quarantined) == (101, 1)
    assert result.passed is True, result.metadata["results"].value
    assert os.environ["COD360_WAREHOUSE"] == str(data_dir / "warehouse.duckdb")


def test_the_great_expectations_check_fails_on_a_bad_batch(data_dir: Path):
    good = [{**GOOD_EVENT, "tracking_number": f"A{i}"} for i in range(40)]
    # A new export format: most records name a carrier and a platform cod360 does not know.
    odd = [
        {**GOOD_EVENT, "carrier": "pigeon_post", "order_ref": "ebay:9", "tracking_number": f"P{i}"}
        for i in range(40)
    ]
    # ...and a third of its records are quarantined.
    broken = [{k: v for k, v in GOOD_EVENT.items() if k != "raw_status"}] * 40
    report, result = _land_and_check(data_dir, [*good, *odd, *broken])
    assert (report.records_loaded, report.records_quarantined) == (80, 40)
    assert result.passed is False
    failed = result.metadata["expectations_failed"].value
    assert failed == 3  # quarantined share, unknown carriers, unknown platforms
    assert "pigeon_post" in result.metadata["results"].value


def _load_tracking(data_dir: Path, name: str, records: list[dict]):
    landing = data_dir / "landing"
    path = landing / f"tracking/mixed/{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    with connect(data_dir / "warehouse.duckdb") as conn:
        source = next(s for s in LANDING_SOURCES if s.name == "carrier_tracking_events")
        return ingest_source(conn, source, landing)


def _tracking_check(data_dir: Path):
    from orchestration.resources import WarehouseResource

    resource = WarehouseResource(
        path=str(data_dir / "warehouse.duckdb"), landing_dir=str(data_dir / "landing")
    )
    return _check_for("carrier_tracking_events")(warehouse=resource)


def test_the_suite_judges_the_latest_load_not_the_whole_history(data_dir: Path):
    """A new export format in the latest load fails its suite however long the good
    history before it (judged over the whole table, 1,200 odd records after 30,000 good
    ones were 4 %: under the 5 % tolerance, and every run re-read every payload)."""
    good = [{**GOOD_EVENT, "tracking_number": f"A{i}"} for i in range(30_000)]
    _load_tracking(data_dir, "history", good)
    assert _tracking_check(data_dir).passed is True
    odd = [
        {**GOOD_EVENT, "carrier": "pigeon_post", "tracking_number": f"P{i}"} for i in range(1200)
    ]
    _load_tracking(data_dir, "new-format", odd)
    result = _tracking_check(data_dir)
    assert result.passed is False
    assert result.metadata["rows_validated"].value == 1200
    assert "pigeon_post" in result.metadata["results"].value


def test_a_small_load_is_judged_with_the_newest_records_before_it(data_dir: Path):
    """Three records, one naming a new carrier, are not a 33 % broken feed: the batch
    reaches back to the files holding the newest 1,000 records, not to the whole table."""
    from connectors.quality.raw_suites import MIN_BATCH_RECORDS

    assert MIN_BATCH_RECORDS == 1000
    for name, count in [("older", 2000), ("recent", 1000)]:
        events = [{**GOOD_EVENT, "tracking_number": f"{name}{i}"} for i in range(count)]
        _load_tracking(data_dir, name, events)
    small = [
        {**GOOD_EVENT, "tracking_number": "B1"},
        {**GOOD_EVENT, "tracking_number": "B2"},
        {**GOOD_EVENT, "carrier": "pigeon_post", "tracking_number": "B3"},
    ]
    _load_tracking(data_dir, "small", small)
    result = _tracking_check(data_dir)
    assert result.passed is True, result.metadata["results"].value
    assert result.metadata["rows_validated"].value == 1003  # "recent" and "small"


def test_a_source_far_behind_the_others_fails_its_freshness_expectation(data_dir: Path):
    from orchestration.resources import WarehouseResource

    landing = data_dir / "landing"
    sms = {
        "provider": "infobip",
        "message_id": "m1",
        "direction": "outbound",
        "phone": "0612345678",
        "status": "sent",
        "event_time": "2026-05-01T10:00:00+01:00",  # two months after the last carrier event
    }
    (landing / "messages/sms").mkdir(parents=True)
    (landing / "messages/sms/s.jsonl").write_text(json.dumps(sms) + "\n")
    (landing / "tracking/ameex").mkdir(parents=True)
    (landing / "tracking/ameex/t.jsonl").write_text(json.dumps(GOOD_EVENT) + "\n")
    warehouse = data_dir / "warehouse.duckdb"
    with connect(warehouse) as conn:
        for source in LANDING_SOURCES:
            ingest_source(conn, source, landing)
    resource = WarehouseResource(path=str(warehouse), landing_dir=str(landing))
    carriers = _check_for("carrier_tracking_events")(warehouse=resource)
    assert carriers.passed is False
    rows = carriers.metadata["results"].value.splitlines()
    failed = [row.split("|")[2].strip() for row in rows if "**no**" in row]
    assert failed == ["days_behind_newest_source"]
    assert _check_for("sms_events")(warehouse=resource).passed is True


def test_the_sensor_runs_only_what_is_downstream_of_the_changed_sources(
    data_dir: Path, definitions
):
    """A carrier file rebuilds what reads carrier events, not the storefront staging."""
    from orchestration.defs.ingestion.sensors import landing_files_sensor

    path = data_dir / "landing/tracking/ameex/a.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("{}\n")
    context = dg.build_sensor_context(repository_def=definitions.get_repository_def())
    (request,) = landing_files_sensor(context).run_requests
    selected = {key.to_user_string() for key in request.asset_selection}
    assert "raw/carrier_tracking_events" in selected
    assert "staging/stg_carriers__tracking_events" in selected
    assert "intermediate/int_tracking_events" in selected
    assert "raw/shopify_orders" not in selected
    assert "staging/stg_shopify__orders" not in selected
    assert not any(key.startswith("activations/") for key in selected)
    assert "lead_score_model" not in selected
    assert "order_scores" in selected  # a new order is scored in the run that models it


def test_new_files_are_the_ones_ingestion_has_not_recorded(data_dir: Path):
    from orchestration.defs.ingestion.changes import sources_with_new_files

    landing, warehouse = data_dir / "landing", data_dir / "warehouse.duckdb"
    assert sources_with_new_files(landing, warehouse) == []
    tracking = landing / "tracking/ameex/a.jsonl"
    tracking.parent.mkdir(parents=True)
    tracking.write_text("{}\n")
    carriers = next(s for s in LANDING_SOURCES if s.name == "carrier_tracking_events")
    assert sources_with_new_files(landing, warehouse) == [carriers]  # no warehouse yet
    with connect(warehouse) as conn:
        ingest_source(conn, carriers, landing)
    assert sources_with_new_files(landing, warehouse) == []
    os.utime(tracking, ns=(10**18, 10**18))  # touched (or replaced): read again
    assert sources_with_new_files(landing, warehouse) == [carriers]


def test_cod360_run_new_with_nothing_new_does_nothing(data_dir: Path, capsys):
    from orchestration.cli import main

    assert main(["run", "--new"]) == 0
    assert "Nothing new" in capsys.readouterr().out
    assert not (data_dir / "warehouse.duckdb").exists()


def test_a_manifest_older_than_the_project_is_seen_as_stale():
    """Definitions loaded from a stale manifest would fail on the models it lacks."""
    from orchestration.dbt_project import cod360_dbt_project, manifest_is_stale, prepare_manifest

    prepare_manifest()
    assert not manifest_is_stale()
    manifest = cod360_dbt_project.manifest_path
    stat = manifest.stat()
    try:
        os.utime(manifest, ns=(stat.st_atime_ns, 10**18))  # 2001: before every model file
        assert manifest_is_stale()
    finally:
        os.utime(manifest, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_manifest_parsed_with_other_segments_is_stale(tmp_path, monkeypatch):
    """The --vars carry the compiled segment files, which may live outside the project
    (COD360_SEGMENTS_DIR): a manifest parsed with other ones is parsed again."""
    from common.settings import DBT_PROJECT_DIR
    from orchestration.dbt_project import manifest_is_stale, prepare_manifest

    prepare_manifest()
    assert not manifest_is_stale()
    segments = tmp_path / "segments"
    shutil.copytree(DBT_PROJECT_DIR / "segments", segments)
    first = sorted(segments.glob("*.yml"))[0]
    first.write_text(first.read_text().replace("label:", "label: Edited", 1))
    monkeypatch.setenv("COD360_SEGMENTS_DIR", str(segments))
    assert manifest_is_stale()


def test_the_scoring_schedule_skips_a_tick_when_nothing_it_reads_changed(definitions):
    """order_scores runs when never run, when order_rto_history or the approved version
    materialized after it, or on a new day (the staleness rule counts days); else skips."""
    from datetime import UTC, datetime

    from orchestration.defs.lead_score.assets import (
        ORDER_RTO_HISTORY,
        lead_score_approved_version,
        order_scores,
        order_scoring_schedule,
    )

    def tick(instance, at: datetime):
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=at)
        return order_scoring_schedule(context)

    def materialize(instance, key):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))

    with dg.instance_for_test() as instance:
        now = datetime.now(UTC)
        assert isinstance(tick(instance, now), dg.RunRequest)  # never scored
        materialize(instance, ORDER_RTO_HISTORY)
        materialize(instance, lead_score_approved_version.key)
        materialize(instance, order_scores.key)
        assert isinstance(tick(instance, now), dg.SkipReason)
        materialize(instance, ORDER_RTO_HISTORY)  # dbt rebuilt the marts
        request = tick(instance, now)
        assert isinstance(request, dg.RunRequest)
        assert "order_rto_history" in request.tags["cod360/scoring_reason"]
        materialize(instance, order_scores.key)
        assert isinstance(tick(instance, now), dg.SkipReason)
        materialize(instance, lead_score_approved_version.key)  # a version promoted
        assert isinstance(tick(instance, now), dg.RunRequest)
        materialize(instance, order_scores.key)
        tomorrow = tick(instance, now + timedelta(days=1))
        assert isinstance(tomorrow, dg.RunRequest)
        assert "an earlier day" in tomorrow.tags["cod360/scoring_reason"]
