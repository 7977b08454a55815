"""The stores file, the pull assets, their job and schedule, and the demo's replay."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
from storefront_helpers import TOKEN, WRONG, harness

from connectors.storefronts.config import StoreConfigError, load_stores
from connectors.storefronts.resources import WooCommercePullResource, resource_for_store
from orchestration.defs.ingestion.assets import build_ingestion_assets
from orchestration.defs.storefront_pulls.assets import storefront_pull_definitions
from orchestration.defs.storefront_pulls.schedules import (
    pull_job_selection,
    storefront_pull_schedule_definitions,
)
from orchestration.resources import WarehouseResource
from sandbox.storefront_demo import pull_sample_store_through_apis

STORES_YML = """
stores:
  - name: casa
    platform: woocommerce
  - name: souk
    platform: youcan
    overlap_minutes: 15
    env: {access_token: YOUCAN_ACCESS_TOKEN}
  - name: funnels
    platform: lightfunnels
"""

# The code location's shared resource (orchestration/defs/resources.py), for standalone defs.
_WAREHOUSE = dg.Definitions(
    resources={"warehouse": WarehouseResource(path="unused.duckdb", landing_dir="unused")}
)


def _stores(tmp_path: Path, text: str = STORES_YML):
    path = tmp_path / "stores.yml"
    path.write_text(text)
    return load_stores(path)


def test_the_stores_file_gives_one_asset_and_resource_per_store(tmp_path, monkeypatch):
    monkeypatch.delenv("COD360_STORE_SOUK_BASE_URL", raising=False)
    stores = _stores(tmp_path)
    defs = dg.Definitions.merge(
        storefront_pull_definitions(stores),
        storefront_pull_schedule_definitions(stores),
        _WAREHOUSE,
    )
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {
        "storefront_pulls/woocommerce/casa",
        "storefront_pulls/youcan/souk",
        "storefront_pulls/lightfunnels/funnels",
    }
    assert {graph.get(k).group_name for k in graph.get_all_asset_keys()} == {"storefront_pulls"}
    assert stores[0].ref().credential_settings == (
        "COD360_STORE_CASA_CONSUMER_KEY",
        "COD360_STORE_CASA_CONSUMER_SECRET",
    )
    assert stores[1].env_var("access_token") == "YOUCAN_ACCESS_TOKEN"
    assert stores[1].missing_settings({"YOUCAN_ACCESS_TOKEN": "x"}) == []  # base URL has a default
    assert stores[0].missing_settings({}) == [
        "COD360_STORE_CASA_BASE_URL",
        "COD360_STORE_CASA_CONSUMER_KEY",
        "COD360_STORE_CASA_CONSUMER_SECRET",
    ]
    souk = resource_for_store(stores[1])
    assert souk.base_url == "https://api.youcan.shop" and souk.overlap_minutes == 15
    schedule = defs.resolve_schedule_def("storefront_pull_schedule")
    assert schedule.cron_schedule == "*/5 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_the_pull_job_selects_pulls_their_raw_tables_and_the_dbt_models_downstream(tmp_path):
    stores = _stores(tmp_path)

    @dg.asset(key=["stg_woocommerce__orders"], deps=[["raw", "woocommerce_orders"]], kinds={"dbt"})
    def staging_model() -> None: ...

    @dg.asset(key=["customer_360"], deps=[staging_model], kinds={"dbt"}, group_name="customers")
    def mart() -> None: ...

    @dg.asset(key=["whatsapp_campaign_sends"], deps=[mart], kinds={"python"})
    def activation() -> None: ...

    defs = dg.Definitions.merge(
        storefront_pull_definitions(stores),
        dg.Definitions(assets=[*build_ingestion_assets(stores), staging_model, mart, activation]),
        _WAREHOUSE,
    )
    graph = defs.resolve_asset_graph()
    # Lineage: each platform's raw orders depend on that platform's pulls, and only those.
    assert graph.get(dg.AssetKey(["raw", "woocommerce_orders"])).parent_keys == {
        dg.AssetKey(["storefront_pulls", "woocommerce", "casa"])
    }
    assert graph.get(dg.AssetKey(["raw", "shopify_orders"])).parent_keys == set()
    chosen = pull_job_selection(stores).resolve(graph)
    assert {k.to_user_string() for k in chosen} == {
        "storefront_pulls/woocommerce/casa",
        "storefront_pulls/youcan/souk",
        "storefront_pulls/lightfunnels/funnels",
        "raw/woocommerce_orders",
        "raw/youcan_orders",
        "raw/lightfunnels_orders",
        "stg_woocommerce__orders",
        "customer_360",  # a mart, whatever its group: activations are not pulled along
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stores: [{name: Casa, platform: shopify}]", "store 1 (Casa): name"),
        ("stores: [{name: casa, platform: magento}]", "platform"),
        ("stores: [{name: casa, platform: shopify, env: {api_key: X}}]", "not a shopify setting"),
        ("stores: [{name: a, platform: shopify}, {name: a, platform: youcan}]", "unique: a"),
    ],
)
def test_a_wrong_stores_file_names_the_file_store_and_field(tmp_path, text, message):
    with pytest.raises(StoreConfigError, match=r"stores\.yml") as caught:
        _stores(tmp_path, text)
    assert message in str(caught.value)


def _materialize(stores, url, token, landing, warehouse_path):
    pulls = storefront_pull_definitions(stores)
    raw = [a for a in build_ingestion_assets(stores) if a.key.path[-1] == "woocommerce_orders"]
    # The raw asset is listed first: only its deps on the pull put the pull before it.
    return dg.materialize(
        [*raw, *pulls.assets],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse_path), landing_dir=str(landing)),
            "storefront_casa": WooCommercePullResource(
                base_url=url, consumer_key=token, consumer_secret=token, rate_limit_per_s=0
            ),
        },
        raise_on_error=False,
    )


def test_one_run_pulls_then_ingests_and_an_auth_failure_is_a_clear_failure(
    sample, landing, warehouse, start, tmp_path
):
    stores = _stores(tmp_path, "stores: [{name: casa, platform: woocommerce}]")
    server = harness("woocommerce").server(sample)
    url = start(server)
    result = _materialize(stores, url, TOKEN, landing, warehouse)
    assert result.success
    with duckdb.connect(str(warehouse)) as conn:
        (rows,) = conn.execute("select count(*) from raw.woocommerce_orders").fetchone()
    assert rows == len(server.feed.visible())
    pulled = result.asset_materializations_for_node("storefront_pulls__woocommerce__casa")[0]
    assert pulled.metadata["snapshots_landed"].value == rows

    failed = _materialize(stores, url, WRONG, landing, warehouse)
    failure = next(e for e in failed.all_events if e.is_step_failure)
    message = failure.event_specific_data.error.message
    assert "store 'casa' (woocommerce): credentials rejected (HTTP 401" in message
    assert "COD360_STORE_CASA_CONSUMER_KEY" in message and WRONG not in message


def test_the_demo_lands_the_sample_orders_through_the_apis_once(sample, tmp_path, warehouse):
    landing = tmp_path / "demo_landing"
    lines: list[str] = []
    summary = pull_sample_store_through_apis(
        sample, landing, platforms=("shopify", "woocommerce", "youcan"), log=lines.append
    )
    again = pull_sample_store_through_apis(sample, landing, log=lambda _: None)

    assert any("incremental pulls per store" in line for line in lines)
    assert summary.copied_files > 0 and (landing / "tracking").is_dir()
    assert again.copied_files == 0
    for result, rerun in zip(summary.platforms, again.platforms, strict=True):
        h = harness(result.platform)
        counts = h.ingested(landing, warehouse)
        # Every order lands, several snapshots each (the history replayed), none twice.
        assert counts["rows"] == counts["distinct"] == result.snapshots_landed
        assert result.orders < result.snapshots_landed <= result.snapshots_in_sample
        assert counts["quarantined"] == 0 and rerun.snapshots_landed == 0
        landed_orders = {k for k, _ in h.landed_keys(landing, "sample")}
        assert len(landed_orders) == result.orders


def test_the_store_resources_read_url_and_credentials_from_the_environment(
    sample, landing, warehouse, start, tmp_path, monkeypatch
):
    server = harness("youcan").server(sample)
    monkeypatch.setenv("COD360_STORE_SOUK_BASE_URL", start(server))
    monkeypatch.setenv("YOUCAN_ACCESS_TOKEN", TOKEN)
    stores = _stores(
        tmp_path,
        "stores: [{name: souk, platform: youcan, env: {access_token: YOUCAN_ACCESS_TOKEN}, options: {rate_limit_per_s: 0}}]",
    )
    pulls = storefront_pull_definitions(stores)
    result = dg.materialize(
        pulls.assets,
        resources={
            **pulls.resources,
            "warehouse": WarehouseResource(path=str(warehouse), landing_dir=str(landing)),
        },
    )
    landed = result.asset_materializations_for_node("storefront_pulls__youcan__souk")[0]
    assert landed.metadata["snapshots_landed"].value == len(server.feed.visible())
    # The definitions hold the variable's name, resolved at run time; reprs show no secret.
    resource = pulls.resources["storefront_souk"]
    assert resource.access_token == dg.EnvVar("YOUCAN_ACCESS_TOKEN")
    assert "access_token" not in repr(resource)
