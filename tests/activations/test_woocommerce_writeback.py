"""WooCommerceWriteBack against the WooCommerce REST v3 contract server."""

from __future__ import annotations

import logging

import httpx
import pytest
from activation_helpers import FAST, WOO_KEY, WOO_SECRET, RecordingSleep

from activations.clients.errors import VendorAuthError
from activations.clients.storefront import Decision, DecisionRequest, WriteBackStatus
from activations.clients.woocommerce import WooCommerceWriteBack
from sandbox.contract_servers import FaultPlan, WooCommerceContractServer

ROOT = "/wp-json/wc/v3"


def server(orders=({"id": 1042, "status": "processing"},), **kwargs) -> WooCommerceContractServer:
    return WooCommerceContractServer(
        consumer_key=WOO_KEY, consumer_secret=WOO_SECRET, orders=orders, **kwargs
    )


def client(base_url: str, secret: str = WOO_SECRET, **kwargs) -> WooCommerceWriteBack:
    return WooCommerceWriteBack(
        base_url=base_url, consumer_key=WOO_KEY, consumer_secret=secret, **{**FAST, **kwargs}
    )


def calls(store: WooCommerceContractServer) -> list[str]:
    return [f"{r.method} {r.path.removeprefix(ROOT)}" for r in store.requests()]


def test_hold_sets_on_hold_and_writes_the_reason_as_a_note(start):
    store = server()
    with client(start(store)) as woo:
        result = woo.apply_decision("woocommerce:1042", Decision.HOLD, "phone unreachable twice", 3)
    assert result.status is WriteBackStatus.APPLIED
    assert store.orders[1042]["status"] == "on-hold"
    assert [n["note"] for n in store.notes[1042]] == ["[cod360 hold v3] phone unreachable twice"]
    assert store.notes[1042][0]["customer_note"] is False
    assert calls(store) == [
        "GET /orders/1042",
        "PUT /orders/1042",
        "GET /orders/1042/notes",
        "POST /orders/1042/notes",
    ]
    assert store.requests()[1].body == {"status": "on-hold"}
    assert all(r.auth_scheme == "Basic" for r in store.requests())


@pytest.mark.parametrize(
    ("decision", "status"),
    [("confirm", "processing"), ("review", "on-hold"), ("cancel", "cancelled")],
)
def test_each_decision_maps_to_its_status(start, decision, status):
    store = server(orders=[{"id": 7, "status": "pending"}])
    with client(start(store)) as woo:
        assert woo.apply_decision("woocommerce:7", decision, "why", 1).ok
    assert store.orders[7]["status"] == status


def test_applying_the_same_decision_twice_changes_nothing(start):
    store = server()
    with client(start(store)) as woo:
        woo.apply_decision("woocommerce:1042", "hold", "risky", 1)
        again = woo.apply_decision("woocommerce:1042", "hold", "risky", 1)
    assert again.status is WriteBackStatus.ALREADY_APPLIED
    assert again.operations == ["status already on-hold", "note already written"]
    assert len(store.notes[1042]) == 1 and store.duplicates.duplicates() == []


def test_a_closed_order_is_never_reopened(start):
    store = server(orders=[{"id": 9, "status": "completed"}])
    with client(start(store)) as woo:
        result = woo.apply_decision("woocommerce:9", "confirm", "ok", 1)
    assert (result.status, result.error_code) == (WriteBackStatus.FAILED_PERMANENT, "ORDER_CLOSED")
    assert store.orders[9]["status"] == "completed" and calls(store) == ["GET /orders/9"]


def test_unknown_order_is_a_permanent_failure_without_retry(start):
    store = server()
    with client(start(store)) as woo:
        result = woo.apply_decision("woocommerce:404404", "hold", "x", 1)
    assert result.status is WriteBackStatus.FAILED_PERMANENT
    assert (result.error_code, result.error_message) == (
        "woocommerce_rest_shop_order_invalid_id",
        "Invalid ID.",
    )
    assert result.requests == 1


def test_batch_of_more_than_100_is_split_into_chunks_of_100(start):
    orders = [{"id": i, "status": "pending"} for i in range(1, 251)]
    store = server(orders=orders)
    requests = [
        DecisionRequest(
            order_ref=f"woocommerce:{i}", decision="confirm", reason="ok", decision_version=1
        )
        for i in range(1, 251)
    ]
    requests.insert(
        10,
        DecisionRequest(
            order_ref="woocommerce:999999", decision="hold", reason="x", decision_version=1
        ),
    )
    with client(start(store)) as woo:
        results = woo.apply_decisions(requests)
    batches = store.requests(f"{ROOT}/orders/batch")
    assert [len(b.body["update"]) for b in batches] == [99, 100, 51]  # the unknown id is never sent
    assert all(len(b.body["update"]) <= 100 for b in batches)
    assert [r.order_ref for r in results] == [r.order_ref for r in requests]
    assert results[10].status is WriteBackStatus.FAILED_PERMANENT
    assert all(r.status is WriteBackStatus.APPLIED for i, r in enumerate(results) if i != 10)
    assert {o["status"] for o in store.orders.values()} == {"processing"}
    assert all(len(store.notes[i]) == 1 for i in range(1, 251))


def test_the_server_refuses_a_batch_over_100(start):
    base_url = start(server())
    response = httpx.post(
        base_url + f"{ROOT}/orders/batch",
        auth=(WOO_KEY, WOO_SECRET),
        json={"update": [{"id": 1042, "status": "on-hold"}] * 101},
    )
    assert response.status_code == 413
    assert response.json() == {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 100 items for this request.",
        "data": {"status": 413},
    }


def test_429_with_retry_after_and_5xx_are_retried(start):
    store = server(faults=FaultPlan(["throttle", "500", "503"]))
    sleep = RecordingSleep()
    with client(start(store), sleep=sleep, backoff_max_s=5.0) as woo:
        result = woo.apply_decision("woocommerce:1042", "hold", "x", 1)
    assert result.status is WriteBackStatus.APPLIED and result.requests == 7
    assert sleep.calls[0] == 1.0  # Retry-After: 1
    assert [r.status for r in store.requests()][:4] == [429, 500, 503, 200]


def test_rate_limit_is_absorbed(start):
    store = server(orders=[{"id": i} for i in range(1, 6)], rate_limit_per_s=50, rate_limit_burst=2)
    with client(
        start(store), sleep=RecordingSleep(real=True), backoff_max_s=0.1, max_retries=10
    ) as woo:
        results = [woo.apply_decision(f"woocommerce:{i}", "hold", "x", 1) for i in range(1, 6)]
    assert all(r.ok for r in results)
    assert any(r.status == 429 for r in store.requests())


def test_wrong_credentials_stop_the_run_without_leaking_the_secret(start, caplog):
    caplog.set_level(logging.DEBUG)
    with (
        client(start(server()), secret="cs_wrong_secret_999") as woo,
        pytest.raises(VendorAuthError) as raised,
    ):
        woo.apply_decision("woocommerce:1042", "hold", "x", 1)
    assert "Consumer secret is invalid." in str(raised.value)
    assert "cs_wrong_secret_999" not in str(raised.value) + caplog.text
    assert WOO_SECRET not in caplog.text


def test_server_error_shapes(start):
    base_url = start(server())
    no_auth = httpx.get(base_url + f"{ROOT}/orders/1042")
    bad_status = httpx.put(
        base_url + f"{ROOT}/orders/1042", auth=(WOO_KEY, WOO_SECRET), json={"status": "shipped"}
    )
    no_note = httpx.post(
        base_url + f"{ROOT}/orders/1042/notes", auth=(WOO_KEY, WOO_SECRET), json={}
    )
    assert (no_auth.status_code, no_auth.json()["code"]) == (401, "woocommerce_rest_cannot_view")
    assert (bad_status.status_code, bad_status.json()["code"]) == (400, "rest_invalid_param")
    assert "status is not one of" in bad_status.json()["data"]["params"]["status"]
    assert (no_note.status_code, no_note.json()["code"]) == (400, "rest_missing_callback_param")
