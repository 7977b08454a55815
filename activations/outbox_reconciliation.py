"""Settling outbox rows whose send had no clear answer, from the vendors' own evidence.

A ``sending`` / ``unknown`` WhatsApp row is resolved from the status webhooks Meta
sends for every accepted message (``biz_opaque_callback_data`` carries
``outbox=<key>``), or released for a retry once webhook files ingested ``grace`` after
the attempt show none; SMS rows are simply resent, the gateway dedupes on the key.

The late-webhook bound: an ambiguous row is never resent after its message's validity
(``valid_for_hours``, default 48 h) or after :data:`WEBHOOK_HORIZON` (7 days, how long
Meta retries an undelivered webhook), whichever comes first: it settles as
``unknown_final`` instead of lingering, and a webhook that still arrives later (until the
horizon) turns it into ``sent`` / ``failed``. Within the validity the residual risk
remains: a status webhook Meta delivers more than ``grace`` late can cause one resend.
``activations.outbox`` explains why this gives exactly one message per key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from activations.outbox import AMBIGUOUS, OutboxStatus, record_outcome, rows_by_status
from activations.warehouse_tables import INGESTED_FILES, OUTBOX, WHATSAPP_WEBHOOKS, relation_exists

DEFAULT_RECONCILE_GRACE = timedelta(minutes=30)
# Meta retries a webhook it could not deliver for up to 7 days: after that no status
# callback for a send can arrive, so no ambiguous row waits longer than this.
WEBHOOK_HORIZON = timedelta(days=7)


@dataclass
class ReconcileReport:
    confirmed_sent: int = 0
    confirmed_failed: int = 0
    released_for_retry: int = 0
    settled_unknown: int = 0
    still_ambiguous: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


WEBHOOK_STATUSES_SQL = f"""
    select
        s ->> '$.id' as message_id,
        s ->> '$.status' as status,
        s ->> '$.recipient_id' as recipient_id,
        s ->> '$.biz_opaque_callback_data' as callback_data,
        try_cast(s ->> '$.errors[0].code' as integer) as error_code,
        s ->> '$.errors[0].title' as error_title,
        to_timestamp(try_cast(s ->> '$.timestamp' as bigint)) at time zone 'UTC' as status_at
    from {WHATSAPP_WEBHOOKS},
        unnest(json_extract(payload, '$.entry[*].changes[*].value.statuses[*]')) as t (s)
"""


def webhook_watermark(conn: duckdb.DuckDBPyConnection) -> datetime | None:
    """When WhatsApp webhook files were last ingested (naive UTC), ``None`` if never."""
    if not relation_exists(conn, INGESTED_FILES):
        return None
    return conn.execute(
        f"select max(ingested_at) from {INGESTED_FILES} where source = 'whatsapp_webhooks'"
    ).fetchone()[0]


def reconcile_whatsapp(
    conn: duckdb.DuckDBPyConnection,
    campaign_id: str,
    now: datetime,
    grace: timedelta = DEFAULT_RECONCILE_GRACE,
) -> ReconcileReport:
    """Resolve this campaign's WhatsApp rows left ``sending`` / ``unknown`` (see module doc);
    also marks ``sent`` rows whose message Meta later reported ``failed``."""
    report = apply_webhook_evidence(conn, campaign_id, now)
    watermark = webhook_watermark(conn)
    for row in rows_by_status(conn, campaign_id, [s.value for s in AMBIGUOUS]):
        if row.channel != "whatsapp":
            continue
        started = row.attempt_started_at or now
        if row.expires_at <= now or now >= started + WEBHOOK_HORIZON:
            # Its occasion passed (or no webhook can come any more): a resend would be late
            # and maybe a duplicate, so the row settles as unknown; a webhook ingested later
            # still turns it into sent / failed (apply_webhook_evidence).
            record_outcome(
                conn,
                row.outbox_key,
                OutboxStatus.UNKNOWN_FINAL,
                now,
                error_message="no status webhook before the message's validity ended: "
                "outcome unknown, never resent",
                resolved_by="validity_ended",
            )
            report.settled_unknown += 1
            continue
        if watermark is not None and now >= started + grace and watermark >= started + grace:
            record_outcome(
                conn,
                row.outbox_key,
                OutboxStatus.RETRY,
                now,
                error_message="no status webhook after the grace period: not accepted",
                resolved_by="grace_rule",
            )
            report.released_for_retry += 1
        else:
            report.still_ambiguous += 1
    return report


def apply_webhook_evidence(
    conn: duckdb.DuckDBPyConnection, campaign_id: str, now: datetime
) -> ReconcileReport:
    """What the ingested status webhooks prove about this campaign's rows: accepted (→ ``sent``)
    or failed (→ ``failed``, also for rows already ``sent``)."""
    report = ReconcileReport()
    if relation_exists(conn, WHATSAPP_WEBHOOKS):
        evidence = conn.execute(
            f"""
            with statuses as ({WEBHOOK_STATUSES_SQL}),
            keyed as (
                select regexp_extract(callback_data, '(^|&)outbox=([^&]+)', 2) as outbox_key, *
                from statuses where callback_data like '%outbox=%'
            ),
            per_key as (
                select outbox_key, min(message_id) as message_id,
                    max(case when status = 'failed' then error_code end) as error_code,
                    max(case when status = 'failed' then error_title end) as error_title,
                    bool_or(status = 'failed') as failed
                from keyed group by outbox_key
            )
            select o.outbox_key, o.status, p.message_id, p.failed, p.error_code, p.error_title
            from {OUTBOX} o join per_key p using (outbox_key)
            where o.campaign_id = ? and o.channel = 'whatsapp'
              and (o.status in ('sending', 'unknown', 'unknown_final')
                   or (o.status = 'sent' and p.failed))
            """,
            [campaign_id],
        ).fetchall()
        for key, _status, message_id, failed, code, title in evidence:
            if failed:
                record_outcome(
                    conn,
                    key,
                    OutboxStatus.FAILED,
                    now,
                    message_id=message_id,
                    error_code=str(code) if code is not None else None,
                    error_message=title,
                    resolved_by="webhook",
                )
                report.confirmed_failed += 1
            else:
                record_outcome(
                    conn, key, OutboxStatus.SENT, now, message_id=message_id, resolved_by="webhook"
                )
                report.confirmed_sent += 1
    return report


def release_idempotent(conn: duckdb.DuckDBPyConnection, campaign_id: str, now: datetime) -> int:
    """Ambiguous rows of channels that dedupe on our key (SMS ``client_ref``) → ``retry``."""
    rows = conn.execute(
        f"""
        update {OUTBOX} set status = 'retry', resolved_by = 'idempotent_resend', updated_at = ?
        where campaign_id = ? and channel = 'sms' and status in ('sending', 'unknown')
        returning outbox_key
        """,
        [now, campaign_id],
    ).fetchall()
    return len(rows)
