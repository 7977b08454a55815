"""Storefront decisions from the score bands: pushed once, recorded, and never a confirm for a
held order; the agent queue of review-band orders and its CSV."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from activation_helpers import (
    FAST,
    SHOPIFY_TOKEN,
    WOO_KEY,
    WOO_SECRET,
    YOUCAN_TOKEN,
)
from warehouse_fixtures import NOW, add_customers, add_inbound, add_order, create_tables, phone

from activations.agent_queue import export_agent_queue_csv, refresh_agent_queue
from activations.clients.shopify import ShopifyWriteBack
from activations.clients.storefront import WriteBackRegistry
from activations.clients.woocommerce import WooCommerceWriteBack
from activations.clients.youcan import YouCanWriteBack
from activations.decisions import (
    next_decision,
    propose_decisions,
    push_decisions,
    record_agent_decision,
    record_decisions,
)
from common.warehouse import connect
from sandbox.contract_servers import (
    ShopifyContractServer,
    WooCommerceContractServer,
    YouCanContractServer,
)

T0 = NOW.replace(tzinfo=None)
YOUCAN_ID = "3f7c1c9e-8a51-4a3a-9f0e-1d2b3c4d5e6f"


@pytest.mark.parametrize(
    ("band", "reply", "current", "held", "expected"),
    [
        ("confirm", None, None, False, "confirm"),
        ("hold", None, None, False, "hold"),
        ("review", None, "confirm", False, "review"),
        ("confirm", None, "hold", True, "review"),  # a held order is not confirmed by a score
        ("confirm", None, "review", True, None),  # …nor later, while no agent released it
        ("confirm", "cancel", "hold", True, "cancel"),  # the customer's CANCEL wins
        ("hold", None, "cancel", False, None),  # cancel is final
        ("confirm", None, "confirm", False, None),  # unchanged: no new version
        (None, None, None, False, None),
    ],
)
def test_the_decision_policy(band, reply, current, held, expected):
    decided = next_decision(band, reply, current, held)
    assert (decided[0] if decided else None) == expected


def _score(conn, ref: str, band: str, score: float, at=T0) -> None:
    conn.execute(
        "insert into ml.order_scores values (?, null, ?, ?, ?, ?, 'city ok', 'new phone', 'v1', ?)",
        [ref, 1 - score / 100, score / 100, score, band, at],
    )


@pytest.fixture
def stores(start):
    shopify = ShopifyContractServer(
        access_token=SHOPIFY_TOKEN, orders=[{"id": 101}, {"id": 102}, {"id": 103}]
    )
    woo = WooCommerceContractServer(
        consumer_key=WOO_KEY, consumer_secret=WOO_SECRET, orders=[{"id": 201, "status": "pending"}]
    )
    youcan = YouCanContractServer(access_token=YOUCAN_TOKEN, orders=[{"id": YOUCAN_ID}])
    registry = WriteBackRegistry(
        [
            ShopifyWriteBack(base_url=start(shopify), access_token=SHOPIFY_TOKEN, **FAST),
            WooCommerceWriteBack(
                base_url=start(woo), consumer_key=WOO_KEY, consumer_secret=WOO_SECRET, **FAST
            ),
            YouCanWriteBack(base_url=start(youcan), access_token=YOUCAN_TOKEN, **FAST),
        ]
    )
    yield shopify, woo, youcan, registry
    registry.close()


def _decide(conn, registry, run: str, at=T0):
    record_decisions(conn, propose_decisions(conn), at, run)
    return push_decisions(conn, registry, at, run)


def _current(conn) -> dict[str, tuple]:
    rows = conn.execute(
        "select order_ref, decision, status, decided_by from activations.storefront_decisions "
        "qualify row_number() over (partition by order_ref order by decision_version desc) = 1"
    ).fetchall()
    return {ref: tuple(rest) for ref, *rest in rows}


def _woo_statuses_sent(woo, order_id: int) -> list[str]:
    return [
        r.body["status"]
        for r in woo.requests(path_prefix=f"/wp-json/wc/v3/orders/{order_id}", method="PUT")
    ]


def test_decisions_are_pushed_once_and_a_held_order_is_never_confirmed_automatically(
    tmp_path, stores
):
    shopify, woo, youcan, registry = stores
    with connect(tmp_path / "warehouse.duckdb") as conn:
        create_tables(conn)
        customers = {ref: phone(n) for n, ref in enumerate(
            ["shopify:101", "shopify:102", "shopify:103", "woocommerce:201",
             f"youcan:{YOUCAN_ID}", "tiktok:lead-9"])}  # fmt: skip
        add_customers(conn, customers.values())
        for ref, who in customers.items():
            add_order(conn, ref, who)
        add_order(conn, "shopify:104", phone(9), status="dispatched", confirmation="confirmed")
        for ref, band, score in [("shopify:101", "confirm", 82), ("shopify:102", "hold", 21),
                                 ("shopify:103", "confirm", 75), ("woocommerce:201", "hold", 18),
                                 (f"youcan:{YOUCAN_ID}", "review", 50), ("tiktok:lead-9", "confirm", 90),
                                 ("shopify:104", "hold", 10)]:  # fmt: skip
            _score(conn, ref, band, score)
        # shopify:103's customer answered CANCEL to the confirmation message.
        conn.execute(
            "insert into activations.outbox (outbox_key, campaign_id, customer_phone, occasion, "
            "order_ref, variant, channel, message_kind, category, status, message_id, created_at, "
            "expires_at, updated_at) values ('ob_x', 'order_confirmation', ?, 'order:shopify:103', "
            "'shopify:103', 'A', 'whatsapp', 'template', 'utility', 'sent', 'wamid.X', ?, ?, ?)",
            [customers["shopify:103"], T0, T0, T0],
        )
        add_inbound(conn, customers["shopify:103"], intent="cancel", replied_to="wamid.X")

        first = _decide(conn, registry, "run-1")
        assert _current(conn) == {
            "shopify:101": ("confirm", "applied", "score"),
            "shopify:102": ("hold", "applied", "score"),
            "shopify:103": ("cancel", "applied", "customer_reply"),
            "woocommerce:201": ("hold", "applied", "score"),
            f"youcan:{YOUCAN_ID}": ("review", "applied", "score"),
            "tiktok:lead-9": ("confirm", "unsupported", "score"),
        }  # shopify:104 has left the warehouse: no decision any more
        assert first["applied"] == 5 and first["unsupported"] == 1

        # The scores improve: the held orders go to review, never straight to confirm.
        for ref in ("shopify:102", "woocommerce:201"):
            _score(conn, ref, "confirm", 88, at=T0 + timedelta(hours=1))
        _decide(conn, registry, "run-2", T0 + timedelta(hours=1))
        _decide(conn, registry, "run-3", T0 + timedelta(hours=2))  # stable: no new version
        current = _current(conn)
        assert current["shopify:102"] == ("review", "applied", "hold_guard")
        assert current["woocommerce:201"] == ("review", "applied", "hold_guard")
        assert "processing" not in _woo_statuses_sent(woo, 201)
        assert "cod-confirmed" not in shopify.order_state(102)["tags"]
        versions = conn.execute(
            "select count(*) from activations.storefront_decisions where order_ref = 'shopify:102'"
        ).fetchone()[0]
        assert versions == 2

        # Adversarial: a confirm row appears after the hold without an agent: the push refuses.
        conn.execute(
            "insert into activations.storefront_decisions (order_ref, decision_version, platform, "
            "decision, reason, decided_by, status, created_at, updated_at) values "
            "('woocommerce:201', 3, 'woocommerce', 'confirm', 'rogue', 'score', 'pending', ?, ?)",
            [T0, T0],
        )
        refused = push_decisions(conn, registry, T0, "run-4")
        assert refused["refused_confirm_of_hold"] == 1
        assert "processing" not in _woo_statuses_sent(woo, 201)

        # An agent releases the hold: now, and only now, the order is confirmed.
        record_agent_decision(conn, "woocommerce:201", "confirm", "amina", T0)
        assert push_decisions(conn, registry, T0, "run-5")["applied"] == 1
        assert woo.orders[201]["status"] == "processing"

        # A push killed after its claim leaves 'sending': pushing again changes nothing twice.
        conn.execute(
            "update activations.storefront_decisions set status = 'sending' "
            "where order_ref = 'shopify:101'"
        )
        again = push_decisions(conn, registry, T0, "run-6")
        assert again == {"already_applied": 1}
    for server in (shopify, woo, youcan):
        assert server.duplicates.duplicates() == []


def test_the_agent_queue_lists_review_orders_with_reasons_and_contacts_and_exports_csv(
    tmp_path, stores
):
    *_, registry = stores
    with connect(tmp_path / "warehouse.duckdb") as conn:
        create_tables(conn)
        add_customers(conn, [phone(1), phone(2)])
        add_order(conn, f"youcan:{YOUCAN_ID}", phone(1))
        add_order(conn, "youcan:older", phone(1), status="returned", outcome="returned",
                  placed_at=NOW - timedelta(days=40))  # fmt: skip
        add_order(conn, "shopify:101", phone(2))
        _score(conn, f"youcan:{YOUCAN_ID}", "review", 48)
        _score(conn, "shopify:101", "confirm", 90)
        _decide(conn, registry, "run-1")
        assert refresh_agent_queue(conn, T0) == 1
        row = conn.execute(
            "select order_ref, score, top_negative_reasons, previous_orders, previous_returned "
            "from activations.agent_queue"
        ).fetchone()
        assert row == (f"youcan:{YOUCAN_ID}", 48.0, "new phone", 1, 1)
        path = export_agent_queue_csv(conn, tmp_path / "exports" / "agent_queue.csv")
    with path.open() as handle:
        (exported,) = list(csv.DictReader(handle))
    assert exported["order_ref"] == f"youcan:{YOUCAN_ID}" and exported["score"] == "48.0"
    assert exported["customer_phone"] == phone(1)  # agents call the customer
