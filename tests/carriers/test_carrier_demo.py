"""The demo's carrier step on the end-to-end store: parcels created through both carrier
APIs with the delivery-code instruction recorded, their scans pulled back through the
product's pulls into raw, and a re-run that hands nothing over twice."""

from __future__ import annotations

import shutil

import pytest

from common.warehouse import connect
from connectors.carriers.instructions import InstructionStore
from connectors.ingestion import LANDING_SOURCES, ingest_source
from sandbox.carrier_demo import (
    DEMO_ACCOUNTS,
    ECOTRACK,
    PARCELS_PER_ACCOUNT,
    YALIDINE,
    carrier_demo,
    carrier_lines,
    demo_resources,
    hand_over,
)
from sandbox.demo_servers import simulated_now


@pytest.fixture
def warehouse(built_store, tmp_path):
    assert built_store.run_succeeded
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built_store.warehouse, copy)
    return copy


def test_the_demo_ships_parcels_through_both_apis_and_pulls_their_scans(warehouse, tmp_path):
    store = InstructionStore(tmp_path / "operational" / "instructions.sqlite")
    landing = tmp_path / "landing"
    landing.mkdir()
    with carrier_demo(tmp_path, simulated_now(warehouse)) as demo:
        hand_over(demo, warehouse, store)
        records = {r.order_ref: r for r in store.records()}
        by_account = {
            a.name: [r for r in records.values() if r.account == a.name] for a in DEMO_ACCOUNTS
        }
        assert len(by_account[YALIDINE.name]) == PARCELS_PER_ACCOUNT
        assert len(by_account[ECOTRACK.name]) == PARCELS_PER_ACCOUNT
        # EcoTrack carries the requirement in `remarque`; Yalidine has no field for it.
        assert {r.status for r in by_account[ECOTRACK.name]} == {"sent"}
        assert {r.status for r in by_account[YALIDINE.name]} == {"unsupported"}
        for record in by_account[ECOTRACK.name]:
            assert record.instruction in demo.ecotrack.orders[record.tracking_number]["remarque"]
        assert {p["order_id"] for p in demo.yalidine.parcels.values()} == {
            r.order_ref for r in by_account[YALIDINE.name]
        }

        # The accounts' env names what the pull assets resolve; the pulls are the product's.
        for account in DEMO_ACCOUNTS:
            assert {account.env_var(s) for s, _, _ in account.settings()} <= set(demo.env)
        for account in DEMO_ACCOUNTS:
            demo_resources(demo)[account.name].pull(account, landing)

        hand_over(demo, warehouse, store)  # a re-run: nothing handed over twice
        assert len(store.records()) == 2 * PARCELS_PER_ACCOUNT

    source = next(s for s in LANDING_SOURCES if s.name == "carrier_tracking_events")
    with connect(warehouse) as conn:
        ingest_source(conn, source, landing)
        rows = conn.execute(
            "select json_extract_string(payload, '$.carrier'), "
            "json_extract_string(payload, '$.order_ref'), count(*) "
            "from raw.carrier_tracking_events "
            "where json_extract_string(payload, '$.carrier') in ('yalidine', 'dhd') "
            "group by 1, 2"
        ).fetchall()
    # Every handed-over parcel came back with its scans.
    assert {(carrier, ref) for carrier, ref, _ in rows} == {
        (next(a.carrier for a in DEMO_ACCOUNTS if a.name == r.account), r.order_ref)
        for r in store.records()
    }
    # 3 scans, one outcome for some; EcoTrack also logs the creation itself.
    assert all(3 <= n <= 5 for *_, n in rows)
    # The courier's creation stamp comes before its scans, so a parcel's history ends on
    # the last scan (out for delivery, delivered or failed), never on its creation.
    with connect(warehouse, read_only=True) as conn:
        last = conn.execute(
            "select arg_max(json_extract_string(payload, '$.raw_status'), "
            "json_extract_string(payload, '$.event_time')) from raw.carrier_tracking_events "
            "where json_extract_string(payload, '$.carrier') = 'dhd' "
            "group by json_extract_string(payload, '$.tracking_number')"
        ).fetchall()
    assert {status for (status,) in last} <= {"dispatched_to_driver", "livred", "attempt_delivery"}
    lines = "\n".join(carrier_lines(warehouse, store))
    assert (
        "dhd_demo (ecotrack): parcels recorded with the delivery-code instruction: sent 6" in lines
    )
    assert "unsupported 6" in lines
