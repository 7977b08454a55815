"""Opt-out categories as Meta defines them (activations/opt_out.py): a marketing opt-out
stops marketing only, utility messages about the customer's own open order still go;
STOP ALL stops everything. The rule alone, then on the warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from warehouse_fixtures import (
    NOW,
    add_customers,
    add_inbound,
    add_sms_reply,
    create_sms_replies,
    create_tables,
    phone,
)

from activations.audience import contact_facts
from activations.confirmation import confirmation_spec
from activations.opt_out import REASON_SCOPES, OptOutScope, blocks, scope_of
from activations.rules import Action, Category, ContactFacts, Reason, SendingPolicy, decide
from activations.suppression import add_suppression, opt_out_scopes, refresh_suppression
from common.warehouse import connect

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


def test_opt_out_categories_from_whatsapp_and_sms_on_the_warehouse(tmp_path):
    prefs, sms_stop, sms_stop_all, wa_stop_all = phone(1), phone(2), phone(3), phone(4)
    with connect(tmp_path / "warehouse.duckdb") as conn:
        create_tables(conn)
        create_sms_replies(conn)
        add_customers(conn, [prefs, sms_stop, sms_stop_all, wa_stop_all])
        # WhatsApp "Stop promotions" (user_preferences) and 131050: marketing.
        add_suppression(conn, prefs, "user_preferences_stop", "pref-1", T0, T0)
        add_sms_reply(conn, sms_stop, "STOP", "opt_out", None)
        add_sms_reply(conn, sms_stop_all, "stop all", "opt_out_all", None)
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
