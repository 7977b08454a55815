"""The suppression list and the opt-out test every send goes through.

A customer is opted out when ``customer_360.consent_status`` says so (as of the
last dbt run) **or** the suppression list holds an entry newer than their latest
opt-in. The list is fed, as soon as webhooks are ingested, by:

* ``failed`` status webhooks with error 131050 (Meta: the customer stopped
  marketing messages) and send responses carrying 131050;
* STOP replies (``reply_intent = 'opt_out'`` in the inbound staging view) and
  WhatsApp ``user_preferences`` "stop" events;
* the SMS gateway's ``opted_out`` answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb
import pandas as pd

from activations.outbox_reconciliation import WEBHOOK_STATUSES_SQL
from activations.warehouse_tables import (
    CUSTOMER_360_MODEL,
    INBOUND_MESSAGES_MODEL,
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
    before = conn.execute(f"select count(*) from {SUPPRESSION}").fetchone()[0]
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
            select distinct '+' || sender_wa_id, 'stop_reply', inbound_message_id, received_at, ?
            from {inbound}
            where reply_intent = 'opt_out' and sender_wa_id is not null
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
    return conn.execute(f"select count(*) from {SUPPRESSION}").fetchone()[0] - before


def opted_out_phones(conn: duckdb.DuckDBPyConnection, phones: Iterable[str]) -> set[str]:
    """Which of ``phones`` must never be messaged."""
    frame = pd.DataFrame({"customer_phone": sorted(set(phones))}, dtype="object")
    if frame.empty:
        return set()
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
            select p.customer_phone
            from _phones_to_check p
            {consent}
            left join (
                select customer_phone, max(suppressed_at) as suppressed_at
                from {SUPPRESSION} group by customer_phone
            ) s using (customer_phone)
            where c.consent_status = 'opted_out'
               or (s.suppressed_at is not null and (
                    c.consent_status is distinct from 'opted_in'
                    or s.suppressed_at >= c.consent_changed_at))
            """
        ).fetchall()
    finally:
        conn.unregister("_phones_to_check")
    return {phone for (phone,) in rows}
