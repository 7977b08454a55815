"""ShopifyWriteBack against the Shopify GraphQL contract server."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from activation_helpers import FAST, SHOPIFY_TOKEN, RecordingSleep

from activations.clients.errors import VendorAuthError
from activations.clients.shopify import ShopifyWriteBack
from activations.clients.storefront import Decision, WriteBackStatus
from sandbox.contract_servers import FaultPlan, ShopifyContractServer

ORDER = 5123456789
FO = 7000000001
REF = f"shopify:{ORDER}"


def server(**kwargs) -> ShopifyContractServer:
    orders = kwargs.pop(
        "orders",
        [{"id": ORDER, "name": "#1001", "tags": ["cod"], "fulfillment_orders": [{"id": FO}]}],
    )
    return ShopifyContractServer(access_token=SHOPIFY_TOKEN, orders=orders, **kwargs)


def client(base_url: str, token: str = SHOPIFY_TOKEN, **kwargs) -> ShopifyWriteBack:
    return ShopifyWriteBack(base_url=base_url, access_token=token, **{**FAST, **kwargs})


def holds(shop: ShopifyContractServer) -> list[dict]:
    return shop.order_state(ORDER)["fulfillment_orders"][0]["holds"]


def operations(shop: ShopifyContractServer) -> list[str]:
    """The GraphQL operation names the server received, in order."""
    return [r.body["query"].split("(")[0].split()[-1] for r in shop.requests()]


def test_hold_places_a_handled_fulfillment_hold_and_tags_the_order(start):
    shop = server()
    with client(start(shop)) as shopify:
        result = shopify.apply_decision(REF, Decision.HOLD, "address incomplete: no street", 1)
    assert result.status is WriteBackStatus.APPLIED, result
    state = shop.order_state(ORDER)
    fo = state["fulfillment_orders"][0]
    assert fo["status"] == "ON_HOLD"
    assert [(h["handle"], h["reason"], h["reasonNotes"]) for h in fo["holds"]] == [
        ("cod360-hold-v1", "OTHER", "address incomplete: no street")
    ]
    assert state["tags"] == ["cod", "cod-hold"]
    assert operations(shop) == ["CodOrderFulfillment", "CodHold", "CodTagsAdd"]
    assert all(r.auth_scheme == "X-Shopify-Access-Token" for r in shop.requests())
    assert result.requests == 3


def test_repeating_a_hold_counts_the_duplicate_handle_as_done(start):
    shop = server()
    with client(start(shop)) as shopify:
        shopify.apply_decision(REF, "hold", "risky", 1)
        again = shopify.apply_decision(REF, "hold", "risky", 1)
    assert again.status is WriteBackStatus.ALREADY_APPLIED
    assert (
        "hold cod360-hold-v1 on gid://shopify/FulfillmentOrder/7000000001: already in place"
        in again.operations
    )
    assert len(holds(shop)) == 1
    hold_answers = [r for r in shop.requests() if "CodHold" in r.body["query"]]
    assert (
        len(hold_answers) == 2
    )  # Shopify refused the second with DUPLICATE_FULFILLMENT_HOLD_HANDLE


def test_a_lost_hold_response_is_retried_harmlessly(start):
    """The first hold request is answered after the client gave up, so the client sends it
    again: whichever of the two Shopify processes second meets DUPLICATE_FULFILLMENT_HOLD_HANDLE."""
    shop = server(faults=FaultPlan([None, "slow:0.5"]))
    with client(start(shop), timeout_s=0.2) as shopify:
        result = shopify.apply_decision(REF, "hold", "risky", 1)
        time.sleep(0.5)  # let the slow request finish on the server
    assert result.status is WriteBackStatus.APPLIED
    assert len([r for r in shop.requests() if "CodHold" in r.body["query"]]) == 2
    assert len(holds(shop)) == 1


def test_confirm_releases_only_cod360_holds_and_retags(start):
    merchant_hold = {"id": 42, "handle": None, "reason": "AWAITING_PAYMENT", "app": False}
    shop = server(
        orders=[
            {
                "id": ORDER,
                "tags": [],
                "fulfillment_orders": [{"id": FO, "status": "ON_HOLD", "holds": [merchant_hold]}],
            }
        ]
    )
    with client(start(shop)) as shopify:
        shopify.apply_decision(REF, "hold", "risky", 1)
        result = shopify.apply_decision(REF, "confirm", "customer confirmed on WhatsApp", 2)
    assert result.status is WriteBackStatus.APPLIED
    assert [h["id"] for h in holds(shop)] == [42]  # the merchant's hold stays
    assert shop.order_state(ORDER)["tags"] == ["cod-confirmed"]
    assert any("hold(s) placed by the merchant or another app" in n for n in result.notes)


def test_confirm_after_hold_reopens_the_fulfillment_order(start):
    shop = server()
    with client(start(shop)) as shopify:
        shopify.apply_decision(REF, "hold", "risky", 1)
        shopify.apply_decision(REF, "confirm", "ok", 2)
        repeat = shopify.apply_decision(REF, "confirm", "ok", 2)
    assert shop.order_state(ORDER)["fulfillment_orders"][0]["status"] == "OPEN"
    assert repeat.status is WriteBackStatus.ALREADY_APPLIED


def test_a_new_decision_version_replaces_the_old_hold_after_placing_its_own(start):
    shop = server()
    with client(start(shop)) as shopify:
        shopify.apply_decision(REF, "hold", "risky", 1)
        result = shopify.apply_decision(REF, "review", "agent to call", 2)
    assert [h["handle"] for h in holds(shop)] == ["cod360-review-v2"]
    assert result.operations[:2] == [
        "hold cod360-review-v2 on gid://shopify/FulfillmentOrder/7000000001: placed",
        "released 1 cod360 hold(s) on gid://shopify/FulfillmentOrder/7000000001",
    ]
    assert shop.order_state(ORDER)["tags"] == ["cod", "cod-review"]


def test_cancel_holds_and_tags_but_leaves_cancelling_to_the_merchant(start):
    shop = server()
    with client(start(shop)) as shopify:
        result = shopify.apply_decision(REF, "cancel", "customer refused", 1)
    assert result.ok and holds(shop)[0]["handle"] == "cod360-cancel-v1"
    assert "cod-cancelled" in shop.order_state(ORDER)["tags"]
    assert result.notes == ["held and tagged only: cancel the order in Shopify admin"]


def test_unknown_order_and_unholdable_orders_fail_permanently(start):
    shop = server(orders=[{"id": ORDER, "fulfillment_orders": [{"id": FO, "status": "CLOSED"}]}])
    with client(start(shop)) as shopify:
        missing = shopify.apply_decision("shopify:1", "hold", "x", 1)
        closed = shopify.apply_decision(REF, "hold", "x", 1)
    assert (missing.status, missing.error_code) == (
        WriteBackStatus.FAILED_PERMANENT,
        "ORDER_NOT_FOUND",
    )
    assert (closed.status, closed.error_code) == (
        WriteBackStatus.FAILED_PERMANENT,
        "NO_HOLDABLE_FULFILLMENT_ORDER",
    )
    assert "CLOSED" in closed.error_message


def test_throttled_waits_for_the_bucket_to_refill(start):
    shop = server(faults=FaultPlan([None, "throttle"]), restore_rate=100.0)
    sleep = RecordingSleep(real=True)
    with client(start(shop), sleep=sleep, backoff_max_s=5.0) as shopify:
        result = shopify.apply_decision(REF, "hold", "risky", 1)
    assert result.status is WriteBackStatus.APPLIED
    throttled = shop.requests()[1]
    assert throttled.fault == "throttle"
    # requested 10, currentlyAvailable 0, restoreRate 100: (10 - 0) / 100 = 0.1 s
    assert sleep.calls[0] == pytest.approx(0.1, abs=0.02)


def test_a_small_cost_bucket_paces_the_client(start):
    shop = server(maximum_available=30.0, restore_rate=200.0)
    sleep = RecordingSleep(real=True)
    with client(start(shop), sleep=sleep, backoff_max_s=5.0) as shopify:
        results = [
            shopify.apply_decision(REF, d, "x", v)
            for v, d in enumerate(["hold", "review", "confirm"], 1)
        ]
    assert all(r.ok for r in results)
    assert sleep.calls and all(0 < s < 0.5 for s in sleep.calls)


def test_server_errors_and_internal_graphql_errors_are_retried(start):
    shop = server(faults=FaultPlan(["503", "error:INTERNAL_SERVER_ERROR", "timeout:0.5"]))
    with client(start(shop), timeout_s=0.3) as shopify:
        result = shopify.apply_decision(REF, "hold", "risky", 1)
    assert result.status is WriteBackStatus.APPLIED and result.requests == 6


def test_transient_errors_exhaust_into_a_result(start):
    shop = server(faults=FaultPlan(["503"] * 5))
    with client(start(shop), max_retries=2) as shopify:
        result = shopify.apply_decision(REF, "hold", "risky", 1)
    assert result.status is WriteBackStatus.FAILED_TRANSIENT_EXHAUSTED and result.requests == 3


def test_wrong_token_raises_without_leaking_it(start, caplog):
    caplog.set_level(logging.DEBUG)
    with (
        client(start(server()), token="shpat_wrong_value_123") as shopify,
        pytest.raises(VendorAuthError) as raised,
    ):
        shopify.apply_decision(REF, "hold", "x", 1)
    assert "shpat_wrong_value_123" not in str(raised.value) + caplog.text
    assert SHOPIFY_TOKEN not in caplog.text


def test_the_server_validates_queries_against_the_admin_schema(start):
    base_url = start(server())
    url = base_url + "/admin/api/2025-07/graphql.json"
    headers = {"X-Shopify-Access-Token": SHOPIFY_TOKEN}
    misspelt = httpx.post(
        url, headers=headers, json={"query": '{ order(id: "gid://shopify/Order/1") { tagz } }'}
    )
    bad_id = httpx.post(url, headers=headers, json={"query": '{ order(id: "5123") { id } }'})
    assert "Cannot query field 'tagz' on type 'Order'" in misspelt.json()["errors"][0]["message"]
    assert bad_id.json()["errors"][0]["extensions"]["code"] == "argumentLiteralsIncompatible"
    cost = bad_id.json()["extensions"]["cost"]
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}
    unauthorized = httpx.post(url, json={"query": '{ order(id: "x") { id } }'})
    assert (
        unauthorized.status_code == 401
        and "Invalid API key or access token" in unauthorized.json()["errors"]
    )
