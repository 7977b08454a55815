"""Hand-made warehouse relations with the columns activations read (real DuckDB).

The dbt marts are built by the transform layer; here each test writes exactly the rows
it needs — adversarial ones included — into tables where the dbt manifest says the
marts live (common.marts resolves them for the code under test the same way).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from activations.warehouse_tables import (
    CUSTOMER_360_MODEL,
    INBOUND_MESSAGES_MODEL,
    ORDERS_MODEL,
    SEGMENT_MEMBERSHIP_MODEL,
    SMS_REPLIES_MODEL,
    ensure_activation_tables,
)
from common.marts import mart
from common.warehouse import connect
from connectors.ingestion import SOURCES_BY_NAME, ensure_raw_tables, ingest_source
from connectors.phones import refresh_phone_numbers

NOW = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # 12:00 in Casablanca: outside quiet hours


def _ddl() -> str:
    """The marts activations read, where the manifest says they live, with the columns
    these tests need (the manifest is parsed once per session: tests/activations/conftest.py)."""
    segments, customers = mart(SEGMENT_MEMBERSHIP_MODEL), mart(CUSTOMER_360_MODEL)
    orders, inbound = mart(ORDERS_MODEL), mart(INBOUND_MESSAGES_MODEL)
    schemas = sorted({m.schema for m in (segments, customers, orders, inbound)})
    return (
        "".join(f'create schema if not exists "{schema}";\n' for schema in schemas)
        + f"""
create schema if not exists ml;
create table if not exists {segments} (
    segment_name varchar, segment_label varchar, customer_phone varchar,
    as_of_date date, since date);
create table if not exists {customers} (
    customer_phone varchar, customer_name varchar, latest_city varchar,
    consent_status varchar, consent_changed_at timestamp);
create table if not exists {orders} (
    order_ref varchar, platform varchar, platform_order_id varchar, order_number varchar,
    customer_phone varchar, customer_name varchar, city varchar, payment_method varchar,
    is_cod boolean, total_amount double, currency varchar, placed_at timestamp,
    order_status varchar, confirmation_status varchar, outcome varchar, carrier varchar,
    tracking_number varchar, failed_attempts integer, last_failure_reason varchar);
create table if not exists {inbound} (
    inbound_message_id varchar, sender_wa_id varchar, received_at timestamp,
    message_type varchar, text_body varchar, button_payload varchar,
    replied_to_message_id varchar, reply_intent varchar);
create table if not exists ml.order_scores (
    order_ref varchar, customer_phone varchar, rto_probability double,
    delivery_probability double, score double, band varchar, top_positive_reasons varchar,
    top_negative_reasons varchar, model_version varchar, scored_at timestamp);
"""
    )


def phone(n: int) -> str:
    return f"+2126{n:08d}"


def create_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(_ddl())
    ensure_raw_tables(conn)
    ensure_activation_tables(conn)


@contextmanager
def opened(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(path) as conn:
        yield conn


def add_customers(
    conn, phones: Iterable[str], *, consent: str = "no_preference", changed_at=None
) -> None:
    conn.executemany(
        f"insert into {mart(CUSTOMER_360_MODEL)} values (?, ?, 'Casablanca', ?, ?)",
        [(p, f"salma client{p[-3:]}", consent, changed_at) for p in phones],
    )


def add_members(conn, segment: str, phones: Iterable[str], since: str = "2026-03-01") -> None:
    conn.executemany(
        f"insert into {mart(SEGMENT_MEMBERSHIP_MODEL)} values (?, ?, ?, date '2026-03-02', ?)",
        [(segment, segment, p, since) for p in phones],
    )


def add_order(
    conn,
    ref: str,
    customer: str,
    *,
    status: str = "pending",
    confirmation: str = "pending",
    outcome: str = "open",
    placed_at: datetime | None = None,
    failed_attempts: int = 0,
    last_failure_reason: str | None = None,
    carrier: str | None = "ameex",
    cod: bool = True,
) -> None:
    platform, _, order_id = ref.partition(":")
    placed = (placed_at or NOW - timedelta(hours=1)).astimezone(UTC).replace(tzinfo=None)
    conn.execute(
        f"insert into {mart(ORDERS_MODEL)} values "
        "(?, ?, ?, ?, ?, ?, 'Casablanca', ?, ?, 249.0, 'MAD', ?, ?, ?, ?, ?, ?, ?, ?)",
        [ref, platform, order_id, f"#{order_id}", customer, "Salma Bennani",
         "cod" if cod else "prepaid", cod, placed, status, confirmation, outcome, carrier,
         f"TRK{order_id}", failed_attempts, last_failure_reason],
    )  # fmt: skip


def add_inbound(conn, sender: str, *, intent: str, replied_to: str | None = None, at=None) -> None:
    when = (at or NOW).astimezone(UTC).replace(tzinfo=None)
    conn.execute(
        f"insert into {mart(INBOUND_MESSAGES_MODEL)} values (?, ?, ?, 'text', ?, null, ?, ?)",
        [f"in-{sender}-{when.isoformat()}", sender.lstrip("+"), when, intent, replied_to, intent],
    )


def ingest_whatsapp(conn, landing: Path) -> None:
    """Load the webhook files the contract server flushed (the real ingestion code)."""
    ingest_source(conn, SOURCES_BY_NAME["whatsapp_webhooks"], landing)
    refresh_phone_numbers(conn)  # the step between the raw tables and dbt


def create_sms_replies(conn) -> str:
    """The sms_replies mart as a table, where the manifest says it lives."""
    relation = mart(SMS_REPLIES_MODEL)
    conn.execute(f'create schema if not exists "{relation.schema}"')
    conn.execute(
        f"""
        create table if not exists {relation} (
            sms_event_id varchar, provider varchar, message_id varchar, customer_phone varchar,
            received_at timestamp, body varchar, reply_intent varchar, order_ref varchar,
            attributed_by varchar, open_orders_at_reply bigint, candidate_order_refs varchar)
        """
    )
    return str(relation)


def add_sms_reply(
    conn, who: str, body: str, intent: str, order_ref: str | None, at=None, candidates=()
) -> None:
    """One reply; ``candidates`` (two or more open orders, none named) makes it ambiguous."""
    at = at or NOW.replace(tzinfo=None)
    attributed = "ambiguous" if candidates else "texted_about" if order_ref else None
    conn.execute(
        f"insert into {mart(SMS_REPLIES_MODEL)} values (?, 'infobip', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [f"sms-{who}-{body}-{at.isoformat()}", f"SM-{who}", who, at, body, intent,
         None if candidates else order_ref, attributed, len(candidates) or 1,
         ",".join(sorted(candidates)) or None],
    )  # fmt: skip
