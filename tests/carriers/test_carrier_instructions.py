"""The delivery-code requirement reaches the carrier's field once, and every outcome is recorded."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from connectors.carriers.config import CarrierAccount
from connectors.carriers.ecotrack import EcoTrackClient
from connectors.carriers.instructions import (
    DELIVERY_CODE_INSTRUCTION,
    InstructionStore,
    create_parcel,
    default_store_path,
    instruct_parcel,
)
from connectors.carriers.parcels import ParcelRequest
from connectors.carriers.yalidine import YalidineClient
from connectors.storefronts.base import StorefrontAuthError
from connectors.storefronts.http import HttpSettings
from sandbox.contract_servers import serve
from sandbox.contract_servers.ecotrack import EcoTrackContractServer
from sandbox.contract_servers.yalidine import YalidineContractServer

ECO = CarrierAccount(name="dhd", api="ecotrack", carrier="dhd")
YAL = CarrierAccount(name="yal_main", api="yalidine", carrier="yalidine")
PARCEL = ParcelRequest(
    order_ref="shopify:1042",
    first_name="Amina",
    last_name="Benali",
    phone="+213550123456",
    address="Cité 20 août, bloc 3",
    commune="Bab Ezzouar",
    wilaya_name="Alger",
    wilaya_code=16,
    amount=3500.0,
    products="Robe kabyle",
    remark="Appeler avant",
)
SETTINGS = HttpSettings(
    max_retries=2, rate_limit_per_s=None, backoff_base_s=0.0, sleep=lambda s: None
)


def _eco(url: str, token: str = "tok-1") -> EcoTrackClient:
    return EcoTrackClient(
        account=ECO.ref(), base_url=f"{url}/api/v1/", token=token, settings=SETTINGS
    )


def _eco_server(**kw) -> EcoTrackContractServer:
    return EcoTrackContractServer(token="tok-1", today=date(2026, 11, 20), **kw)


def test_ecotrack_creation_carries_the_requirement_in_remarque_once(tmp_path: Path) -> None:
    store = InstructionStore(tmp_path / "ops.sqlite")
    server = _eco_server()
    with serve(server) as url, _eco(url) as client:
        first = create_parcel(store, client, ECO, PARCEL)
        again = create_parcel(store, client, ECO, PARCEL)
    posts = server.requests("/api/v1/create/order", "POST")
    assert len(posts) == 1 and posts[0].body is None  # the fields travel in the query string
    order = server.orders[first.tracking_number]
    # The merchant's note first, then the requirement, in the field the courier prints.
    assert order["remarque"] == f"Appeler avant | {DELIVERY_CODE_INSTRUCTION}"
    assert order["phone"] == "0550123456" and order["reference"] == "shopify:1042"
    assert first.status == "sent" and first.instruction_field == "remarque"
    assert first.sent_at and json.loads(first.response)["success"] is True
    assert again == first and server.duplicates.duplicates() == []
    assert store.records() == [first]


def test_an_existing_parcel_gets_a_note_beside_the_merchants_remark_once(tmp_path: Path) -> None:
    store = InstructionStore(tmp_path / "ops.sqlite")
    server = _eco_server()
    editable = server.add_order("shopify:7", created_at="2026-11-18", remarque="Appeler avant")
    shipped = server.add_order("shopify:8", created_at="2026-11-18", validated=True)
    with serve(server) as url, _eco(url) as client:
        before = instruct_parcel(store, client, ECO, "shopify:7", editable)
        after = instruct_parcel(store, client, ECO, "shopify:8", shipped)
        instruct_parcel(store, client, ECO, "shopify:8", shipped)  # a re-run: nothing sent
    assert server.orders[editable]["remarque"] == "Appeler avant"  # the merchant's, kept
    for tracking, record in ((editable, before), (shipped, after)):
        assert server.notes[tracking][0]["remarque"].endswith(DELIVERY_CODE_INSTRUCTION)
        assert record.status == "sent" and record.instruction_field == "add/maj content"
    assert len(server.requests("/api/v1/add/maj")) == 2
    assert server.requests("/api/v1/update/order") == []


def test_update_order_replaces_the_remark_and_is_refused_once_validated() -> None:
    server = _eco_server()
    editable = server.add_order("shopify:7", created_at="2026-11-18")
    shipped = server.add_order("shopify:8", created_at="2026-11-18", validated=True)
    with serve(server) as url, _eco(url) as client:
        ok = client.update_remark("shopify:7", editable, "Appeler avant | code requis")
        locked = client.update_remark("shopify:8", shipped, "code requis")
    assert ok.ok and server.orders[editable]["remarque"] == "Appeler avant | code requis"
    assert not locked.ok and locked.message.startswith("error 10001")


def test_carrier_refusals_are_recorded_with_the_carriers_answer(tmp_path: Path) -> None:
    store = InstructionStore(tmp_path / "ops.sqlite")
    server = _eco_server(served_wilayas={31})
    bad_phone = replace(PARCEL, order_ref="shopify:2", phone="12")
    with serve(server) as url, _eco(url) as client:
        not_served = create_parcel(store, client, ECO, PARCEL)
        invalid = create_parcel(store, client, ECO, bad_phone)
        create_parcel(store, client, ECO, bad_phone)  # final: not sent again
    assert not_served.status == "failed" and "10002" in not_served.reason
    assert json.loads(not_served.response)["error"] == 10002
    assert invalid.status == "failed" and invalid.reason.startswith("telephone:")
    assert json.loads(invalid.response)["message"] == "The given data was invalid."
    assert len(server.requests("/api/v1/create/order")) == 2 and not server.orders


def test_a_5xx_is_unknown_and_never_resent_a_killed_run_too(tmp_path: Path) -> None:
    store = InstructionStore(tmp_path / "ops.sqlite")
    server = _eco_server(faults={"script": ["503"]})
    with serve(server) as url, _eco(url) as client:
        uncertain = create_parcel(store, client, ECO, PARCEL)
        create_parcel(store, client, ECO, PARCEL)
    assert uncertain.status == "unknown" and "not retried" in uncertain.reason
    assert len(server.requests("/api/v1/create/order")) == 1
    # A run killed after its claim: the next run does not send, it settles the row unknown.
    other = replace(PARCEL, order_ref="shopify:3")
    assert store.claim(ECO, other.order_ref, None, DELIVERY_CODE_INSTRUCTION)
    with serve(server) as url, _eco(url) as client:
        after_kill = create_parcel(store, client, ECO, other)
    assert after_kill.status == "unknown" and len(server.requests("/api/v1/create/order")) == 1


def test_throttled_or_refused_credentials_are_retried_on_the_next_run(tmp_path: Path) -> None:
    store = InstructionStore(tmp_path / "ops.sqlite")
    server = _eco_server(faults={"script": ["throttle", "throttle", "throttle"]})
    with serve(server) as url:
        with _eco(url) as client:
            throttled = create_parcel(store, client, ECO, PARCEL)
        with _eco(url, token="bad") as client, pytest.raises(StorefrontAuthError):
            create_parcel(store, client, ECO, PARCEL)
        assert store.get("dhd", PARCEL.order_ref).status == "retry"
        with _eco(url) as client:
            done = create_parcel(store, client, ECO, PARCEL)
    assert throttled.status == "retry" and done.status == "sent" and done.attempts == 3
    assert len(server.orders) == 1


def test_yalidine_has_no_field_so_the_parcel_is_created_and_reported_unsupported(
    tmp_path: Path,
) -> None:
    store = InstructionStore(tmp_path / "ops.sqlite")
    server = YalidineContractServer(api_id="id-1", api_token="tok-1")
    with serve(server) as url:
        client = YalidineClient(
            account=YAL.ref(),
            base_url=f"{url}/v1/",
            api_id="id-1",
            api_token="tok-1",
            settings=SETTINGS,
        )
        with client:
            created = create_parcel(store, client, YAL, PARCEL)
            existing = instruct_parcel(store, client, YAL, "shopify:9", "yal-000123")
    (post,) = server.requests("/v1/parcels/", "POST")
    assert DELIVERY_CODE_INSTRUCTION not in json.dumps(post.body)  # nothing faked in another field
    assert created.status == "unsupported" and created.tracking_number in server.parcels
    assert "no remarks, notes or instructions field" in created.reason
    assert existing.status == "unsupported" and existing.sent_at is None
    assert len(server.requests()) == 1  # the existing parcel cost no call
    assert {"length", "width", "height", "weight", "from_wilaya_name"} <= set(post.body[0])


def test_a_yalidine_refusal_is_recorded_and_creates_nothing(tmp_path: Path) -> None:
    store = InstructionStore(tmp_path / "ops.sqlite")
    server = YalidineContractServer(api_id="id-1", api_token="tok-1")
    desk = replace(PARCEL, stop_desk=True)  # a stop desk needs its centre id
    with serve(server) as url:
        client = YalidineClient(
            account=YAL.ref(),
            base_url=f"{url}/v1/",
            api_id="id-1",
            api_token="tok-1",
            settings=SETTINGS,
        )
        with client:
            refused = create_parcel(store, client, YAL, desk)
    assert refused.status == "failed" and "stopdesk_id is required" in refused.reason
    assert json.loads(refused.response)[desk.order_ref]["success"] is False
    assert server.parcels == {}


def test_the_store_lives_apart_from_the_warehouse(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("COD360_CARRIER_INSTRUCTIONS_DB", raising=False)
    monkeypatch.setenv("COD360_DATA_DIR", str(tmp_path))
    assert default_store_path() == tmp_path / "operational" / "carrier_instructions.sqlite"
    monkeypatch.setenv("COD360_CARRIER_INSTRUCTIONS_DB", str(tmp_path / "x.sqlite"))
    assert InstructionStore().path == tmp_path / "x.sqlite"
