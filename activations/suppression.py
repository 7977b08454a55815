"""The suppression list and the opt-out test every send goes through.

A customer is opted out when ``customer_360.consent_status`` says so (as of the
last dbt run) **or** the suppression list holds an entry newer than their latest
opt-in. What an opt-out stops depends on its reason (activations/opt_out.py: a
marketing opt-out stops marketing only, a stop-everything one every message). The
list is fed, as soon as webhooks and SMS events are ingested, by:

* ``failed`` status webhooks with error 131050 (Meta: the customer stopped
  marketing messages) and send responses carrying 131050 — marketing;
* STOP replies on WhatsApp (``reply_intent = 'opt_out'``) and by SMS
  (``sms_replies``), and WhatsApp ``user_preferences`` "stop" events — marketing;
* STOP ALL replies on either channel (``reply_intent = 'opt_out_all'``) and the SMS
  gateway's ``opted_out`` answer — everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb
import pandas as pd

from activations.opt_out import OptOutScope, scope_of, widest
from activations.outbox_reconciliation import WEBHOOK_STATUSES_SQL
from activations.warehouse_tables import (
    CUSTOMER_360_MODEL,
    INBOUND_MESSAGES_MODEL,
    SMS_REPLIES_MODEL,
    SUPPRESSION,
    USER_PREFERENCES_MODEL,
    WHATSAPP_WEBHOOKS,
    relation_exists,
)
from common.marts import mart

OPT_OUT_CODE = 131050


def add_suppression(
    conn: duckdb.DuckDBPyConnection,
    phone: str,
    reason: str,
    source_ref: str,
    suppressed_at: datetime,
    now: datetime,
) -> None:
    conn.execute(
        f"insert into {SUPPRESSION} values (?, ?, ?, ?, ?) on conflict do nothing",
        [phone, reason, source_ref, suppressed_at, now],
    )


def refresh_suppression(conn: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Add the opt-outs ingested since the last refresh; returns how many rows were added."""
    before = conn.execute(f"select count(*) from {SUPPRESSION}").fetchall()[0][0]
    if relation_exists(conn, WHATSAPP_WEBHOOKS):
        conn.execute(
            f"""
            insert into {SUPPRESSION}
            select distinct '+' || recipient_id, 'whatsapp_131050', message_id,
                coalesce(status_at, ?), ?
            from ({WEBHOOK_STATUSES_SQL})
            where status = 'failed' and error_code = {OPT_OUT_CODE} and recipient_id is not null
            on conflict do nothing
            """,
            [now, now],
        )
    inbound, preferences = mart(INBOUND_MESSAGES_MODEL), mart(USER_PREFERENCES_MODEL)
    if relation_exists(conn, inbound):
        conn.execute(
            f"""
            insert into {SUPPRESSION}
            select distinct '+' || sender_wa_id,
                case reply_intent when 'opt_out' then 'stop_reply' else 'stop_all_reply' end,
                inbound_message_id, received_at, ?
            from {inbound}
            where reply_intent in ('opt_out', 'opt_out_all') and sender_wa_id is not null
            on conflict do nothing
            """,
            [now],
        )
    sms_replies = mart(SMS_REPLIES_MODEL)
    if relation_exists(conn, sms_replies):
        conn.execute(
            f"""
            insert into {SUPPRESSION}
            select distinct customer_phone,
                case reply_intent when 'opt_out' then 'sms_stop_reply' else 'sms_stop_all_reply' end,
                sms_event_id, received_at, ?
            from {sms_replies}
            where reply_intent in ('opt_out', 'opt_out_all') and customer_phone is not null
            on conflict do nothing
            """,
            [now],
        )
    if relation_exists(conn, preferences):
        conn.execute(
            f"""
            insert into {SUPPRESSION}
            select distinct '+' || wa_id, 'user_preferences_stop', preference_event_id,
                changed_at, ?
            from {preferences}
            where preference_value = 'stop' and wa_id is not null
            on conflict do nothing
            """,
            [now],
        )
    # fetchall: a fetchone leaves the result open, and the next register() refuses.
    return conn.execute(f"select count(*) from {SUPPRESSION}").fetchall()[0][0] - before


def opt_out_scopes(
    conn: duckdb.DuckDBPyConnection, phones: Iterable[str]
) -> dict[str, OptOutScope]:
    """What each of ``phones`` opted out of (phones with no opt-out are absent).

    ``customer_360.consent_status = 'opted_out'`` is a marketing opt-out (it is built from
    WhatsApp STOP replies and ``user_preferences``); each suppression entry newer than the
    customer's latest opt-in stops what its reason stops (activations/opt_out.py).
    """
    frame = pd.DataFrame({"customer_phone": sorted(set(phones))}, dtype="object")
    if frame.empty:
        return {}
    conn.register("_phones_to_check", frame)
    try:
        customer_360 = mart(CUSTOMER_360_MODEL)
        consent = (
            f"""
            left join (
                select customer_phone, consent_status, consent_changed_at from {customer_360}
            ) c using (customer_phone)
            """
            if relation_exists(conn, customer_360)
            else "left join (select null::varchar as customer_phone, null::varchar as "
            "consent_status, null::timestamp as consent_changed_at) c using (customer_phone)"
        )
        rows = conn.execute(
            f"""
            select p.customer_phone, 'consent_opted_out' as reason
            from _phones_to_check p
            {consent}
            where c.consent_status = 'opted_out'
            union all
            select p.customer_phone, s.reason
            from _phones_to_check p
            {consent}
            join (
                select customer_phone, reason, max(suppressed_at) as suppressed_at
                from {SUPPRESSION} group by customer_phone, reason
            ) s using (customer_phone)
            where c.consent_status is distinct from 'opted_in'
               or s.suppressed_at >= c.consent_changed_at
            """
        ).fetchall()
    finally:
        conn.unregister("_phones_to_check")
    reasons: dict[str, list[OptOutScope]] = {}
    for phone, reason in rows:
        reasons.setdefault(phone, []).append(scope_of(reason))
    return {phone: widest(scopes) for phone, scopes in reasons.items()}


def opted_out_phones(conn: duckdb.DuckDBPyConnection, phones: Iterable[str]) -> set[str]:
    """Which of ``phones`` opted out of anything (marketing or everything)."""
    return set(opt_out_scopes(conn, phones))
