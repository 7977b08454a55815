"""YouCanWriteBack against the YouCan contract server (general order status only)."""

from __future__ import annotations

import logging

import pytest
from activation_helpers import FAST, YOUCAN_TOKEN

from activations.clients.errors import VendorAuthError
from activations.clients.storefront import WriteBackStatus
from activations.clients.youcan import REASON_NOT_WRITTEN, YouCanWriteBack
from sandbox.contract_servers import FaultPlan, YouCanContractServer

ORDER_ID = "72aa7882-3898-49a8-87a2-506af3dd7320"
REF = f"youcan:{ORDER_ID}"


def server(status: str = "open", **kwargs) -> YouCanContractServer:
    return YouCanContractServer(
        access_token=YOUCAN_TOKEN,
        orders=[{"id": ORDER_ID, "ref": "021", "status": status}],
        **kwargs,
    )


def client(base_url: str, token: str = YOUCAN_TOKEN, **kwargs) -> YouCanWriteBack:
    return YouCanWriteBack(base_url=base_url, access_token=token, **{**FAST, **kwargs})


@pytest.mark.parametrize(
    ("decision", "slug"),
    [
        ("confirm", "processed"),
        ("hold", "cod-hold"),
        ("review", "cod-review"),
        ("cancel", "canceled-by-seller"),
    ],
)
def test_decision_sets_the_general_status_slug(start, decision, slug):
    store = server()
    with client(start(store)) as youcan:
        result = youcan.apply_decision(REF, decision, "why", 1)
    assert result.status is WriteBackStatus.APPLIED
    assert store.orders[ORDER_ID]["status_object"]["slug"] == slug
    put = store.requests(method="PUT")[0]
    assert (put.path, put.body, put.auth_scheme) == (
        f"/orders/{ORDER_ID}/status",
        {"status": slug},
        "Bearer",
    )
    assert result.notes == [REASON_NOT_WRITTEN]  # the documented API has no note endpoint


def test_repeat_is_already_applied_and_sends_no_update(start):
    store = server(status="processed")
    with client(start(store)) as youcan:
        result = youcan.apply_decision(REF, "confirm", "ok", 1)
    assert result.status is WriteBackStatus.ALREADY_APPLIED and store.requests(method="PUT") == []


def test_closed_and_unknown_orders_fail_permanently(start):
    store = server(status="canceled-by-seller")
    with client(start(store)) as youcan:
        closed = youcan.apply_decision(REF, "confirm", "ok", 1)
        missing = youcan.apply_decision("youcan:no-such-order", "confirm", "ok", 1)
    assert closed.error_code == "ORDER_CLOSED"
    assert (missing.status, missing.error_message) == (
        WriteBackStatus.FAILED_PERMANENT,
        "order not found",
    )


def test_5xx_and_429_are_retried(start):
    store = server(faults=FaultPlan(["502", "throttle"]))
    with client(start(store), backoff_max_s=0.01) as youcan:
        result = youcan.apply_decision(REF, "hold", "x", 1)
    assert result.status is WriteBackStatus.APPLIED and result.requests == 4


def test_wrong_token_raises_without_leaking_it(start, caplog):
    caplog.set_level(logging.DEBUG)
    with (
        client(start(server()), token="yc_wrong_abc") as youcan,
        pytest.raises(VendorAuthError) as raised,
    ):
        youcan.apply_decision(REF, "hold", "x", 1)
    assert "yc_wrong_abc" not in str(raised.value) + caplog.text
