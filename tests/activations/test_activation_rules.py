"""The sending rules (activations.rules) on hand-made, adversarial cases: pure functions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest

from activations.rules import (
    HOLDOUT,
    Action,
    Category,
    ContactFacts,
    FrequencyCap,
    MessageKind,
    QuietHours,
    Reason,
    SendingPolicy,
    VariantSplit,
    assign_group,
    customer_timezone,
    decide,
    in_quiet_hours,
)

NOON_UTC = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
MARKETING = SendingPolicy(
    "vip_offer",
    Category.MARKETING,
    holdout_share=0.0,
    quiet_hours=QuietHours(time(21), time(10)),
    frequency_cap=FrequencyCap(max_messages=2, per_days=7),
)
MA = "+212612345678"


def test_an_opted_out_customer_is_never_messaged_whatever_the_campaign():
    facts = ContactFacts(MA, opted_out=True, last_inbound_at=NOON_UTC - timedelta(minutes=5))
    for category in Category:
        for kind in MessageKind:
            policy = SendingPolicy("c", category, message_kind=kind, holdout_share=0.5)
            verdict = decide(policy, facts, NOON_UTC)
            assert verdict == decide(policy, facts, NOON_UTC + timedelta(hours=7))
            assert (verdict.action, verdict.reason) == (Action.SUPPRESS, Reason.OPTED_OUT)


def test_the_marketing_cap_counts_the_window_exactly_and_spares_utility_messages():
    two_recent = (NOON_UTC - timedelta(days=1), NOON_UTC - timedelta(days=6, hours=23))
    capped = ContactFacts(MA, marketing_sent_at=two_recent)
    assert decide(MARKETING, capped, NOON_UTC).reason is Reason.FREQUENCY_CAP
    # Exactly 7 days old still counts; a second later it has left the window.
    assert decide(MARKETING, capped, NOON_UTC + timedelta(hours=1)).action is Action.DEFER
    later = NOON_UTC + timedelta(hours=1, seconds=1)
    assert decide(MARKETING, capped, later).action is Action.SEND
    utility = SendingPolicy("notice", Category.UTILITY, frequency_cap=FrequencyCap(1, 7))
    assert decide(utility, capped, NOON_UTC).action is Action.SEND
    one_recent = ContactFacts(MA, marketing_sent_at=two_recent[:1])
    assert decide(MARKETING, one_recent, NOON_UTC).action is Action.SEND


def test_quiet_hours_follow_the_customers_own_clock():
    quiet = QuietHours(time(21), time(10))
    # 20:30 UTC on 15 January is 21:30 in Casablanca (UTC+1) and 15:30 in New York.
    # phonenumbers maps +212 to Atlantic/Canary (20:30 then): wrong for Morocco.
    evening = datetime(2026, 1, 15, 20, 30, tzinfo=UTC)
    assert str(customer_timezone(MA)) == "Africa/Casablanca"
    assert in_quiet_hours(evening, customer_timezone(MA), quiet)
    assert not in_quiet_hours(evening, customer_timezone("+12125550123"), quiet)
    facts_ny = ContactFacts("+12125550123")
    assert decide(MARKETING, ContactFacts(MA), evening).reason is Reason.QUIET_HOURS
    assert decide(MARKETING, facts_ny, evening).action is Action.SEND
    # Quiet hours spanning midnight, edges included / excluded.
    assert quiet.contains(time(21, 0)) and quiet.contains(time(3)) and quiet.contains(time(9, 59))
    assert not quiet.contains(time(10, 0)) and not quiet.contains(time(20, 59))
    assert not QuietHours(time(9), time(9)).contains(time(9))


def test_free_text_only_inside_the_24h_window_else_the_template_or_nothing():
    text = SendingPolicy("reattempt", Category.UTILITY, message_kind=MessageKind.TEXT)
    text_only = SendingPolicy(
        "reattempt", Category.UTILITY, message_kind=MessageKind.TEXT, has_template=False
    )
    inside = ContactFacts(MA, last_inbound_at=NOON_UTC - timedelta(hours=23, minutes=59))
    outside = ContactFacts(MA, last_inbound_at=NOON_UTC - timedelta(hours=24))
    never = ContactFacts(MA)
    assert decide(text, inside, NOON_UTC).message_kind is MessageKind.TEXT
    assert decide(text, outside, NOON_UTC).message_kind is MessageKind.TEMPLATE
    assert decide(text_only, outside, NOON_UTC).reason is Reason.SERVICE_WINDOW
    assert decide(text_only, never, NOON_UTC).action is Action.DEFER


def test_holdout_and_variants_are_deterministic_per_campaign_and_phone():
    variants = (VariantSplit("A", 0.5), VariantSplit("B", 0.5))
    phones = [f"+2126{n:08d}" for n in range(4000)]
    groups = {p: assign_group("vip_offer", p, 0.1, variants) for p in phones}
    assert groups == {p: assign_group("vip_offer", p, 0.1, variants) for p in phones}
    counts = Counter(groups.values())
    assert 0.08 < counts[HOLDOUT] / len(phones) < 0.12
    assert 0.42 < counts["A"] / len(phones) < 0.48 and 0.42 < counts["B"] / len(phones) < 0.48
    # Another campaign draws independently; a bigger holdout keeps treated variants stable.
    other = {p: assign_group("winback", p, 0.1, variants) for p in phones}
    assert sum(groups[p] != other[p] for p in phones) > 1000
    wider = {p: assign_group("vip_offer", p, 0.2, variants) for p in phones}
    assert all(wider[p] == HOLDOUT for p in phones if groups[p] == HOLDOUT)
    assert all(wider[p] in (HOLDOUT, groups[p]) for p in phones)


def test_a_holdout_member_is_recorded_not_sent_and_never_during_quiet_hours_either():
    policy = SendingPolicy("winback", Category.MARKETING, holdout_share=0.5)
    members = [f"+2126{n:08d}" for n in range(200)]
    verdicts = {p: decide(policy, ContactFacts(p), NOON_UTC) for p in members}
    held = [p for p, v in verdicts.items() if v.action is Action.HOLDOUT]
    assert 70 < len(held) < 130
    assert all(verdicts[p].variant == HOLDOUT and verdicts[p].message_kind is None for p in held)
    assert {v.action for v in verdicts.values()} == {Action.HOLDOUT, Action.SEND}


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (ContactFacts(MA, opted_out=True, marketing_sent_at=(NOON_UTC,) * 5), Reason.OPTED_OUT),
        (ContactFacts(MA, marketing_sent_at=(NOON_UTC,) * 5), Reason.FREQUENCY_CAP),
    ],
)
def test_the_strongest_rule_wins(facts, expected):
    evening = datetime(2026, 1, 15, 22, tzinfo=UTC)
    assert decide(MARKETING, facts, evening).reason is expected
