"""The opt-in instruction asset: the orders mart's dispatched parcels told once, by the carrier's field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from activations.warehouse_tables import ORDERS_MODEL
from common.marts import mart
from common.warehouse import connect
from connectors.carriers.config import load_accounts
from connectors.carriers.instructions import DELIVERY_CODE_INSTRUCTION, InstructionStore
from connectors.carriers.resources import EcoTrackPullResource
from orchestration.defs.carrier_pulls.assets import carrier_pull_definitions
from orchestration.defs.carrier_pulls.instructions import carrier_instruction_definitions
from orchestration.defs.carrier_pulls.schedules import carrier_pull_job_selection
from orchestration.defs.ingestion.assets import build_ingestion_assets
from orchestration.resources import WarehouseResource
from sandbox.contract_servers import serve
from sandbox.contract_servers.ecotrack import EcoTrackContractServer

ACCOUNTS = """
accounts:
  - {name: dhd, api: ecotrack, carrier: dhd, delivery_code_instruction: true}
  - {name: quiet, api: ecotrack, carrier: quiet}
"""


@pytest.fixture(scope="module", autouse=True)
def _parsed_dbt_project(dbt_manifest) -> None:
    """The asset finds the orders mart where dbt's manifest says it lives."""


def _orders(warehouse: Path, rows: list[tuple[str, str, str, str | None]]) -> None:
    orders = mart(ORDERS_MODEL)
    with connect(warehouse) as conn:
        conn.execute(f'create schema if not exists "{orders.schema}"')
        conn.execute(
            f"create table {orders} (order_ref varchar, order_status varchar, outcome varchar, "
            "carrier varchar, tracking_number varchar)"
        )
        conn.executemany(
            f"insert into {orders} values (?, ?, ?, ?, ?)",
            [(ref, status, "delivered" if status == "delivered" else "open", carrier, tracking)
             for ref, status, carrier, tracking in rows],
        )  # fmt: skip


def test_only_opted_in_accounts_get_an_asset_and_it_joins_the_pull_job(tmp_path: Path) -> None:
    (tmp_path / "accounts.yml").write_text(ACCOUNTS)
    accounts = load_accounts(tmp_path / "accounts.yml")
    keys = [a.key.to_user_string() for a in carrier_instruction_definitions(accounts).assets]
    assert keys == ["carrier_instructions/dhd/dhd"]
    assert not accounts[1].delivery_code_instruction  # the default: nothing sent
    graph = dg.Definitions.merge(
        carrier_pull_definitions(accounts),
        carrier_instruction_definitions(accounts),
        dg.Definitions(assets=build_ingestion_assets([], None, accounts)),
        dg.Definitions(
            resources={"warehouse": WarehouseResource(path="unused.duckdb", landing_dir="unused")}
        ),
    ).resolve_asset_graph()
    chosen = {k.to_user_string() for k in carrier_pull_job_selection(accounts).resolve(graph)}
    assert "carrier_instructions/dhd/dhd" in chosen and "carrier_pulls/quiet/quiet" in chosen


def test_dispatched_parcels_are_instructed_once_and_recorded(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COD360_CARRIER_INSTRUCTIONS_DB", str(tmp_path / "ops.sqlite"))
    (tmp_path / "accounts.yml").write_text(ACCOUNTS)
    accounts = load_accounts(tmp_path / "accounts.yml")
    server = EcoTrackContractServer(token="tok-1", today=date(2026, 11, 20))
    out = server.add_order("shopify:1", created_at="2026-11-18")
    shipped = server.add_order("shopify:2", created_at="2026-11-18", validated=True)
    done = server.add_order("shopify:3", created_at="2026-11-10")
    warehouse = tmp_path / "warehouse.duckdb"
    _orders(
        warehouse,
        [
            ("shopify:1", "out_for_delivery", "dhd", out),
            ("shopify:2", "in_transit", "DHD", shipped),
            ("shopify:3", "delivered", "dhd", done),  # delivered: nothing to tell
            ("shopify:4", "pending", "dhd", None),  # not dispatched yet
            ("shopify:5", "in_transit", "yalidine", "yal-1"),  # another carrier's parcel
        ],
    )
    assets = carrier_instruction_definitions(accounts).assets
    with serve(server) as url:
        resources = {
            "warehouse": WarehouseResource(path=str(warehouse), landing_dir=str(tmp_path)),
            "carrier_dhd": EcoTrackPullResource(
                base_url=f"{url}/api/v1/", token="tok-1", rate_limit_per_s=0
            ),
        }
        first = dg.materialize(assets, resources=resources)
        again = dg.materialize(assets, resources=resources)
    meta = first.asset_materializations_for_node("carrier_instructions__dhd__dhd")[0].metadata
    assert meta["parcels"].value == 2 and meta["sent"].value == 2
    assert (
        again.asset_materializations_for_node("carrier_instructions__dhd__dhd")[0]
        .metadata["already_recorded"]
        .value
        == 2
    )
    for tracking in (out, shipped):
        assert server.notes[tracking][0]["remarque"].endswith(DELIVERY_CODE_INSTRUCTION)
    assert len(server.requests("/api/v1/add/maj")) == 2  # one each, never on the re-run
    rows = InstructionStore(tmp_path / "ops.sqlite").records()
    assert [(r.order_ref, r.status, r.instruction_field) for r in rows] == [
        ("shopify:1", "sent", "add/maj content"),
        ("shopify:2", "sent", "add/maj content"),
    ]
