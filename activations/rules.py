"""The sending rules, in one place: whether a message may go to a customer now, and how.

Pure functions over plain values (no warehouse, no clock, no network), so every
rule is unit-tested on hand-made cases. The campaign runner calls :func:`decide`
when it plans an audience *and again* just before each send, so a customer who
opted out between the two is never messaged.

Order of the rules in :func:`decide` (the first that applies wins):

1. opted out (consent or suppression list) → ``suppress``, by the opt-out's category
   (activations/opt_out.py): a stop-everything opt-out stops every message; a marketing
   opt-out stops marketing, and utility messages that are not about the customer's own
   open order;
2. marketing frequency cap reached → ``defer``;
3. free-form text outside the 24 h customer-service window → the template
   instead when the campaign has one, else ``defer``;
4. holdout (deterministic per campaign and phone) → ``holdout``: recorded, never sent;
5. quiet hours in the customer's time zone → ``defer``;
6. otherwise ``send``, with the A/B variant (deterministic per campaign and phone).

Holdout is drawn after the rules that make a customer unreachable (1–3), so the
holdout and treated groups come from the same eligible population.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_timezones

from activations.opt_out import OptOutScope, blocks

DEFAULT_TIMEZONE = "Africa/Casablanca"
SERVICE_WINDOW = timedelta(hours=24)
HOLDOUT = "holdout"
# phonenumbers maps +212 to Atlantic/Canary; Morocco's legal time is Africa/Casablanca
# (UTC+1, UTC+0 during Ramadan), which is what quiet hours must follow.
_REGION_TIMEZONES = {"MA": "Africa/Casablanca", "EH": "Africa/Casablanca"}


class Category(StrEnum):
    MARKETING = "marketing"
    UTILITY = "utility"


class MessageKind(StrEnum):
    TEMPLATE = "template"
    TEXT = "text"


class Action(StrEnum):
    SEND = "send"
    HOLDOUT = "holdout"
    DEFER = "defer"  # not now; the next run looks again
    SUPPRESS = "suppress"  # never, for this occasion


class Reason(StrEnum):
    OPTED_OUT = "opted_out"
    FREQUENCY_CAP = "frequency_cap"
    SERVICE_WINDOW = "outside_service_window"
    HOLDOUT = "holdout"
    QUIET_HOURS = "quiet_hours"


@dataclass(frozen=True)
class QuietHours:
    """No message between ``start`` and ``end``, local time (may span midnight)."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class FrequencyCap:
    """At most ``max_messages`` marketing messages per customer in ``per_days`` days."""

    max_messages: int
    per_days: int


@dataclass(frozen=True)
class VariantSplit:
    name: str
    share: float


@dataclass(frozen=True)
class SendingPolicy:
    """What a campaign asks for; everything :func:`decide` needs besides the customer."""

    campaign_id: str
    category: Category
    message_kind: MessageKind = MessageKind.TEMPLATE
    has_template: bool = True
    holdout_share: float = 0.0
    variants: tuple[VariantSplit, ...] = (VariantSplit("A", 1.0),)
    quiet_hours: QuietHours | None = None
    frequency_cap: FrequencyCap | None = None
    default_timezone: str = DEFAULT_TIMEZONE


@dataclass(frozen=True)
class ContactFacts:
    """What the warehouse knows about one customer that the rules need."""

    phone: str
    opted_out: bool = False  # stopped everything (STOP ALL, blocked the number)
    marketing_opted_out: bool = False  # stopped marketing (STOP, user_preferences, 131050)
    last_inbound_at: datetime | None = None  # aware, UTC
    marketing_sent_at: tuple[datetime, ...] = field(default_factory=tuple)  # aware, UTC


@dataclass(frozen=True)
class Verdict:
    action: Action
    reason: Reason | None = None
    variant: str | None = None
    message_kind: MessageKind | None = None


# --- the individual rules -----------------------------------------------------------------


@lru_cache(maxsize=4096)
def customer_timezone(phone: str, default: str = DEFAULT_TIMEZONE) -> ZoneInfo:
    """The customer's time zone from their number's country; ``default`` when ambiguous."""
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return ZoneInfo(default)
    region = phonenumbers.region_code_for_number(number)
    if region in _REGION_TIMEZONES:
        return ZoneInfo(_REGION_TIMEZONES[region])
    zones = [z for z in phone_timezones.time_zones_for_number(number) if z != "Etc/Unknown"]
    return ZoneInfo(zones[0]) if len(zones) == 1 else ZoneInfo(default)


def in_quiet_hours(now: datetime, tz: ZoneInfo, quiet: QuietHours | None) -> bool:
    """Whether ``now`` (aware) falls in the quiet hours of time zone ``tz``."""
    return quiet is not None and quiet.contains(now.astimezone(tz).time())


def inside_service_window(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Free-form messages are delivered only within 24 h of the customer's last message."""
    return last_inbound_at is not None and now - last_inbound_at < SERVICE_WINDOW


def frequency_capped(sent_at: Sequence[datetime], now: datetime, cap: FrequencyCap | None) -> bool:
    if cap is None:
        return False
    since = now - timedelta(days=cap.per_days)
    return sum(1 for t in sent_at if since <= t <= now) >= cap.max_messages


def assignment_point(campaign_id: str, phone: str, purpose: str) -> float:
    """A number in [0, 1) fixed by (campaign, phone, purpose): same customer, same answer."""
    digest = hashlib.sha256(f"{campaign_id}|{phone}|{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_group(
    campaign_id: str,
    phone: str,
    holdout_share: float,
    variants: Sequence[VariantSplit],
) -> str:
    """``"holdout"`` or a variant name, deterministically per campaign and phone.

    Holdout and variant use independent hashes, so changing the holdout share does
    not reshuffle who gets which variant.
    """
    if holdout_share > 0 and assignment_point(campaign_id, phone, "holdout") < holdout_share:
        return HOLDOUT
    return choose_variant(campaign_id, phone, variants)


def choose_variant(campaign_id: str, phone: str, variants: Sequence[VariantSplit]) -> str:
    total = sum(v.share for v in variants)
    point = assignment_point(campaign_id, phone, "variant") * total
    cumulative = 0.0
    for variant in variants:
        cumulative += variant.share
        if point < cumulative:
            return variant.name
    return variants[-1].name


# --- the decision -------------------------------------------------------------------------


def opt_out_scope(facts: ContactFacts) -> OptOutScope | None:
    if facts.opted_out:
        return OptOutScope.ALL
    return OptOutScope.MARKETING if facts.marketing_opted_out else None


def decide(
    policy: SendingPolicy, facts: ContactFacts, now: datetime, *, about_open_order: bool = False
) -> Verdict:
    """Whether and how to message ``facts.phone`` for ``policy`` at ``now`` (aware).

    ``about_open_order``: the message is about the customer's own open order (an order
    audience), which a marketing opt-out does not stop for a utility message.
    """
    if blocks(opt_out_scope(facts), policy.category, about_open_order):
        return Verdict(Action.SUPPRESS, Reason.OPTED_OUT)
    if policy.category is Category.MARKETING and frequency_capped(
        facts.marketing_sent_at, now, policy.frequency_cap
    ):
        return Verdict(Action.DEFER, Reason.FREQUENCY_CAP)
    kind = policy.message_kind
    if kind is MessageKind.TEXT and not inside_service_window(facts.last_inbound_at, now):
        if not policy.has_template:
            return Verdict(Action.DEFER, Reason.SERVICE_WINDOW)
        kind = MessageKind.TEMPLATE
    group = assign_group(policy.campaign_id, facts.phone, policy.holdout_share, policy.variants)
    if group == HOLDOUT:
        return Verdict(Action.HOLDOUT, Reason.HOLDOUT, variant=HOLDOUT)
    tz = customer_timezone(facts.phone, policy.default_timezone)
    if in_quiet_hours(now, tz, policy.quiet_hours):
        return Verdict(Action.DEFER, Reason.QUIET_HOURS, variant=group)
    return Verdict(Action.SEND, variant=group, message_kind=kind)
