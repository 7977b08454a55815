"""SMS replies as confirmation evidence (NON → cancel like the WhatsApp button, free text →
the agent queue) and Meta's opt-out categories (marketing stops marketing only; STOP ALL
stops everything), on real DuckDB tables where the manifest says the marts live."""

from __future__ import annotations

from datetime import timedelta

import pytest
from activation_helpers import FAST, SHOPIFY_TOKEN
from warehouse_fixtures import NOW, add_customers, add_inbound, add_order, create_tables, phone

from activations.agent_queue import refresh_agent_queue
from activations.audience import contact_facts
from activations.clients.shopify import ShopifyWriteBack
from activations.clients.storefront import WriteBackRegistry
from activations.confirmation import confirmation_spec
from activations.decisions import (
    next_decision,
    propose_decisions,
    push_decisions,
    record_agent_decision,
    record_decisions,
)
from activations.opt_out import REASON_SCOPES, OptOutScope, blocks, scope_of
from activations.rules import (
    Action,
    Category,
    ContactFacts,
    Reason,
    SendingPolicy,
    decide,
)
from activations.suppression import add_suppression, opt_out_scopes, refresh_suppression
from activations.warehouse_tables import SMS_REPLIES_MODEL
from common.marts import mart
from common.warehouse import connect
from sandbox.contract_servers import ShopifyContractServer

T0 = NOW.replace(tzinfo=None)
MA = "+212612345678"
MARKETING = SendingPolicy("vip_offer", Category.MARKETING)
UTILITY = SendingPolicy("out_for_delivery_notice", Category.UTILITY)


# --- the rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "category", "about_open_order", "blocked"),
    [
        (None, Category.MARKETING, False, False),
        (OptOutScope.MARKETING, Category.MARKETING, False, True),
        (OptOutScope.MARKETING, Category.MARKETING, True, True),  # an offer about an order
        (OptOutScope.MARKETING, Category.UTILITY, True, False),  # confirmation, delivery code
        (OptOutScope.MARKETING, Category.UTILITY, False, True),  # utility about no order
        (OptOutScope.ALL, Category.UTILITY, True, True),  # STOP ALL: nothing at all
        (OptOutScope.ALL, Category.MARKETING, False, True),
    ],
)
def test_what_each_opt_out_category_stops(scope, category, about_open_order, blocked):
    assert blocks(scope, category, about_open_order) is blocked


def test_every_reason_the_suppression_list_writes_has_a_category_and_unknown_ones_stop_all():
    assert scope_of("user_preferences_stop") is OptOutScope.MARKETING
    assert scope_of("whatsapp_131050") is OptOutScope.MARKETING
    assert scope_of("stop_reply") is scope_of("sms_stop_reply") is OptOutScope.MARKETING
    assert scope_of("stop_all_reply") is scope_of("sms_stop_all_reply") is OptOutScope.ALL
    assert scope_of("sms_opted_out") is scope_of("number_blocked") is OptOutScope.ALL
    assert scope_of("a reason nobody wrote down") is OptOutScope.ALL
    # The reasons the code writes (suppression.py, delivery.py) are all in the table.
    from pathlib import Path

    written = set()
    for name in ("suppression.py", "delivery.py"):
        text = (Path(__file__).parents[2] / "activations" / name).read_text()
        written |= {r for r in REASON_SCOPES if f"'{r}'" in text or f'"{r}"' in text}
    assert written >= {"whatsapp_131050", "stop_reply", "stop_all_reply", "sms_stop_reply"}
    assert written >= {"sms_stop_all_reply", "user_preferences_stop", "sms_opted_out"}


def test_decide_lets_an_order_utility_message_through_a_marketing_opt_out_only():
    stopped_marketing = ContactFacts(MA, marketing_opted_out=True)
    stopped_all = ContactFacts(MA, opted_out=True)
    assert decide(MARKETING, stopped_marketing, NOW).reason is Reason.OPTED_OUT
    assert decide(UTILITY, stopped_marketing, NOW, about_open_order=True).action is Action.SEND
    assert decide(UTILITY, stopped_marketing, NOW).reason is Reason.OPTED_OUT
    for policy in (MARKETING, UTILITY):
        verdict = decide(policy, stopped_all, NOW, about_open_order=True)
        assert (verdict.action, verdict.reason) == (Action.SUPPRESS, Reason.OPTED_OUT)


# --- on the warehouse ---------------------------------------------------------------------


def _create_sms_replies(conn) -> str:
    relation = mart(SMS_REPLIES_MODEL)
    conn.execute(f'create schema if not exists "{relation.schema}"')
    conn.execute(
        f"""
        create table if not exists {relation} (
            sms_event_id varchar, provider varchar, message_id varchar, customer_phone varchar,
            received_at timestamp, body varchar, reply_intent varchar, order_ref varchar,
            attributed_by varchar, open_orders_at_reply bigint)
        """
    )
    return str(relation)


def _sms_reply(conn, who: str, body: str, intent: str, order_ref: str | None, at=T0) -> None:
    conn.execute(
        f"insert into {mart(SMS_REPLIES_MODEL)} values (?, 'infobip', ?, ?, ?, ?, ?, ?, ?, 1)",
        [f"sms-{who}-{body}-{at.isoformat()}", f"SM-{who}", who, at, body, intent, order_ref,
         "texted_about" if order_ref else None],
    )  # fmt: skip


def test_opt_out_categories_from_whatsapp_and_sms_on_the_warehouse(tmp_path):
    prefs, sms_stop, sms_stop_all, wa_stop_all = phone(1), phone(2), phone(3), phone(4)
    with connect(tmp_path / "warehouse.duckdb") as conn:
        create_tables(conn)
        _create_sms_replies(conn)
        add_customers(conn, [prefs, sms_stop, sms_stop_all, wa_stop_all])
        # WhatsApp "Stop promotions" (user_preferences) and 131050: marketing.
        add_suppression(conn, prefs, "user_preferences_stop", "pref-1", T0, T0)
        _sms_reply(conn, sms_stop, "STOP", "opt_out", None)
        _sms_reply(conn, sms_stop_all, "stop all", "opt_out_all", None)
        add_inbound(conn, wa_stop_all, intent="opt_out_all")
        assert refresh_suppression(conn, T0) == 3
        assert refresh_suppression(conn, T0) == 0  # re-running adds nothing
        scopes = opt_out_scopes(conn, [prefs, sms_stop, sms_stop_all, wa_stop_all, phone(9)])
        assert scopes == {
            prefs: OptOutScope.MARKETING,
            sms_stop: OptOutScope.MARKETING,
            sms_stop_all: OptOutScope.ALL,
            wa_stop_all: OptOutScope.ALL,
        }
        facts = contact_facts(conn, list(scopes), NOW)
    confirmation = confirmation_spec().policy
    for who in (prefs, sms_stop):
        assert decide(MARKETING, facts[who], NOW).action is Action.SUPPRESS
        assert decide(confirmation, facts[who], NOW, about_open_order=True).action is Action.SEND
    for who in (sms_stop_all, wa_stop_all):
        assert decide(confirmation, facts[who], NOW, about_open_order=True).action is (
            Action.SUPPRESS
        )


@pytest.mark.parametrize(
    ("band", "reply", "current", "agent", "expected"),
    [
        ("confirm", "other", None, False, "review"),  # free text: a person reads it
        ("confirm", "other", "confirm", False, "review"),
        ("hold", "other", "hold", False, "review"),
        ("confirm", "other", "confirm", True, None),  # an agent decided since: left alone
        ("confirm", "cancel", "review", True, "cancel"),  # NON wins, as CANCEL does
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
            _create_sms_replies(conn)
            add_customers(conn, [said_non, wrote_text, said_oui])
            for ref, who in (("shopify:301", said_non), ("shopify:302", wrote_text),
                             ("shopify:303", said_oui)):  # fmt: skip
                add_order(conn, ref, who)
                _score(conn, ref, "confirm", 80)
            record_decisions(conn, propose_decisions(conn), T0, "run-1")
            push_decisions(conn, registry, T0, "run-1")
            assert {d for d, _ in _current(conn).values()} == {"confirm"}

            later = T0 + timedelta(hours=3)
            _sms_reply(conn, said_non, "lla", "cancel", "shopify:301", at=later)
            _sms_reply(conn, wrote_text, "chkoun nta?", "other", "shopify:302", at=later)
            _sms_reply(conn, said_oui, "wah", "confirm", "shopify:303", at=later)
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
            _sms_reply(conn, wrote_text, "NON", "cancel", "shopify:302", at=later + timedelta(1))
            (proposal,) = propose_decisions(conn)
            assert (proposal.order_ref, proposal.decision) == ("shopify:302", "cancel")
    finally:
        registry.close()
    assert shopify.duplicates.duplicates() == []
