"""Random faults: everything is eventually done exactly once; and what a lost response risks."""

from __future__ import annotations

import time

import httpx
from activation_helpers import FAST, WHATSAPP_TOKEN, WOO_KEY, WOO_SECRET

from activations.clients.whatsapp import WhatsAppClient
from activations.clients.woocommerce import WooCommerceWriteBack
from sandbox.contract_servers import (
    FaultPlan,
    WhatsAppContractServer,
    WooCommerceContractServer,
)

PNID = "106540352242922"
FAULTS = ["500", "502", "503", "timeout:0.3"]


def whatsapp(base_url: str, **kwargs) -> WhatsAppClient:
    options = {**FAST, "timeout_s": 0.15, "max_retries": 8, **kwargs}
    return WhatsAppClient(
        base_url=base_url, phone_number_id=PNID, access_token=WHATSAPP_TOKEN, **options
    )


def test_twenty_percent_faults_every_message_sent_exactly_once(start):
    wa_server = WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN,
        phone_number_id=PNID,
        faults=FaultPlan(probability=0.2, random_faults=FAULTS, seed=7),
    )
    phones = [f"+2126{n:08d}" for n in range(40)]
    with whatsapp(start(wa_server)) as wa:
        results = [
            wa.send_template(
                p,
                "out_for_delivery",
                "fr",
                body_params=("Salma", "Amana"),
                callback_data=f"order_ref=woocommerce:{i}",
            )
            for i, p in enumerate(phones)
        ]
    assert all(r.sent for r in results), [r for r in results if not r.sent]
    assert sorted(m.wa_id for m in wa_server.messages) == sorted(p[1:] for p in phones)
    assert wa_server.duplicates.duplicates() == []
    injected = wa_server.faults.injected
    assert sum(injected.values()) >= 4 and injected["timeout"] >= 1 and injected["status"] >= 1
    assert sum(r.attempts for r in results) == len(phones) + sum(injected.values())


def test_faults_can_be_set_through_the_admin_endpoint(start):
    wa_server = WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN, phone_number_id=PNID, open_windows=["+212600000001"]
    )
    base_url = start(wa_server)
    plan = httpx.post(base_url + "/_admin/faults", json={"script": ["503", "error:131000"]}).json()
    assert [f["status"] for f in plan["script"]] == [503, 503] and plan["script"][1][
        "code"
    ] == 131000
    with whatsapp(base_url) as wa:
        assert wa.send_text("+212600000001", "hi").attempts == 3
    statuses = [r["status"] for r in httpx.get(base_url + "/_admin/requests").json()]
    assert statuses == [503, 500, 200]


def test_a_response_lost_after_processing_is_a_duplicate_the_server_records(start):
    """A "slow" fault processes the send after the client timed out: the retry sends the
    message again. The contract server makes that hazard visible (the outbox layer must
    prevent it by recording the attempt before sending)."""
    wa_server = WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN, phone_number_id=PNID, faults=FaultPlan(["slow:0.4"])
    )
    with whatsapp(start(wa_server)) as wa:
        result = wa.send_template(
            "+212600000002", "delivery_otp", "fr", body_params=("123456",), callback_data="otp-1"
        )
        time.sleep(0.4)
    assert result.sent and result.attempts == 2
    (duplicate,) = wa_server.duplicates.duplicates()
    assert duplicate["count"] == 2 and duplicate["key"][-1] == "otp-1"


def test_woocommerce_under_twenty_percent_faults_each_order_written_once(start):
    store = WooCommerceContractServer(
        consumer_key=WOO_KEY,
        consumer_secret=WOO_SECRET,
        orders=[{"id": i, "status": "pending"} for i in range(1, 31)],
        faults=FaultPlan(probability=0.2, random_faults=FAULTS, seed=3),
    )
    options = {**FAST, "timeout_s": 0.15, "max_retries": 8}
    with WooCommerceWriteBack(
        base_url=start(store), consumer_key=WOO_KEY, consumer_secret=WOO_SECRET, **options
    ) as woo:
        results = [
            woo.apply_decision(f"woocommerce:{i}", "confirm", "confirmed by WhatsApp", 1)
            for i in range(1, 31)
        ]
    assert all(r.ok for r in results)
    assert {o["status"] for o in store.orders.values()} == {"processing"}
    assert all(len(store.notes[i]) == 1 for i in range(1, 31))
    assert store.duplicates.duplicates() == [] and sum(store.faults.injected.values()) > 0
