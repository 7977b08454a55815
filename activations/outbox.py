"""The outbox: one row per (campaign, customer, occasion), committed before any send.

Life of a row (``status``)::

    pending ──claim──▶ sending ──▶ sent | failed | retry | unknown
    retry   ──claim──▶ sending          (retry: known NOT accepted; next run sends again)
    sending / unknown ──reconcile──▶ sent | failed | retry
    pending / retry ──past expires_at──▶ expired
    sending / unknown ──past expires_at (or 7 days), no webhook──▶ unknown_final
    unknown_final ──late webhook──▶ sent | failed
    holdout, suppressed, expired, sent, failed: final

Why this gives exactly one message per key:

* the row exists (unique on campaign + phone + occasion) before the send, so a
  re-run finds it and never plans a second message;
* :func:`claim` flips ``pending|retry → sending`` in one committed statement; only
  the run whose update matched sends, and a row is sent only after its claim;
* a row is put back to ``retry`` only when the vendor *said* it did not take the
  message (throttling, 4xx), never on a timeout or a 5xx, which are ``unknown``;
* a ``sending`` / ``unknown`` WhatsApp row (killed run, lost response) is resolved
  from the status webhooks Meta sends for every accepted message: each carries
  ``biz_opaque_callback_data`` with ``outbox=<key>``. A webhook found → ``sent``
  (or ``failed``). None found although webhook files were ingested at least
  ``grace`` after the attempt → the message was not accepted → ``retry``. Until
  then the row waits: a late answer is better than a duplicate. The residual risk is
  a webhook Meta delivers later than ``grace`` (default 30 min; Meta's webhooks
  usually arrive within seconds, the receiver rotates files every 60 s);
* SMS rows need no reconciliation: the gateway dedupes on ``client_ref`` = the key,
  so an ambiguous SMS row is simply sent again.

This module is the row's life up to the send's outcome; settling ambiguous rows
(webhooks, the grace rule, the SMS resend) is ``activations.outbox_reconciliation``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum

import duckdb

from activations.warehouse_tables import OUTBOX


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    UNKNOWN = "unknown"
    UNKNOWN_FINAL = "unknown_final"  # ambiguous until its message's validity ended: never resent
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    HOLDOUT = "holdout"
    EXPIRED = "expired"


DUE = (OutboxStatus.PENDING, OutboxStatus.RETRY)
AMBIGUOUS = (OutboxStatus.SENDING, OutboxStatus.UNKNOWN)


def outbox_key(campaign_id: str, customer_phone: str, occasion: str) -> str:
    """The row's key: stable, 27 characters (fits an SMS ``client_ref``), no phone in clear."""
    digest = hashlib.sha256(f"{campaign_id}|{customer_phone}|{occasion}".encode()).hexdigest()
    return "ob_" + digest[:24]


def callback_data(
    campaign_id: str, template_name: str | None, order_ref: str | None, key: str
) -> str:
    """``biz_opaque_callback_data``: the form the staging models parse, plus the outbox key."""
    parts = [f"order_ref={order_ref}"] if order_ref else []
    if template_name:
        parts.append(f"template={template_name}")
    parts += [f"campaign={campaign_id}", f"outbox={key}"]
    return "&".join(parts)


@dataclass(frozen=True)
class OutboxEntry:
    """A message to record (``pending``) or a holdout member to record (``holdout``)."""

    campaign_id: str
    customer_phone: str
    occasion: str
    variant: str
    channel: str
    message_kind: str
    category: str
    expires_at: datetime
    status: OutboxStatus = OutboxStatus.PENDING
    order_ref: str | None = None
    template_name: str | None = None
    language: str | None = None
    body_params: tuple[str, ...] | None = None  # None: supplied at send time (delivery codes)
    button_payloads: tuple[str, ...] = ()
    text_body: str | None = None

    @property
    def key(self) -> str:
        return outbox_key(self.campaign_id, self.customer_phone, self.occasion)


@dataclass
class OutboxRow:
    outbox_key: str
    campaign_id: str
    customer_phone: str
    occasion: str
    order_ref: str | None
    variant: str
    channel: str
    message_kind: str
    category: str
    template_name: str | None
    language: str | None
    body_params: str | None
    button_payloads: str | None
    text_body: str | None
    status: str
    attempts: int
    message_id: str | None
    expires_at: datetime
    attempt_started_at: datetime | None
    sent_at: datetime | None
    extra: dict = field(default_factory=dict)

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(json.loads(self.body_params)) if self.body_params else ()

    @property
    def buttons(self) -> tuple[str, ...]:
        return tuple(json.loads(self.button_payloads)) if self.button_payloads else ()

    @property
    def callback_data(self) -> str:
        return callback_data(self.campaign_id, self.template_name, self.order_ref, self.outbox_key)


_ROW_COLUMNS = ", ".join(f.name for f in fields(OutboxRow) if f.name != "extra")


def enqueue(
    conn: duckdb.DuckDBPyConnection, entries: Sequence[OutboxEntry], now: datetime, run_id: str
) -> int:
    """Insert the entries that have no row yet (same key or same campaign/phone/occasion)."""
    if not entries:
        return 0
    before = conn.execute(f"select count(*) from {OUTBOX}").fetchone()[0]
    conn.executemany(
        f"""
        insert into {OUTBOX} (
            outbox_key, campaign_id, customer_phone, occasion, order_ref, variant, channel,
            message_kind, category, template_name, language, body_params, button_payloads,
            text_body, status, created_at, expires_at, updated_at, run_id
        ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        on conflict do nothing
        """,
        [
            (
                e.key,
                e.campaign_id,
                e.customer_phone,
                e.occasion,
                e.order_ref,
                e.variant,
                e.channel,
                e.message_kind,
                e.category,
                e.template_name,
                e.language,
                json.dumps(list(e.body_params), ensure_ascii=False)
                if e.body_params is not None
                else None,
                json.dumps(list(e.button_payloads)),
                e.text_body,
                e.status.value,
                now,
                e.expires_at,
                now,
                run_id,
            )
            for e in entries
        ],
    )
    return conn.execute(f"select count(*) from {OUTBOX}").fetchone()[0] - before


def existing_statuses(conn: duckdb.DuckDBPyConnection, campaign_id: str) -> dict[str, str]:
    """``{outbox_key: status}`` of every row the campaign already has."""
    rows = conn.execute(
        f"select outbox_key, status from {OUTBOX} where campaign_id = ?", [campaign_id]
    ).fetchall()
    return dict(rows)


def _rows(conn: duckdb.DuckDBPyConnection, where: str, params: list) -> list[OutboxRow]:
    result = conn.execute(f"select {_ROW_COLUMNS} from {OUTBOX} where {where}", params)
    return [OutboxRow(*row) for row in result.fetchall()]


def due_rows(conn: duckdb.DuckDBPyConnection, campaign_id: str, now: datetime) -> list[OutboxRow]:
    """Rows to (re)send now, oldest first."""
    return _rows(
        conn,
        "campaign_id = ? and status in ('pending', 'retry') and expires_at > ? "
        "and (retry_not_before is null or retry_not_before <= ?) order by created_at, outbox_key",
        [campaign_id, now, now],
    )


def rows_by_status(
    conn: duckdb.DuckDBPyConnection, campaign_id: str, statuses: Iterable[str]
) -> list[OutboxRow]:
    wanted = list(statuses)
    marks = ", ".join("?" for _ in wanted)
    return _rows(conn, f"campaign_id = ? and status in ({marks})", [campaign_id, *wanted])


def expire(conn: duckdb.DuckDBPyConnection, campaign_id: str, now: datetime) -> int:
    """Rows never sent before their occasion passed become ``expired`` (never sent late)."""
    rows = conn.execute(
        f"""
        update {OUTBOX} set status = 'expired', updated_at = ?
        where campaign_id = ? and status in ('pending', 'retry') and expires_at <= ?
        returning outbox_key
        """,
        [now, campaign_id, now],
    ).fetchall()
    return len(rows)


def claim(conn: duckdb.DuckDBPyConnection, key: str, now: datetime, run_id: str) -> bool:
    """Take the row for sending; ``False`` when another run took it or it is no longer due."""
    rows = conn.execute(
        f"""
        update {OUTBOX}
        set status = 'sending', attempts = attempts + 1, attempt_started_at = ?,
            updated_at = ?, run_id = ?
        where outbox_key = ? and status in ('pending', 'retry')
        returning outbox_key
        """,
        [now, now, run_id, key],
    ).fetchall()
    return bool(rows)


def record_outcome(
    conn: duckdb.DuckDBPyConnection,
    key: str,
    status: OutboxStatus,
    now: datetime,
    *,
    message_id: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    retry_not_before: datetime | None = None,
    resolved_by: str = "response",
) -> None:
    conn.execute(
        f"""
        update {OUTBOX}
        set status = ?, message_id = coalesce(?, message_id), error_code = ?, error_message = ?,
            retry_not_before = ?, resolved_by = ?, updated_at = ?,
            sent_at = case when ? = 'sent' then coalesce(sent_at, ?) else sent_at end
        where outbox_key = ?
        """,
        [
            status.value,
            message_id,
            error_code,
            error_message,
            retry_not_before,
            resolved_by,
            now,
            status.value,
            now,
            key,
        ],
    )


def mark(
    conn: duckdb.DuckDBPyConnection, key: str, status: OutboxStatus, reason: str, now: datetime
) -> None:
    """Close a due row without sending (e.g. the customer opted out since it was planned)."""
    conn.execute(
        f"update {OUTBOX} set status = ?, error_message = ?, updated_at = ? "
        "where outbox_key = ? and status in ('pending', 'retry')",
        [status.value, reason, now, key],
    )
