"""A synthetic COD store whose hidden reliability is known, in the warehouse's contract.

Each order has a latent intent; the probability of delivery depends on it, on the
customer's trait, on city and carrier, on payment, on a slow drift and on a sudden
shock after the training window (RTO rises, so a model calibrated on a later window
beats one that is not). Evidence is a noisy
reading of intent, stamped with the time it arrives. History columns and priors are
computed point-in-time, as the warehouse does: only orders resolved before placed_at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CITIES = {  # name: (share, delivery effect on the log-odds)
    "Casablanca": (0.30, 0.5),
    "Rabat": (0.14, 0.4),
    "Marrakech": (0.12, 0.0),
    "Fès": (0.10, -0.2),
    "Tanger": (0.10, 0.1),
    "Agadir": (0.09, -0.4),
    "Meknès": (0.08, -0.3),
    "Oujda": (0.07, -0.8),
}
CARRIERS = {"Ameex": 0.4, "Ozon Express": 0.0, "Coliix": -0.3, "Sendit": -0.6}
PLATFORMS = {"shopify": 0.2, "woocommerce": 0.0, "youcan": -0.1, "tiktok": -0.5}


@dataclass(frozen=True)
class World:
    """Knobs of the synthetic store."""

    days: int = 240
    orders_per_day: int = 50
    seed: int = 7
    start: str = "2025-01-01"
    drift: float = 0.5  # loss of delivery log-odds from the first to the last day
    shock: float = 0.5  # sudden loss of delivery log-odds from shock_day (after training)
    shock_day: int = 140
    email_effect: float = 0.5  # how email opening follows intent (negative: reversed)
    bot_share: float = 0.03  # storefront orders filled by a bot: form in seconds, no delivery
    ring_share: float = 0.01  # fraud ring: shares an address with other phones, mostly RTO


def make_orders(world: World = World()) -> tuple[pd.DataFrame, pd.Series]:
    """Return (orders in the contract, true probability of delivery per order_ref)."""
    rng = np.random.default_rng(world.seed)
    n = world.days * world.orders_per_day
    start = pd.Timestamp(world.start, tz="UTC")
    cutoff = start + pd.Timedelta(days=world.days)
    placed = start + pd.to_timedelta(np.sort(rng.uniform(0, world.days * 86400, n)), unit="s")
    day_fraction = (placed - start) / pd.Timedelta(days=world.days)

    # Customers: most order once, some come back (geometric number of orders).
    per_customer = rng.geometric(0.55, n)
    customer = rng.permutation(np.repeat(np.arange(n), per_customer)[:n])
    trait = rng.normal(0, 1, n)

    city_names = list(CITIES)
    city = rng.choice(city_names, n, p=[CITIES[c][0] for c in city_names])
    carrier = rng.choice(list(CARRIERS), n, p=[0.35, 0.3, 0.2, 0.15])
    platform = rng.choice(list(PLATFORMS), n, p=[0.4, 0.25, 0.2, 0.15])
    lead_source = np.where(
        (platform == "tiktok") & (rng.random(n) < 0.8), "tiktok_lead_form", "storefront"
    )
    prepaid = rng.random(n) < 0.08
    phone_valid = rng.random(n) > 0.04
    total = np.round(np.exp(rng.normal(np.log(320), 0.5, n)), 0)

    intent = rng.normal(0, 1, n) + 0.6 * trait[customer]
    fraud = rng.random(n) < 0.012
    # Bots and rings on their own stream, so every other draw of the world is unchanged.
    brng = np.random.default_rng(world.seed + 1_000)
    bots = (lead_source == "storefront") & (brng.random(n) < world.bot_share)
    ring = brng.random(n) < world.ring_share
    shared_address = np.where(ring, brng.integers(1, 6, n), brng.poisson(0.03, n))
    logit = (
        1.3
        + 1.1 * intent
        + 0.7 * trait[customer]
        + np.array([CITIES[c][1] for c in city])
        + np.array([CARRIERS[c] for c in carrier])
        + np.array([PLATFORMS[p] for p in platform])
        + 2.0 * prepaid
        - 1.5 * ~phone_valid
        - 0.3 * np.log(total / 320)
        - 3.0 * fraud
        - 3.0 * bots
        - 2.0 * ring
        - world.drift * day_fraction.to_numpy()
        - world.shock * (day_fraction.to_numpy() * world.days >= world.shock_day)
    )
    p_deliver = 1 / (1 + np.exp(-logit))

    def stamp(mask: np.ndarray, delay_minutes: np.ndarray) -> pd.Series:
        times = placed + pd.to_timedelta(delay_minutes, unit="m")
        return pd.Series(times, dtype="datetime64[us, UTC]").where(mask)

    has_lead_signals = ((lead_source == "storefront") & (rng.random(n) < 0.8)) | bots
    time_on_page = np.where(has_lead_signals, np.exp(rng.normal(3.7 + 0.5 * intent, 0.6)), np.nan)
    scroll = np.where(
        has_lead_signals, np.clip(60 + 18 * intent + rng.normal(0, 15, n), 0, 100), np.nan
    )
    products = np.where(has_lead_signals, rng.poisson(np.exp(0.2 + 0.4 * intent)), np.nan)
    form_s = np.where(has_lead_signals, np.exp(rng.normal(3.5, 0.5, n)), np.nan)
    form_s = np.where(bots, brng.uniform(1.0, 6.0, n), form_s)
    visits = np.where(has_lead_signals, 1 + brng.poisson(np.exp(-0.4 + 0.35 * intent)), np.nan)
    creative = np.where(
        has_lead_signals, brng.choice(["crt_ugc", "crt_promo", "crt_retarget"], n), None
    )
    device = np.where(has_lead_signals, brng.choice(["mobile", "desktop"], n, p=[0.85, 0.15]), None)

    sent = ~prepaid & (rng.random(n) < 0.95)
    sent_delay = rng.uniform(1, 10, n)
    cancels = sent & (rng.random(n) < 1 / (1 + np.exp(3.0 + 1.2 * intent)))
    confirms = sent & ~cancels & (rng.random(n) < 1 / (1 + np.exp(-(0.2 + 1.6 * intent))))
    # High intent answers faster: median 20 min, shorter with intent.
    reply_delay = sent_delay + np.exp(rng.normal(np.log(20) - 0.6 * intent, 1.0))
    other_reply = sent & ~cancels & ~confirms & (rng.random(n) < 0.15)
    sms = ~confirms & ~cancels & (rng.random(n) < 1 / (1 + np.exp(1.2 - 1.0 * intent)))
    email = (rng.random(n) < 0.4) & (rng.random(n) < 1 / (1 + np.exp(-world.email_effect * intent)))
    conversation = rng.random(n) < 1 / (1 + np.exp(1.8 - 1.0 * intent))
    unreachable = rng.random(n) < 1 / (1 + np.exp(2.6 + 1.3 * intent))

    cancelled = cancels | (fraud & (rng.random(n) < 0.7))
    delivered = ~cancelled & (rng.random(n) < p_deliver)
    resolve_days = np.where(
        cancelled,
        rng.uniform(0.05, 1, n),
        np.where(delivered, rng.uniform(1.5, 7, n), rng.uniform(4, 16, n)),
    )
    resolved = placed + pd.to_timedelta(resolve_days, unit="D")
    outcome = np.where(cancelled, "cancelled", np.where(delivered, "delivered", "returned"))
    refused = (outcome == "returned") & (rng.random(n) < 0.6)
    open_now = resolved > cutoff

    orders = pd.DataFrame(
        {
            "order_ref": [f"ORD-{i:06d}" for i in range(n)],
            "customer_phone": [f"+2126{c:08d}" for c in customer],
            "platform": platform,
            "payment_method": np.where(prepaid, "prepaid", "cod"),
            "carrier": carrier,
            # The carrier is named at dispatch, half a day to a day and a half after
            # placement; a cancelled order never leaves.
            "carrier_assigned_at": stamp(~cancelled, rng.uniform(720, 1950, n)),
            "city": city,
            "placed_at": pd.Series(placed, dtype="datetime64[us, UTC]"),
            "resolved_at": pd.Series(resolved, dtype="datetime64[us, UTC]").where(~open_now),
            "outcome": pd.Series(outcome, dtype=object).where(~open_now, None),
            "order_total": total,
            "phone_is_valid": phone_valid,
            "lead_source": lead_source,
            "time_on_page_s": time_on_page,
            "scroll_depth_pct": scroll,
            "products_viewed": products,
            "form_completion_s": form_s,
            "visits": visits,
            "ad_creative": creative,
            "device": device,
            "shared_address_recent_orders": shared_address,
            "confirmation_sent_at": stamp(sent, sent_delay),
            "whatsapp_confirmed_at": stamp(confirms, reply_delay),
            "whatsapp_cancelled_at": stamp(cancels, reply_delay),
            "whatsapp_first_reply_at": stamp(confirms | cancels | other_reply, reply_delay),
            "sms_replied_at": stamp(sms, sent_delay + 120 + rng.exponential(90, n)),
            # The world's SMS replies are free text: no OUI / NON evidence (no draw either,
            # so the other columns keep their values).
            "sms_confirmed_at": stamp(np.zeros(n, dtype=bool), np.zeros(n)),
            "sms_cancelled_at": stamp(np.zeros(n, dtype=bool), np.zeros(n)),
            "email_opened_at": stamp(email, rng.exponential(120, n)),
            "conversation_answered_at": stamp(conversation, rng.uniform(30, 600, n)),
            "unreachable_at": stamp(unreachable, rng.uniform(180, 2880, n)),
            "fraud_flagged_at": stamp(fraud, rng.uniform(0, 5, n)),
        }
    )
    orders["fraud_flagged_at"] = orders["fraud_flagged_at"].where(fraud)
    _add_history(orders, customer, refused, resolved.to_numpy(), open_now)
    truth = pd.Series(p_deliver, index=orders["order_ref"], name="p_deliver")
    return orders, truth


def _add_history(
    orders: pd.DataFrame,
    customer: np.ndarray,
    refused: np.ndarray,
    resolved: np.ndarray,
    open_now: np.ndarray,
) -> None:
    """Point-in-time customer counts and city / carrier / platform RTO rates."""
    placed = orders["placed_at"].to_numpy()
    outcome = orders["outcome"].to_numpy()
    n = len(orders)
    past = np.zeros((n, 4), dtype=int)  # orders, delivered, rto, refusals
    first = np.ones(n, dtype=bool)
    by_customer: dict[int, list[int]] = {}
    for i in range(n):  # orders are sorted by placed_at
        earlier = by_customer.setdefault(int(customer[i]), [])
        first[i] = not earlier
        for j in earlier:
            if not open_now[j] and resolved[j] < placed[i]:
                past[i, 0] += 1
                past[i, 1] += outcome[j] == "delivered"
                past[i, 2] += outcome[j] == "returned"
                past[i, 3] += bool(refused[j])
        earlier.append(i)
    orders["is_first_order"] = first
    for k, column in enumerate(
        [
            "customer_past_orders",
            "customer_past_delivered",
            "customer_past_rto",
            "customer_past_refusals",
        ]
    ):
        orders[column] = past[:, k]

    final = np.isin(outcome, ["delivered", "returned"])
    for key in ("city", "carrier", "platform"):
        prior = np.full(n, np.nan)
        for value in orders[key].unique():
            members = (orders[key] == value).to_numpy()
            done = members & final
            times = resolved[done]
            order = np.argsort(times)
            times = times[order]
            rto = (outcome[done] == "returned")[order].cumsum()
            count = np.searchsorted(times, placed[members], side="left")
            rate = np.where(count > 0, rto[np.maximum(count - 1, 0)] / np.maximum(count, 1), np.nan)
            prior[members] = np.where(count >= 30, rate, np.nan)
        orders[f"{key}_rto_rate_prior"] = prior
