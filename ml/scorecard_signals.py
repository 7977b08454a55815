"""The signals of the learned scorecard, with their bins and the direction we expect.

Every signal is read from the as-of evidence frame (:mod:`ml.evidence`) and cut into a
few labelled bins, so the fitted model is a points table (signal / bin -> points).
``expected_order`` lists bins from the one we expect to deliver most to the one we
expect to deliver least: a fit that contradicts it is adjusted and reported
(:mod:`ml.scorecard`). Bins outside the list (``no signal``, ``unknown``, states with
no obvious rank) are free. ``neutral`` is the bin that earns 0 points: the state of
an order about which that signal says nothing special.

The baseline's signals are all here; the WhatsApp confirmation flag, the "no reply
in 2 h" flag and the time to confirmation are one signal with mutually exclusive
states, because fitting them as separate columns would be collinear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ml import evidence as ev

Binning = Literal["category", "flag", "count", "quantile"]
Unit = Literal["rate", "mad", "count"]


@dataclass(frozen=True)
class ScorecardSignal:
    """How one signal is binned and what its bins are expected to do."""

    name: str
    description: str
    binning: Binning
    # category: bins are the column's values; flag: bool -> flag_labels (True, False);
    # count: lower bounds of bins; quantile: number of quantile bins fitted on training.
    flag_labels: tuple[str, str] = ("yes", "no")
    count_edges: tuple[int, ...] = ()
    quantiles: int = 0
    unit: Unit = "count"
    # For category/flag/count: bins best -> worst. For quantile: "lower" or "higher"
    # value is better, or None.
    expected_order: tuple[str, ...] = ()
    better_when: Literal["lower", "higher"] | None = None
    neutral: str | None = None


FLAG_ORDER = ("yes", "no")

LEARNED_SIGNALS: tuple[ScorecardSignal, ...] = (
    # Time on page and form completion are binned, not thresholded, and their bins are
    # free (no expected order): the domain says the effect is not monotonic (a bot fills
    # the form in seconds; a glance and a ten-minute idle tab are both weak signs).
    ScorecardSignal(
        "time_on_page",
        "time on the landing page",
        "category",
        neutral=ev.NO_SIGNAL,
    ),
    ScorecardSignal(
        "form_completion",
        "time to fill the order form",
        "category",
        neutral=ev.NO_SIGNAL,
    ),
    ScorecardSignal("visits_bin", "visits to the landing page", "category", neutral=ev.NO_SIGNAL),
    ScorecardSignal("ad_creative", "ad creative that brought the visit", "category"),
    ScorecardSignal("device", "device of the visit", "category"),
    ScorecardSignal(
        "shared_address_recent_orders",
        "orders from other phones to the same address in the last days",
        "count",
        count_edges=(0, 1, 3),
        expected_order=("0", "1–2", "3+"),
        neutral="0",
    ),
    ScorecardSignal(
        "deep_scroll",
        "scrolled > 75 % of the page",
        "category",
        expected_order=FLAG_ORDER,
        neutral="no",
    ),
    ScorecardSignal(
        "several_products",
        "viewed two or more products",
        "category",
        expected_order=FLAG_ORDER,
        neutral="no",
    ),
    ScorecardSignal(
        "whatsapp_confirmation",
        "WhatsApp confirmation: state and time to confirm",
        "category",
        # Assumption: a quick confirmation shows more intent than a hesitant one.
        expected_order=(
            ev.CONFIRMED_QUICKLY,
            ev.CONFIRMED_IN_WINDOW,
            ev.CONFIRMED_LATE,
            ev.NO_REPLY_IN_WINDOW,
            ev.CANCELLED,
        ),
        neutral=ev.AWAITING_REPLY,
    ),
    ScorecardSignal(
        "sms_replied", "replied to an SMS", "flag", expected_order=FLAG_ORDER, neutral="no"
    ),
    ScorecardSignal(
        "email_opened",
        "opened the confirmation email",
        "flag",
        expected_order=FLAG_ORDER,
        neutral="no",
    ),
    ScorecardSignal(
        "conversation_answered",
        "answered questions in a conversation",
        "flag",
        expected_order=FLAG_ORDER,
        neutral="no",
    ),
    ScorecardSignal(
        "phone_unreachable",
        "phone unreachable after attempts",
        "flag",
        expected_order=("no", "yes"),
        neutral="no",
    ),
    ScorecardSignal(
        "fraud_flagged",
        "flagged by fraud rules",
        "flag",
        expected_order=("no", "yes"),
        neutral="no",
    ),
    ScorecardSignal(
        "phone_is_valid",
        "phone number parses as valid",
        "flag",
        flag_labels=("valid", "invalid"),
        expected_order=("valid", "invalid"),
        neutral="valid",
    ),
    ScorecardSignal(
        "payment_method",
        "payment method",
        "category",
        expected_order=("prepaid", "cod"),
        neutral="cod",
    ),
    ScorecardSignal("lead_source", "where the lead came from", "category", neutral="storefront"),
    ScorecardSignal(
        "customer_record",
        "customer's earlier orders: delivered and RTO together",
        "category",
        expected_order=(
            ev.DELIVERED_4_PLUS,
            ev.DELIVERED_2_3,
            ev.DELIVERED_ONCE,
            ev.MOSTLY_DELIVERED,
            ev.MOSTLY_RTO,
        ),
        neutral=ev.FIRST_ORDER,
    ),
    ScorecardSignal(
        "customer_past_refusals",
        "customer's earlier refusals at the door",
        "count",
        count_edges=(0, 1),
        expected_order=("0", "1+"),
        neutral="0",
    ),
    # The city itself, not only its running RTO rate: the rate prior cut in quartiles
    # lumped the two far-south cities (the worst by far, 3 % of orders) with average ones.
    # Free bins (no expected order): the points are what the cities did in training.
    ScorecardSignal(
        "city",
        "delivery city",
        "category",
        neutral="Casablanca",
    ),
    ScorecardSignal(
        "city_rto_rate_prior",
        "RTO rate of the city so far",
        "quantile",
        quantiles=4,
        unit="rate",
        better_when="lower",
    ),
    ScorecardSignal(
        "carrier_rto_rate_prior",
        "RTO rate of the carrier so far",
        "quantile",
        quantiles=4,
        unit="rate",
        better_when="lower",
    ),
    ScorecardSignal(
        "platform_rto_rate_prior",
        "RTO rate of the platform so far",
        "quantile",
        quantiles=3,
        unit="rate",
        better_when="lower",
    ),
    ScorecardSignal(
        "order_total",
        "order value",
        "quantile",
        quantiles=5,
        unit="mad",
    ),
)


def signal_by_name(signals: tuple[ScorecardSignal, ...]) -> dict[str, ScorecardSignal]:
    """Index a signal catalogue by name."""
    return {s.name: s for s in signals}
