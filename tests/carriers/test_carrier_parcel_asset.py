"""The opt-in parcel-creation asset: the orders given to the account's carrier (assigned, else
recommended) created once through the API, with the delivery-code instruction."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from activations.warehouse_tables import CARRIER_RECOMMENDATIONS, ORDERS_TO_DISPATCH_MODEL
from common.marts import mart
from common.warehouse import connect
from connectors.carriers.config import load_accounts
from connectors.carriers.instructions import DELIVERY_CODE_INSTRUCTION, InstructionStore
from connectors.carriers.resources import EcoTrackPullResource
from orchestration.defs.carrier_pulls.parcels import carrier_parcel_definitions
from orchestration.resources import WarehouseResource
from sandbox.contract_servers import serve
from sandbox.contract_servers.ecotrack import EcoTrackContractServer

ACCOUNTS = """
accounts:
  - name: dhd
    api: ecotrack
    carrier: dhd
    create_parcels: true
    delivery_code_instruction: true
    wilaya_codes: {Alger: 16, Oran: 31}
  - {name: quiet, api: ecotrack, carrier: quiet}
"""


@pytest.fixture(scope="module", autouse=True)
def _parsed_dbt_project(dbt_manifest) -> None:
    """The asset finds the marts where dbt's manifest says they live."""


def _warehouse(path: Path) -> None:
    to_dispatch = mart(ORDERS_TO_DISPATCH_MODEL)
    with connect(path) as conn:
        conn.execute(f'create schema if not exists "{to_dispatch.schema}"')
        conn.execute(
            f"""
            create table {to_dispatch} (
                order_ref varchar, platform varchar, order_number varchar,
                customer_name varchar, customer_phone varchar, city varchar, address varchar,
                is_cod boolean, cod_amount decimal(12, 2), currency varchar,
                assigned_carrier varchar, confirmed_at timestamp, placed_at timestamp)
            """
        )
        rows = [
            ("shopify:1", "Amina Benali", "+213550123456", "Alger", "12 rue Didouche", None),
            ("shopify:2", "Karim", "+213661234567", "Oran", "Hai Es Salam", "dhd"),  # assigned
            ("shopify:3", "Nadia S", "+213770000001", "Tamanrasset", "Centre", None),  # no code
            ("shopify:4", "Yacine", "+213550000002", "Alger", "Bab Ezzouar", None),  # other
        ]
        conn.executemany(
            f"insert into {to_dispatch} values (?, 'shopify', null, ?, ?, ?, ?, true, 2500, "
            "'DZD', ?, null, timestamp '2026-11-20 10:00:00')",
            [(ref, name, phone, city, address, assigned) for ref, name, phone, city, address,
             assigned in rows],
        )  # fmt: skip
        conn.execute("create schema if not exists ml")
        conn.execute(
            f"create table {CARRIER_RECOMMENDATIONS} (order_ref varchar, recommended_carrier varchar)"
        )
        conn.executemany(
            f"insert into {CARRIER_RECOMMENDATIONS} values (?, ?)",
            [("shopify:1", "dhd"), ("shopify:2", "yalidine"), ("shopify:3", "dhd"),
             ("shopify:4", "yalidine")],
        )  # fmt: skip


def test_only_accounts_that_opted_in_get_a_parcel_asset(tmp_path: Path) -> None:
    (tmp_path / "accounts.yml").write_text(ACCOUNTS)
    accounts = load_accounts(tmp_path / "accounts.yml")
    keys = [a.key.to_user_string() for a in carrier_parcel_definitions(accounts).assets]
    assert keys == ["carrier_parcels/dhd/dhd"]
    assert not accounts[1].create_parcels  # the default: nothing created


def test_parcels_go_to_the_recommended_carrier_once_with_the_instruction(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("COD360_CARRIER_INSTRUCTIONS_DB", str(tmp_path / "ops.sqlite"))
    (tmp_path / "accounts.yml").write_text(ACCOUNTS)
    accounts = load_accounts(tmp_path / "accounts.yml")
    warehouse = tmp_path / "warehouse.duckdb"
    _warehouse(warehouse)
    server = EcoTrackContractServer(token="tok-1")
    assets = carrier_parcel_definitions(accounts).assets
    with serve(server) as url:
        resources = {
            "warehouse": WarehouseResource(path=str(warehouse), landing_dir=str(tmp_path)),
            "carrier_dhd": EcoTrackPullResource(
                base_url=f"{url}/api/v1/", token="tok-1", rate_limit_per_s=0
            ),
        }
        first = dg.materialize(assets, resources=resources)
        again = dg.materialize(assets, resources=resources)
    node = "carrier_parcels__dhd__dhd"
    meta = first.asset_materializations_for_node(node)[0].metadata
    assert meta["orders"].value == 3  # recommended dhd (2) and assigned dhd (1)
    assert meta["sent"].value == 2 and meta["city_without_wilaya_code"].value == 1
    assert again.asset_materializations_for_node(node)[0].metadata["already_recorded"].value == 2
    assert len(server.requests("/api/v1/create/order")) == 2  # never again on the re-run
    created = {o["reference"]: o for o in server.orders.values()}
    assert sorted(created) == ["shopify:1", "shopify:2"]
    assert created["shopify:1"]["wilaya_id"] == 16 and created["shopify:2"]["wilaya_id"] == 31
    assert created["shopify:1"]["client"] == "Amina Benali"
    assert created["shopify:1"]["remarque"].endswith(DELIVERY_CODE_INSTRUCTION)
    rows = InstructionStore(tmp_path / "ops.sqlite").records()
    assert [(r.order_ref, r.status, r.instruction_field) for r in rows] == [
        ("shopify:1", "sent", "remarque"),
        ("shopify:2", "sent", "remarque"),
    ]
