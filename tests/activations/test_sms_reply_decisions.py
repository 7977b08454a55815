"""SMS replies as confirmation evidence: NON → cancel like the WhatsApp button, free text →
the agent queue, on real DuckDB tables where the manifest says the marts live."""

from __future__ import annotations

from datetime import timedelta

import pytest
from activation_helpers import FAST, SHOPIFY_TOKEN
from warehouse_fixtures import (
    NOW,
    add_customers,
    add_order,
    add_sms_reply,
    create_sms_replies,
    create_tables,
    phone,
)

from activations.agent_queue import refresh_agent_queue
from activations.clients.shopify import ShopifyWriteBack
from activations.clients.storefront import WriteBackRegistry
from activations.decisions import (
    next_decision,
    propose_decisions,
    push_decisions,
    record_agent_decision,
    record_decisions,
)
from common.warehouse import connect
from sandbox.contract_servers import ShopifyContractServer

T0 = NOW.replace(tzinfo=None)


# --- on the warehouse ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("band", "reply", "current", "agent", "expected"),
    [
        ("confirm", "other", None, False, "review"),  # free text: a person reads it
        ("confirm", "other", "confirm", False, "review"),
        ("hold", "other", "hold", False, "review"),
        ("confirm", "other", "confirm", True, None),  # an agent decided since: left alone
        ("confirm", "cancel", "review", True, "cancel"),  # NON wins, as CANCEL does
        ("confirm", "ambiguous", "confirm", False, "review"),  # which order? a person asks
        ("confirm", "ambiguous", "confirm", True, None),  # an agent decided since
    ],
)
def test_the_decision_policy_for_sms_replies(band, reply, current, agent, expected):
    decided = next_decision(band, reply, current, held=False, agent_decided=agent)
    assert (decided[0] if decided else None) == expected


def _score(conn, ref: str, band: str, score: float, at=T0) -> None:
    conn.execute(
        "insert into ml.order_scores values (?, null, ?, ?, ?, ?, 'city ok', 'new phone', 'v1', ?)",
        [ref, 1 - score / 100, score / 100, score, band, at],
    )


def _current(conn) -> dict[str, tuple]:
    rows = conn.execute(
        "select order_ref, decision, decided_by from activations.storefront_decisions "
        "qualify row_number() over (partition by order_ref order by decision_version desc) = 1"
    ).fetchall()
    return {ref: tuple(rest) for ref, *rest in rows}


def test_an_sms_non_cancels_and_free_text_goes_to_the_agent_queue(tmp_path, start):
    shopify = ShopifyContractServer(
        access_token=SHOPIFY_TOKEN, orders=[{"id": 301}, {"id": 302}, {"id": 303}]
    )
    registry = WriteBackRegistry(
        [ShopifyWriteBack(base_url=start(shopify), access_token=SHOPIFY_TOKEN, **FAST)]
    )
    said_non, wrote_text, said_oui = phone(11), phone(12), phone(13)
    try:
        with connect(tmp_path / "warehouse.duckdb") as conn:
            create_tables(conn)
            create_sms_replies(conn)
            add_customers(conn, [said_non, wrote_text, said_oui])
            for ref, who in (("shopify:301", said_non), ("shopify:302", wrote_text),
                             ("shopify:303", said_oui)):  # fmt: skip
                add_order(conn, ref, who)
                _score(conn, ref, "confirm", 80)
            record_decisions(conn, propose_decisions(conn), T0, "run-1")
            push_decisions(conn, registry, T0, "run-1")
            assert {d for d, _ in _current(conn).values()} == {"confirm"}

            later = T0 + timedelta(hours=3)
            add_sms_reply(conn, said_non, "lla", "cancel", "shopify:301", at=later)
            add_sms_reply(conn, wrote_text, "chkoun nta?", "other", "shopify:302", at=later)
            add_sms_reply(conn, said_oui, "wah", "confirm", "shopify:303", at=later)
            record_decisions(conn, propose_decisions(conn), later, "run-2")
            counts = push_decisions(conn, registry, later, "run-2")
            assert _current(conn) == {
                "shopify:301": ("cancel", "customer_reply"),
                "shopify:302": ("review", "customer_reply"),
                "shopify:303": ("confirm", "score"),  # an OUI changes nothing here
            }
            assert counts["applied"] == 2
            assert "cod-cancelled" in shopify.order_state(301)["tags"]
            assert "cod-review" in shopify.order_state(302)["tags"]

            assert refresh_agent_queue(conn, later) == 1
            ref, reply, history = conn.execute(
                "select order_ref, customer_reply, contact_history from activations.agent_queue"
            ).fetchone()
            assert (ref, reply) == ("shopify:302", "other")
            assert 'sms reply "chkoun nta?" (other)' in history

            # The agent confirms: the old free-text reply does not send it back to review.
            record_agent_decision(conn, "shopify:302", "confirm", "amina", later)
            assert propose_decisions(conn) == []
            # …but a NON afterwards still cancels, as a CANCEL button would.
            add_sms_reply(
                conn, wrote_text, "NON", "cancel", "shopify:302", at=later + timedelta(days=1)
            )
            (proposal,) = propose_decisions(conn)
            assert (proposal.order_ref, proposal.decision) == ("shopify:302", "cancel")
    finally:
        registry.close()
    assert shopify.duplicates.duplicates() == []


def test_a_reply_that_could_answer_two_open_orders_sends_both_to_the_agent_queue(tmp_path):
    """The gateway names no order and the phone has two open: an OUI could be for either,
    so neither is confirmed nor cancelled by it; each goes to the agent queue with the
    reply and the other candidate shown, until an agent decides or a reply names one."""
    both, alone = phone(21), phone(22)
    with connect(tmp_path / "warehouse.duckdb") as conn:
        create_tables(conn)
        create_sms_replies(conn)
        add_customers(conn, [both, alone])
        for ref, who in (("shopify:401", both), ("shopify:402", both), ("shopify:403", alone)):
            add_order(conn, ref, who)
            _score(conn, ref, "confirm", 80)
        record_decisions(conn, propose_decisions(conn), T0, "run-1")
        later = T0 + timedelta(hours=2)
        add_sms_reply(
            conn, both, "NON", "cancel", None, at=later, candidates=("shopify:402", "shopify:401")
        )
        add_sms_reply(conn, alone, "wah", "confirm", "shopify:403", at=later)
        record_decisions(conn, propose_decisions(conn), later, "run-2")
        assert _current(conn) == {
            "shopify:401": ("review", "customer_reply"),  # not cancelled: NON to which?
            "shopify:402": ("review", "customer_reply"),
            "shopify:403": ("confirm", "score"),
        }
        reasons = conn.execute(
            "select distinct reason from activations.storefront_decisions where decision = 'review'"
        ).fetchall()
        assert reasons == [
            (
                "the customer's SMS reply could answer another open order too: a person asks which (sms)",
            )
        ]
        assert refresh_agent_queue(conn, later) == 2
        queued = conn.execute(
            "select order_ref, customer_reply, contact_history from activations.agent_queue "
            "order by order_ref"
        ).fetchall()
        assert [(ref, reply) for ref, reply, _ in queued] == [
            ("shopify:401", "ambiguous"),
            ("shopify:402", "ambiguous"),
        ]
        for _, _, history in queued:
            assert 'sms reply "NON" (ambiguous: cancel; could answer shopify:401,shopify:402)' in (
                history
            )
        # The agent settles one; the other waits for its own answer.
        record_agent_decision(conn, "shopify:401", "cancel", "amina", later)
        assert propose_decisions(conn) == []
