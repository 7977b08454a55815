"""Campaign measurement: treated vs holdout per campaign and variant, and the message funnel.

Groups are *intent to treat*: treated = members assigned to a variant whose message
was attempted (``sent``, ``failed``, ``unknown``), holdout = members recorded as
``holdout``; both come out of the same rules (``activations.rules``), so they are
comparable. The unit of each metric:

* ``delivery_rate`` = delivered / resolved orders (delivered + returned + cancelled);
* ``rto_rate`` = returned / (delivered + returned);
* ``confirmation_rate`` = confirmed / orders;
* ``repeat_purchase`` = members with another order within ``window`` after the
  message / members.

The orders of a member are the order the message was about (order campaigns), or
the orders placed within ``window`` after it (customer campaigns).

Intervals are 95 %: **Wilson** score intervals for each group's rate (they stay
inside [0, 1] and behave with small counts and rates near 0 or 1, where the normal
approximation does not), and **Newcombe's** hybrid score interval (built from the
two Wilson intervals) for the lift treated − holdout. Orders of one customer are
not independent, so order-level intervals are somewhat optimistic for customer
campaigns.

This is a Python asset rather than a dbt model because the outbox it reads is
written by Python assets downstream of the dbt models: as a dbt model it would sit
in the same dbt step as the marts the campaigns read — a cycle — and would fail on a
fresh warehouse before the outbox exists.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import duckdb
import pandas as pd

from activations.outbox_reconciliation import WEBHOOK_STATUSES_SQL
from activations.warehouse_tables import (
    CAMPAIGN_RESULTS,
    INBOUND_MESSAGES_MODEL,
    ORDERS_MODEL,
    OUTBOX,
    TEMPLATE_FUNNEL,
    WHATSAPP_WEBHOOKS,
    ensure_activation_tables,
    relation_exists,
)
from common.marts import mart

Z95 = 1.959963984540054
TREATED_STATUSES = ("sent", "failed", "unknown", "sending", "unknown_final")
METRICS = ("delivery_rate", "rto_rate", "confirmation_rate", "repeat_purchase")
ALL_VARIANTS = "all_treated"


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """95 % Wilson score interval of a proportion; ``None`` without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z**2 / trials
    center = (p + z**2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


def newcombe_difference(
    x1: int, n1: int, x2: int, n2: int, z: float = Z95
) -> tuple[float, float, float] | None:
    """p1 − p2 with Newcombe's hybrid score interval (method 10); ``None`` if a group is empty."""
    a, b = wilson_interval(x1, n1, z), wilson_interval(x2, n2, z)
    if a is None or b is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2
    low = diff - math.sqrt((p1 - a[0]) ** 2 + (b[1] - p2) ** 2)
    high = diff + math.sqrt((a[1] - p1) ** 2 + (p2 - b[0]) ** 2)
    return diff, low, high


def _members(conn: duckdb.DuckDBPyConnection, window: timedelta) -> pd.DataFrame:
    statuses = ", ".join(f"'{s}'" for s in (*TREATED_STATUSES, "holdout"))
    days = int(window.total_seconds())
    orders = mart(ORDERS_MODEL)
    return conn.execute(
        f"""
        with members as (
            select campaign_id, variant, outbox_key, customer_phone, order_ref, created_at
            from {OUTBOX} where status in ({statuses})
        ),
        own_orders as (
            select m.outbox_key, o.order_ref, o.outcome, o.confirmation_status
            from members m join {orders} o on o.order_ref = m.order_ref
        ),
        later_orders as (
            select m.outbox_key, o.order_ref, o.outcome, o.confirmation_status
            from members m join {orders} o on o.customer_phone = m.customer_phone
            where m.order_ref is null and o.placed_at >= m.created_at
              and o.placed_at < m.created_at + to_seconds(?)
        ),
        repeats as (
            select m.outbox_key, count(o.order_ref) > 0 as repeated
            from members m left join {orders} o on o.customer_phone = m.customer_phone
                and o.order_ref is distinct from m.order_ref
                and o.placed_at >= m.created_at and o.placed_at < m.created_at + to_seconds(?)
            group by m.outbox_key
        ),
        units as (select * from own_orders union all select * from later_orders)
        select m.campaign_id, m.variant, m.outbox_key, r.repeated,
            count(u.order_ref) as orders,
            count(u.order_ref) filter (where u.outcome = 'delivered') as delivered,
            count(u.order_ref) filter (where u.outcome = 'returned') as returned,
            count(u.order_ref) filter (where u.outcome = 'cancelled') as cancelled,
            count(u.order_ref) filter (where u.confirmation_status = 'confirmed') as confirmed
        from members m
        join repeats r using (outbox_key)
        left join units u using (outbox_key)
        group by all
        """,
        [days, days],
    ).df()


def _counts(frame: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """``{metric: (numerator, denominator)}`` for one group of members."""
    delivered, returned = int(frame["delivered"].sum()), int(frame["returned"].sum())
    cancelled, orders = int(frame["cancelled"].sum()), int(frame["orders"].sum())
    return {
        "delivery_rate": (delivered, delivered + returned + cancelled),
        "rto_rate": (returned, delivered + returned),
        "confirmation_rate": (int(frame["confirmed"].sum()), orders),
        "repeat_purchase": (int(frame["repeated"].astype(bool).sum()), len(frame)),
    }


def campaign_results(
    conn: duckdb.DuckDBPyConnection, now: datetime, window: timedelta = timedelta(days=30)
) -> pd.DataFrame:
    """Rebuild ``activations.campaign_results``; returns it."""
    ensure_activation_tables(conn)
    if not relation_exists(conn, mart(ORDERS_MODEL)):
        conn.execute(f"delete from {CAMPAIGN_RESULTS}")
        return pd.DataFrame()
    members = _members(conn, window)
    rows = []
    for campaign_id, campaign in members.groupby("campaign_id"):
        holdout = campaign[campaign["variant"] == "holdout"]
        treated = campaign[campaign["variant"] != "holdout"]
        groups = [(v, g) for v, g in treated.groupby("variant")]
        if treated["variant"].nunique() > 1:
            groups.append((ALL_VARIANTS, treated))
        held = _counts(holdout)
        for variant, group in groups:
            for metric, (x1, n1) in _counts(group).items():
                x2, n2 = held[metric]
                ci1, ci2 = wilson_interval(x1, n1), wilson_interval(x2, n2)
                lift = newcombe_difference(x1, n1, x2, n2)
                rows.append(
                    (
                        campaign_id, variant, metric, len(group), x1, n1,
                        x1 / n1 if n1 else None, *(ci1 or (None, None)),
                        len(holdout), x2, n2, x2 / n2 if n2 else None, *(ci2 or (None, None)),
                        *(lift or (None, None, None)), now,
                    )
                )  # fmt: skip
    conn.execute("begin transaction")
    try:
        conn.execute(f"delete from {CAMPAIGN_RESULTS}")
        if rows:
            conn.executemany(f"insert into {CAMPAIGN_RESULTS} values ({', '.join('?' * 19)})", rows)
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    return conn.execute(f"select * from {CAMPAIGN_RESULTS} order by all").df()


def template_funnel(conn: duckdb.DuckDBPyConnection, now: datetime) -> pd.DataFrame:
    """Rebuild ``activations.template_funnel``: queued → sent → delivered → read → replied."""
    ensure_activation_tables(conn)
    statuses = (
        f"(select message_id, status from ({WEBHOOK_STATUSES_SQL}))"
        if relation_exists(conn, WHATSAPP_WEBHOOKS)
        else "(select null::varchar as message_id, null::varchar as status where false)"
    )
    inbound = mart(INBOUND_MESSAGES_MODEL)
    replies = (
        f"(select distinct replied_to_message_id from {inbound})"
        if relation_exists(conn, inbound)
        else "(select null::varchar as replied_to_message_id where false)"
    )
    conn.execute("begin transaction")
    try:
        conn.execute(f"delete from {TEMPLATE_FUNNEL}")
        conn.execute(
            f"""
            insert into {TEMPLATE_FUNNEL}
            with per_message as (
                select message_id,
                    bool_or(status in ('delivered', 'read')) as delivered,
                    bool_or(status = 'read') as read,
                    bool_or(status = 'failed') as failed
                from {statuses} group by message_id
            )
            select o.campaign_id, o.variant, coalesce(o.template_name, o.channel),
                count(*),
                count(*) filter (where o.status = 'sent' or o.message_id is not null),
                count(*) filter (where p.delivered),
                count(*) filter (where p.read),
                count(*) filter (where r.replied_to_message_id is not null),
                count(*) filter (where o.status = 'failed' or p.failed),
                ?
            from {OUTBOX} o
            left join per_message p on p.message_id = o.message_id
            left join {replies} r on r.replied_to_message_id = o.message_id
            where o.status <> 'holdout'
            group by all
            """,
            [now],
        )
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    return conn.execute(f"select * from {TEMPLATE_FUNNEL} order by all").df()
