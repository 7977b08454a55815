"""The agent queue: review-band orders for the operations team, with what they need to call.

One row per order whose current storefront decision is ``review``: the order, its
score, band reasons and probability, the customer's history (orders, deliveries,
returns), every contact cod360 made about the order (WhatsApp and SMS, with the
customer's reply), the customer's SMS replies in their own words (an SMS reply no rule
reads, free text, is one reason an order lands here) and the carrier to give it to, with
the reason (``ml.carrier_recommendations``, :mod:`activations.carrier_choice`). Rebuilt
whole on each run (it is a view of the present) and exportable as CSV for teams that
work from a spreadsheet. The export holds full
phone numbers — agents call them — so it belongs on the operations share, not in
a log or a ticket.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from activations.warehouse_tables import (
    AGENT_QUEUE,
    CARRIER_RECOMMENDATIONS,
    INBOUND_MESSAGES_MODEL,
    ORDER_SCORES,
    ORDERS_MODEL,
    OUTBOX,
    SMS_REPLIES_MODEL,
    STOREFRONT_DECISIONS,
    ensure_activation_tables,
    relation_exists,
)
from common.marts import mart

_NO_RECOMMENDATIONS = (
    "(select null::varchar as order_ref, null::varchar as recommended_carrier, "
    "null::varchar as carrier_reason where false)"
)
_NO_REPLIES = (
    "(select null::varchar as replied_to_message_id, null::varchar as reply_intent, "
    "null::timestamp as received_at where false)"
)
_NO_SMS_REPLIES = (
    "(select null::varchar as order_ref, null::varchar as reply_intent, "
    "null::varchar as body, null::timestamp as received_at, "
    "null::varchar as attributed_by, null::varchar as candidate_order_refs where false)"
)


def refresh_agent_queue(conn: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Rebuild ``activations.agent_queue``; returns the number of orders in it."""
    ensure_activation_tables(conn)
    orders, inbound = mart(ORDERS_MODEL), mart(INBOUND_MESSAGES_MODEL)
    if not (relation_exists(conn, ORDER_SCORES) and relation_exists(conn, orders)):
        conn.execute(f"delete from {AGENT_QUEUE}")
        return 0
    replies = inbound if relation_exists(conn, inbound) else _NO_REPLIES
    carriers = (
        CARRIER_RECOMMENDATIONS
        if relation_exists(conn, CARRIER_RECOMMENDATIONS)
        else _NO_RECOMMENDATIONS
    )
    sms = mart(SMS_REPLIES_MODEL)
    sms_replies = sms if relation_exists(conn, sms) else _NO_SMS_REPLIES
    conn.execute("begin transaction")
    try:
        conn.execute(f"delete from {AGENT_QUEUE}")
        conn.execute(
            f"""
            insert into {AGENT_QUEUE}
            with current_decisions as (
                select * from {STOREFRONT_DECISIONS}
                qualify row_number() over (partition by order_ref order by decision_version desc) = 1
            ),
            queued as (select * from current_decisions where decision = 'review'),
            scores as (
                select * from {ORDER_SCORES}
                qualify row_number() over (partition by order_ref order by scored_at desc) = 1
            ),
            contacts as (
                select ob.order_ref, ob.channel, ob.campaign_id, ob.status,
                    coalesce(ob.sent_at, ob.created_at) as contacted_at, r.reply_intent
                from {OUTBOX} ob
                left join {replies} r on r.replied_to_message_id = ob.message_id
                where ob.order_ref in (select order_ref from queued) and ob.status <> 'holdout'
            ),
            contact_summary as (
                select order_ref,
                    count(*) filter (where channel = 'whatsapp' and status = 'sent') as wa_sent,
                    arg_max(status, contacted_at) filter (where channel = 'whatsapp') as wa_last_status,
                    max(reply_intent) as reply,
                    count(*) filter (where channel = 'sms' and status = 'sent') as sms_sent,
                    string_agg(
                        strftime(contacted_at, '%Y-%m-%d %H:%M') || ' ' || campaign_id || ' ' || channel
                        || ' ' || status || coalesce(' (reply: ' || reply_intent || ')', ''),
                        '; ' order by contacted_at
                    ) as history
                from contacts group by order_ref
            ),
            sms_answers as (
                -- a reply that could answer several open orders is shown on each of them
                select order_ref, reply_intent, received_at, body, '' as note
                from {sms_replies} where order_ref is not null
                union all
                select unnest(string_split(candidate_order_refs, ',')), 'ambiguous',
                    received_at, body, reply_intent || '; could answer ' || candidate_order_refs
                from {sms_replies} where attributed_by = 'ambiguous'
            ),
            sms_summary as (
                select order_ref,
                    arg_max(reply_intent, received_at) as latest_intent,
                    string_agg(
                        strftime(received_at, '%Y-%m-%d %H:%M') || ' sms reply "'
                        || coalesce(body, '') || '" (' || reply_intent
                        || case when note <> '' then ': ' || note else '' end || ')',
                        '; ' order by received_at
                    ) as history
                from sms_answers
                where order_ref in (select order_ref from queued)
                group by order_ref
            ),
            history as (
                select q.order_ref,
                    count(p.order_ref) as previous_orders,
                    count(p.order_ref) filter (where p.outcome = 'delivered') as previous_delivered,
                    count(p.order_ref) filter (where p.outcome = 'returned') as previous_returned
                from queued q
                join {orders} o on o.order_ref = q.order_ref
                left join {orders} p on p.customer_phone = o.customer_phone
                    and p.order_ref <> o.order_ref and p.placed_at < o.placed_at
                group by q.order_ref
            )
            select q.order_ref, o.platform, o.order_number, o.customer_phone, o.customer_name,
                o.city, o.total_amount, o.placed_at, s.score, s.rto_probability,
                s.top_positive_reasons, s.top_negative_reasons, s.model_version,
                q.decision_version, q.created_at,
                coalesce(c.wa_sent, 0), c.wa_last_status, coalesce(c.reply, sr.latest_intent),
                coalesce(c.sms_sent, 0), h.previous_orders, h.previous_delivered,
                h.previous_returned, nullif(concat_ws('; ', c.history, sr.history), ''), ?,
                k.recommended_carrier, k.carrier_reason
            from queued q
            join {orders} o on o.order_ref = q.order_ref
            left join scores s on s.order_ref = q.order_ref
            left join contact_summary c on c.order_ref = q.order_ref
            left join history h on h.order_ref = q.order_ref
            left join {carriers} k on k.order_ref = q.order_ref
            left join sms_summary sr on sr.order_ref = q.order_ref
            where o.outcome = 'open'
            """,
            [now],
        )
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    return conn.execute(f"select count(*) from {AGENT_QUEUE}").fetchone()[0]


def export_agent_queue_csv(conn: duckdb.DuckDBPyConnection, path: Path) -> Path:
    """Write the queue, lowest score (riskiest) first, as CSV with a header row."""
    ensure_activation_tables(conn)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    target = str(tmp).replace("'", "''")
    conn.execute(
        f"copy (select * from {AGENT_QUEUE} order by score nulls first, placed_at) "
        f"to '{target}' (header, delimiter ',')"
    )
    tmp.replace(path)  # readers never see a half-written file
    return path
