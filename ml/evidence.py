"""What is known about each order at a given moment: the as-of feature frame.

Every score is computed *as of* a timestamp per order (``placed_at + horizon`` when
building training examples, now when scoring). Evidence stamped after ``as_of`` does
not exist yet: an order scored ten minutes after placement cannot see a reply that
came an hour later. "No reply to the WhatsApp confirmation within 2 h" is true only
once ``as_of >= confirmation_sent_at + 2 h`` and no reply came before that moment.

The frame keeps the raw values the learned scorecard bins (history, priors, order
value) and derives the evidence states both scorecards read.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.features import CONTRACT_COLUMNS, EVIDENCE_TIMESTAMPS, KNOWN_LATER, LABEL_COLUMNS

# What the order and its history were at placement (the landing-page signals are captured
# before the form is submitted), and the values known from a later moment (the carrier,
# from its assignment: ml.features.KNOWN_LATER), which are hidden until that moment.
# Derived from the one contract (ml.features.ORDER_CONTRACT): every column but the
# evidence timestamps, the label (outcome, resolved_at) and the customer key, in order.
PASSTHROUGH_COLUMNS = tuple(
    name
    for name in CONTRACT_COLUMNS
    if name not in EVIDENCE_TIMESTAMPS and name not in (*LABEL_COLUMNS, "customer_phone")
)

NO_SIGNAL = "no signal"
NOT_SENT = "not sent"
AWAITING_REPLY = "awaiting reply"
REPLIED_WITHOUT_CONFIRMING = "replied without confirming"
NO_REPLY_IN_WINDOW = "no reply after 2 h"
CONFIRMED_QUICKLY = "confirmed within 15 min"
CONFIRMED_IN_WINDOW = "confirmed 15 min–2 h"
CONFIRMED_LATE = "confirmed after 2 h"
CANCELLED = "cancelled"
# The customer's record before this order, read jointly (delivered and RTO together):
# two deliveries and no RTO say more than "2 delivered" and "0 RTO" added up.
FIRST_ORDER = "first order"
NOTHING_ENDED = "repeat, nothing resolved yet"
DELIVERED_ONCE = "1 delivered, no RTO"
DELIVERED_2_3 = "2–3 delivered, no RTO"
DELIVERED_4_PLUS = "4+ delivered, no RTO"
MOSTLY_DELIVERED = "more delivered than RTO"
MOSTLY_RTO = "as many RTO as delivered, or more"


@dataclass(frozen=True)
class EvidenceRules:
    """Definitions of the evidence signals (SPEC §4 and §5).

    These define what a signal *means*, shared by the baseline and the learned
    scorecard; the points they earn live in the points tables, not here. Changing a
    definition changes the meaning of every stored points table, so it is code.
    """

    long_visit_s: float = 60.0  # "time on page > 60 s"
    deep_scroll_pct: float = 75.0  # "scrolled > 75 % of the page"
    several_products: float = 2.0  # "viewed several products": two or more
    reply_window_minutes: float = 120.0  # SPEC §5: no reply after 2 h
    quick_confirmation_minutes: float = 15.0
    # Bins of the landing-page timings, in seconds. Not a threshold: the effect is not
    # monotonic (a bot fills the form in seconds, a hesitant buyer takes minutes, a
    # careful one in between), so each bin earns its own points.
    time_on_page_edges_s: tuple[float, ...] = (15.0, 60.0, 180.0, 600.0)
    form_completion_edges_s: tuple[float, ...] = (8.0, 20.0, 60.0, 180.0)
    visits_edges: tuple[float, ...] = (2.0, 3.0)

    @property
    def reply_window(self) -> pd.Timedelta:
        """How long a confirmation message waits for a reply."""
        return pd.Timedelta(minutes=self.reply_window_minutes)


DEFAULT_RULES = EvidenceRules()


def evidence_as_of(
    orders: pd.DataFrame,
    as_of: pd.Timestamp | pd.Series,
    rules: EvidenceRules = DEFAULT_RULES,
) -> pd.DataFrame:
    """Return one row per order with what was known at ``as_of``.

    ``orders`` is a validated contract frame (:func:`ml.features.validate_orders`).
    ``as_of`` is one timestamp for every order or a Series aligned with ``orders``;
    it is clamped to ``placed_at`` (an order cannot be seen before it exists). Output:
    the pass-through columns, ``as_of``, three-state landing-page signals
    (``long_visit``, ``deep_scroll``, ``several_products``: ``yes``/``no``/``no
    signal``), ``whatsapp_confirmation`` (one state, see the module constants),
    ``minutes_to_confirmation``, and boolean flags ``whatsapp_confirmed``,
    ``whatsapp_no_reply_2h``, ``sms_replied``, ``email_opened``,
    ``conversation_answered``, ``phone_unreachable``, ``fraud_flagged``.
    """
    frame = orders.loc[:, list(PASSTHROUGH_COLUMNS)].copy()
    moment = _as_of_series(orders, as_of)
    frame["as_of"] = moment

    def seen(column: str) -> pd.Series:
        stamp = orders[column]
        return (stamp.notna() & (stamp <= moment)).astype(bool)

    # The decision-time contract: a value known only from a later moment (the carrier and
    # its RTO-rate prior, from the assignment event) does not exist before that moment,
    # nor when the moment is unknown.
    for column, known_from in KNOWN_LATER.items():
        frame[column] = frame[column].where(seen(known_from))

    def stamp_if_seen(column: str) -> pd.Series:
        return orders[column].where(seen(column))

    frame["customer_record"] = _customer_record(orders)
    frame["time_on_page"] = _duration_bins(orders["time_on_page_s"], rules.time_on_page_edges_s)
    frame["form_completion"] = _duration_bins(
        orders["form_completion_s"], rules.form_completion_edges_s
    )
    frame["visits_bin"] = _count_bins(orders["visits"], rules.visits_edges, "visit")
    frame["long_visit"] = _threshold_state(
        orders["time_on_page_s"], rules.long_visit_s, strict=True
    )
    frame["deep_scroll"] = _threshold_state(
        orders["scroll_depth_pct"], rules.deep_scroll_pct, strict=True
    )
    frame["several_products"] = _threshold_state(
        orders["products_viewed"], rules.several_products, strict=False
    )

    sent_at = stamp_if_seen("confirmation_sent_at")
    # A reply is the same evidence on either channel: an SMS OUI / NON (the fallback after
    # an unanswered WhatsApp message) confirms or cancels as a WhatsApp button does.
    confirmed_at = pd.concat(
        [stamp_if_seen("whatsapp_confirmed_at"), stamp_if_seen("sms_confirmed_at")], axis=1
    ).min(axis=1)
    cancelled_at = pd.concat(
        [stamp_if_seen("whatsapp_cancelled_at"), stamp_if_seen("sms_cancelled_at")], axis=1
    ).min(axis=1)
    # A later cancellation overrides an earlier confirmation, and vice versa.
    confirmed = confirmed_at.notna() & ~(cancelled_at > confirmed_at)
    cancelled = cancelled_at.notna() & ~confirmed
    # Any reply counts against "no reply": confirmation, cancellation or free text.
    first_reply_at = pd.concat(
        [stamp_if_seen("whatsapp_first_reply_at"), confirmed_at, cancelled_at], axis=1
    ).min(axis=1)
    window_end = sent_at + rules.reply_window
    # Only replies stamped before the window closed matter, and the window is closed
    # only when as_of has reached it: a later reply cannot undo "no reply in 2 h".
    replied_in_window = first_reply_at.notna() & (first_reply_at <= window_end)
    window_closed = sent_at.notna() & (moment >= window_end)
    frame["whatsapp_no_reply_2h"] = (window_closed & ~replied_in_window).astype(bool)
    frame["whatsapp_confirmed"] = confirmed.astype(bool)

    minutes = (confirmed_at - sent_at).dt.total_seconds().clip(lower=0) / 60.0
    frame["minutes_to_confirmation"] = minutes.where(confirmed & sent_at.notna())
    frame["whatsapp_confirmation"] = _whatsapp_state(
        sent=sent_at.notna(),
        confirmed=confirmed,
        cancelled=cancelled,
        replied=first_reply_at.notna(),
        window_closed=window_closed,
        minutes=frame["minutes_to_confirmation"],
        rules=rules,
    )
    frame["sms_replied"] = seen("sms_replied_at")
    frame["email_opened"] = seen("email_opened_at")
    frame["conversation_answered"] = seen("conversation_answered_at")
    frame["phone_unreachable"] = seen("unreachable_at")
    frame["fraud_flagged"] = seen("fraud_flagged_at")
    return frame


def _as_of_series(orders: pd.DataFrame, as_of: pd.Timestamp | pd.Series) -> pd.Series:
    if isinstance(as_of, pd.Series):
        moment = as_of.reindex(orders.index)
        if moment.isna().any():
            raise ValueError("as_of must give a timestamp for every order")
        moment = pd.to_datetime(moment, utc=True)
    else:
        stamp = pd.Timestamp(as_of)
        if stamp.tzinfo is None:
            raise ValueError("as_of must be time-zone aware (UTC)")
        moment = pd.Series(stamp.tz_convert("UTC"), index=orders.index)
    placed = orders["placed_at"]
    return moment.where(moment >= placed, placed).astype(placed.dtype)


def _seconds(value: float) -> str:
    return f"{value:g} s" if value < 60 else f"{value / 60:g} min"


def duration_bin_labels(edges: tuple[float, ...]) -> list[str]:
    """Readable labels of duration bins: "< 8 s", "8–20 s", …, "≥ 3 min"."""
    labels = [f"< {_seconds(edges[0])}"]
    for low, high in itertools.pairwise(edges):
        if low >= 60:
            labels.append(f"{low / 60:g}–{high / 60:g} min")
        elif high >= 60:
            labels.append(f"{_seconds(low)}–{_seconds(high)}")
        else:
            labels.append(f"{low:g}–{high:g} s")
    labels.append(f"≥ {_seconds(edges[-1])}")
    return labels


def _duration_bins(values: pd.Series, edges: tuple[float, ...]) -> pd.Series:
    labels = np.asarray(duration_bin_labels(edges), dtype=object)
    index = np.searchsorted(edges, values.fillna(0).to_numpy(dtype=float), side="right")
    state = np.where(values.isna(), NO_SIGNAL, labels[index])
    return pd.Series(state, index=values.index, dtype=object)


def _count_bins(values: pd.Series, edges: tuple[float, ...], noun: str) -> pd.Series:
    names = [f"1 {noun}"] + [
        f"{low:g}{'+' if i == len(edges) - 1 else ''} {noun}s" for i, low in enumerate(edges)
    ]
    labels = np.asarray(names, dtype=object)
    index = np.searchsorted(edges, values.fillna(0).to_numpy(dtype=float), side="right")
    state = np.where(values.isna(), NO_SIGNAL, labels[index])
    return pd.Series(state, index=values.index, dtype=object)


def _customer_record(orders: pd.DataFrame) -> pd.Series:
    delivered = orders["customer_past_delivered"].to_numpy()
    rto = orders["customer_past_rto"].to_numpy()
    first = (orders["customer_past_orders"] == 0).to_numpy()
    conditions = [
        first,
        (delivered == 0) & (rto == 0),
        rto >= np.maximum(delivered, 1),
        rto > 0,
        delivered >= 4,
        delivered >= 2,
    ]
    choices = [
        FIRST_ORDER,
        NOTHING_ENDED,
        MOSTLY_RTO,
        MOSTLY_DELIVERED,
        DELIVERED_4_PLUS,
        DELIVERED_2_3,
    ]
    state = np.select(conditions, choices, default=DELIVERED_ONCE)
    return pd.Series(state, index=orders.index, dtype=object)


def _threshold_state(values: pd.Series, threshold: float, *, strict: bool) -> pd.Series:
    met = values > threshold if strict else values >= threshold
    state = np.where(met, "yes", "no")
    return pd.Series(np.where(values.isna(), NO_SIGNAL, state), index=values.index, dtype=object)


def _whatsapp_state(
    *,
    sent: pd.Series,
    confirmed: pd.Series,
    cancelled: pd.Series,
    replied: pd.Series,
    window_closed: pd.Series,
    minutes: pd.Series,
    rules: EvidenceRules,
) -> pd.Series:
    quick = rules.quick_confirmation_minutes
    window = rules.reply_window_minutes
    # np.select takes the first matching condition: order matters.
    conditions = [
        ~sent,
        cancelled,
        confirmed & (minutes <= quick),
        confirmed & (minutes <= window),
        confirmed,
        replied,
        window_closed,
    ]
    choices = [
        NOT_SENT,
        CANCELLED,
        CONFIRMED_QUICKLY,
        CONFIRMED_IN_WINDOW,
        CONFIRMED_LATE,
        REPLIED_WITHOUT_CONFIRMING,
        NO_REPLY_IN_WINDOW,
    ]
    state = np.select([c.to_numpy(dtype=bool) for c in conditions], choices, default=AWAITING_REPLY)
    return pd.Series(state, index=sent.index, dtype=object)
