"""The carrier accounts file, the pull assets as deps of raw tracking, the job and its schedule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from connectors.carriers.config import DEFAULT_ACCOUNTS_FILE, CarrierConfigError, load_accounts
from connectors.carriers.resources import EcoTrackPullResource, resource_for_account
from orchestration.defs.carrier_pulls.assets import carrier_pull_definitions
from orchestration.defs.carrier_pulls.schedules import (
    carrier_pull_job_selection,
    carrier_pull_schedule_definitions,
)
from orchestration.defs.ingestion.assets import build_ingestion_assets
from orchestration.resources import WarehouseResource
from sandbox.contract_servers import serve
from sandbox.contract_servers.ecotrack import EcoTrackContractServer

ACCOUNTS_YML = """
accounts:
  - name: yal_main
    api: yalidine
    carrier: yalidine
  - name: dhd
    api: ecotrack
    carrier: dhd
    order_ref_prefix: shopify
"""
_WAREHOUSE = dg.Definitions(
    resources={"warehouse": WarehouseResource(path="unused.duckdb", landing_dir="unused")}
)


def _accounts(tmp_path: Path, text: str = ACCOUNTS_YML):
    path = tmp_path / "accounts.yml"
    path.write_text(text)
    return load_accounts(path)


def test_nothing_is_pulled_until_an_account_is_configured():
    assert load_accounts(DEFAULT_ACCOUNTS_FILE) == []
    assert carrier_pull_schedule_definitions([]).schedules in (None, [])
    assert list(carrier_pull_definitions([]).assets or []) == []


def test_one_asset_and_resource_per_account_and_a_stopped_schedule(tmp_path, monkeypatch):
    monkeypatch.delenv("COD360_CARRIER_YAL_MAIN_BASE_URL", raising=False)
    accounts = _accounts(tmp_path)
    defs = dg.Definitions.merge(
        carrier_pull_definitions(accounts), carrier_pull_schedule_definitions(accounts), _WAREHOUSE
    )
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == {
        "carrier_pulls/yalidine/yal_main",
        "carrier_pulls/dhd/dhd",
    }
    schedule = defs.resolve_schedule_def("carrier_pull_schedule")
    assert schedule.cron_schedule == "*/15 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    # Yalidine's base URL has a default; EcoTrack's is one per courier, so it must be set.
    assert resource_for_account(accounts[0]).base_url == "https://api.yalidine.app/v1/"
    assert accounts[1].missing_settings({}) == [
        "COD360_CARRIER_DHD_BASE_URL",
        "COD360_CARRIER_DHD_TOKEN",
    ]


def test_raw_tracking_depends_on_the_pulls_and_the_job_selects_pulls_raw_and_dbt(tmp_path):
    accounts = _accounts(tmp_path)

    @dg.asset(
        key=["stg_carriers__tracking_events"],
        deps=[["raw", "carrier_tracking_events"]],
        kinds={"dbt"},
    )
    def staging_model() -> None: ...

    @dg.asset(key=["whatsapp_campaign_sends"], deps=[staging_model], kinds={"python"})
    def activation() -> None: ...

    defs = dg.Definitions.merge(
        carrier_pull_definitions(accounts),
        dg.Definitions(
            assets=[*build_ingestion_assets([], None, accounts), staging_model, activation]
        ),
        _WAREHOUSE,
    )
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey(["raw", "carrier_tracking_events"])).parent_keys == {
        dg.AssetKey(["carrier_pulls", "yalidine", "yal_main"]),
        dg.AssetKey(["carrier_pulls", "dhd", "dhd"]),
    }
    chosen = carrier_pull_job_selection(accounts).resolve(graph)
    assert {k.to_user_string() for k in chosen} == {
        "carrier_pulls/yalidine/yal_main",
        "carrier_pulls/dhd/dhd",
        "raw/carrier_tracking_events",
        "stg_carriers__tracking_events",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accounts: [{name: Dhd, api: ecotrack, carrier: dhd}]", "account 1 (Dhd): name"),
        ("accounts: [{name: dhd, api: procolis, carrier: dhd}]", "api"),
        (
            "accounts: [{name: a, api: ecotrack, carrier: a}, {name: a, api: yalidine, carrier: b}]",
            "unique: a",
        ),
    ],
)
def test_a_wrong_accounts_file_names_the_file_account_and_field(tmp_path, text, message):
    with pytest.raises(CarrierConfigError, match=r"accounts\.yml") as caught:
        _accounts(tmp_path, text)
    assert message in str(caught.value)


def test_one_run_pulls_then_ingests_and_a_missing_setting_fails_naming_it(tmp_path, monkeypatch):
    dhd = [a for a in _accounts(tmp_path) if a.name == "dhd"]
    server = EcoTrackContractServer(token="tok-9", today=date(2026, 11, 20))
    for n in range(3):
        tracking = server.add_order(str(500 + n), created_at="2026-11-10")
        server.add_activity(tracking, "picked", "2026-11-11 10:00:00", list_status="en_ramassage")
        server.add_activity(
            tracking, "livred", "2026-11-12 15:30:00", list_status="livre_non_encaisse"
        )
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    landing.mkdir()
    raw = [
        a
        for a in build_ingestion_assets([], None, dhd)
        if a.key.path[-1] == "carrier_tracking_events"
    ]
    pulls = carrier_pull_definitions(dhd)

    def run(resource: EcoTrackPullResource | None) -> dg.ExecuteInProcessResult:
        resources: dict = {
            "warehouse": WarehouseResource(path=str(warehouse), landing_dir=str(landing))
        }
        resources.update({"carrier_dhd": resource} if resource else pulls.resources or {})
        # The raw asset is listed first: only its deps on the pull put the pull before it.
        return dg.materialize([*raw, *pulls.assets], resources=resources, raise_on_error=False)

    with serve(server) as url:
        result = run(
            EcoTrackPullResource(base_url=f"{url}/api/v1/", token="tok-9", rate_limit_per_s=0)
        )
    assert result.success
    with duckdb.connect(str(warehouse)) as conn:
        rows = conn.execute(
            "select payload->>'$.order_ref', payload->>'$.raw_status' "
            "from raw.carrier_tracking_events order by payload->>'$.event_time'"
        ).fetchall()
    assert len(rows) == 6 and rows[0] == ("shopify:500", "picked")
    pulled = result.asset_materializations_for_node("carrier_pulls__dhd__dhd")[0]
    assert pulled.metadata["events_landed"].value == 6

    monkeypatch.delenv("COD360_CARRIER_DHD_BASE_URL", raising=False)
    monkeypatch.delenv("COD360_CARRIER_DHD_TOKEN", raising=False)
    pulls = carrier_pull_definitions(dhd)  # resources are dg.EnvVar, read when the run starts
    # Nothing is called: the run is refused before it starts, naming the variable.
    with pytest.raises(dg.DagsterInvalidConfigError, match="COD360_CARRIER_DHD_"):
        run(None)
    assert len(server.requests("/api/v1/get/orders")) == 1


def test_the_raw_quality_suite_knows_the_api_carriers_and_configured_couriers(
    tmp_path, monkeypatch
):
    from connectors.quality.raw_suites import build_suites, known_carriers

    (tmp_path / "accounts.yml").write_text(ACCOUNTS_YML)
    monkeypatch.setenv("COD360_CARRIER_ACCOUNTS", str(tmp_path / "accounts.yml"))
    assert {"yalidine", "guepex", "dhd"} <= set(known_carriers())
    assert "carrier_tracking_events" in build_suites()
    (tmp_path / "accounts.yml").write_text("accounts: [{name: Bad}]")
    assert "dhd" not in known_carriers()  # a broken file is reported by the pulls, not here
