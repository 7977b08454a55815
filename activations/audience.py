"""Who a campaign is for, and what the rules need to know about them, from the warehouse.

An audience row carries the columns of ``campaign_config.AUDIENCE_COLUMNS`` (the
vocabulary of template variables) plus the occasion that makes the message
unique. Reads ``segment_membership`` (members on the run date and the ``since``
of their current stretch), ``customer_360`` (name, city) and ``int_orders`` (the
order a message is about).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd

from activations.campaign_config import Campaign
from activations.opt_out import OptOutScope
from activations.rules import ContactFacts
from activations.suppression import opt_out_scopes
from activations.warehouse_tables import (
    CUSTOMER_360_MODEL,
    INBOUND_MESSAGES_MODEL,
    ORDERS_MODEL,
    OUTBOX,
    SEGMENT_MEMBERSHIP_MODEL,
    relation_exists,
)
from common.marts import mart

MARKETING_LOOKBACK = timedelta(days=60)


@dataclass(frozen=True)
class AudienceMember:
    customer_phone: str
    occasion: str
    order_ref: str | None
    values: dict[str, object]


def first_name(full_name: object) -> str | None:
    if not full_name or not str(full_name).strip():
        return None
    return str(full_name).strip().split()[0].title()


def audience_values(row: dict[str, object]) -> dict[str, object]:
    """The template-variable columns of one warehouse row."""
    total = row.get("total_amount")
    return {
        "customer_phone": row.get("customer_phone"),
        "customer_name": row.get("customer_name"),
        "first_name": first_name(row.get("customer_name")),
        "city": row.get("city"),
        "segment_since": str(row["since"]) if row.get("since") is not None else None,
        "order_ref": row.get("order_ref"),
        "order_number": row.get("order_number"),
        "order_total": f"{float(total):.2f}" if total is not None else None,
        "currency": row.get("currency"),
        "carrier": row.get("carrier"),
        "tracking_number": row.get("tracking_number"),
    }


def _order_filter(campaign: Campaign) -> tuple[str, list]:
    outcome = "open" if campaign.order == "latest_open" else "delivered"
    where, params = "o.outcome = ?", [outcome]
    if campaign.order_statuses:
        where += f" and o.order_status in ({', '.join('?' for _ in campaign.order_statuses)})"
        params += list(campaign.order_statuses)
    return where, params


def campaign_audience(
    conn: duckdb.DuckDBPyConnection, campaign: Campaign, now: datetime
) -> list[AudienceMember]:
    """Members of the campaign's segment today, with their order when the campaign has one."""
    membership, customer_360 = mart(SEGMENT_MEMBERSHIP_MODEL), mart(CUSTOMER_360_MODEL)
    if not relation_exists(conn, membership):
        return []
    customers = (
        f"left join {customer_360} c on c.customer_phone = m.customer_phone"
        if relation_exists(conn, customer_360)
        else "left join (select null::varchar as customer_phone, null::varchar as customer_name, "
        "null::varchar as latest_city) c on c.customer_phone = m.customer_phone"
    )
    params: list = [campaign.segment]
    if campaign.order == "none":
        orders_cte = (
            "select null::varchar as customer_phone, null::varchar as order_ref, "
            "null::varchar as order_number, null::double as total_amount, null::varchar as "
            "currency, null::varchar as carrier, null::varchar as tracking_number, "
            "null::varchar as city where false"
        )
        join = "left join"
    else:
        where, order_params = _order_filter(campaign)
        orders_cte = f"""
            select o.customer_phone, o.order_ref, o.order_number, o.total_amount, o.currency,
                o.carrier, o.tracking_number, o.city
            from {mart(ORDERS_MODEL)} o
            where o.customer_phone in (select customer_phone from members) and {where}
            qualify row_number() over (
                partition by o.customer_phone order by o.placed_at desc, o.order_ref
            ) = 1
        """
        params += order_params
        join = "join"  # an order campaign has nothing to say to a member without the order
    frame = conn.execute(
        f"""
        with members as (
            select customer_phone, since from {membership} where segment_name = ?
        ),
        orders as ({orders_cte})
        select m.customer_phone, m.since, c.customer_name,
            coalesce(o.city, c.latest_city) as city, o.order_ref, o.order_number,
            o.total_amount, o.currency, o.carrier, o.tracking_number
        from members m
        {customers}
        {join} orders o on o.customer_phone = m.customer_phone
        order by m.customer_phone
        """,
        params,
    ).df()
    members = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        members.append(
            AudienceMember(
                customer_phone=row["customer_phone"],
                occasion=occasion_of(campaign, row, now),
                order_ref=row.get("order_ref"),
                values=audience_values(row),
            )
        )
    return members


def occasion_of(campaign: Campaign, row: dict[str, object], now: datetime) -> str:
    """What makes a message unique for one customer: the order, the stretch, the day…"""
    if campaign.occasion == "order":
        return f"order:{row['order_ref']}"
    if campaign.occasion == "segment_entry":
        return f"{campaign.segment}:since:{row['since']}"
    if campaign.occasion == "day":
        return f"day:{now.date().isoformat()}"
    year, week, _ = now.isocalendar()
    return f"week:{year}-W{week:02d}"


def _aware(value: object) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value).to_pydatetime()
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def contact_facts(
    conn: duckdb.DuckDBPyConnection, phones: Iterable[str], now: datetime
) -> dict[str, ContactFacts]:
    """Opt-out, last inbound message and recent marketing sends of each phone."""
    wanted = sorted(set(phones))
    if not wanted:
        return {}
    opted_out = opt_out_scopes(conn, wanted)
    last_inbound: dict[str, datetime | None] = {}
    frame = pd.DataFrame({"customer_phone": wanted}, dtype="object")
    conn.register("_fact_phones", frame)
    try:
        inbound = mart(INBOUND_MESSAGES_MODEL)
        if relation_exists(conn, inbound):
            rows = conn.execute(
                f"""
                select '+' || sender_wa_id, max(received_at) from {inbound}
                where '+' || sender_wa_id in (select customer_phone from _fact_phones)
                group by 1
                """
            ).fetchall()
            last_inbound = {phone: _aware(at) for phone, at in rows}
        since = (now - MARKETING_LOOKBACK).astimezone(UTC).replace(tzinfo=None)
        sends = conn.execute(
            f"""
            select customer_phone, coalesce(sent_at, attempt_started_at) from {OUTBOX}
            where category = 'marketing' and status in ('sent', 'sending', 'unknown', 'unknown_final')
              and coalesce(sent_at, attempt_started_at) >= ?
              and customer_phone in (select customer_phone from _fact_phones)
            """,
            [since],
        ).fetchall()
    finally:
        conn.unregister("_fact_phones")
    marketing: dict[str, list[datetime]] = defaultdict(list)
    for phone, at in sends:
        if at is not None:
            marketing[phone].append(_aware(at))
    return {
        phone: ContactFacts(
            phone=phone,
            opted_out=opted_out.get(phone) is OptOutScope.ALL,
            marketing_opted_out=opted_out.get(phone) is OptOutScope.MARKETING,
            last_inbound_at=last_inbound.get(phone),
            marketing_sent_at=tuple(marketing.get(phone, ())),
        )
        for phone in wanted
    }
