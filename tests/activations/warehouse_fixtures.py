"""Hand-made warehouse relations with the columns activations read (real DuckDB).

The dbt models are built by the transform layer; here each test writes exactly the
rows it needs — adversarial ones included — into tables of the same names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from activations.warehouse_tables import ensure_activation_tables
from common.warehouse import connect
from connectors.ingestion import SOURCES_BY_NAME, ensure_raw_tables, ingest_source

NOW = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # 12:00 in Casablanca: outside quiet hours

_DDL = """
create schema if not exists marts;
create schema if not exists intermediate;
create schema if not exists staging;
create schema if not exists ml;
create table if not exists marts.segment_membership (
    segment_name varchar, segment_label varchar, customer_phone varchar,
    as_of_date date, since date);
create table if not exists marts.customer_360 (
    customer_phone varchar, customer_name varchar, latest_city varchar,
    consent_status varchar, consent_changed_at timestamp);
create table if not exists intermediate.int_orders (
    order_ref varchar, platform varchar, platform_order_id varchar, order_number varchar,
    customer_phone varchar, customer_name varchar, city varchar, payment_method varchar,
    is_cod boolean, total_amount double, currency varchar, placed_at timestamp,
    order_status varchar, confirmation_status varchar, outcome varchar, carrier varchar,
    tracking_number varchar, failed_attempts integer, last_failure_reason varchar);
create table if not exists staging.stg_whatsapp__inbound_messages (
    inbound_message_id varchar, sender_wa_id varchar, received_at timestamp,
    message_type varchar, text_body varchar, button_payload varchar,
    replied_to_message_id varchar, reply_intent varchar);
create table if not exists ml.order_scores (
    order_ref varchar, customer_phone varchar, rto_probability double,
    delivery_probability double, score double, band varchar, top_positive_reasons varchar,
    top_negative_reasons varchar, model_version varchar, scored_at timestamp);
"""


def phone(n: int) -> str:
    return f"+2126{n:08d}"


def create_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(_DDL)
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
        "insert into marts.customer_360 values (?, ?, 'Casablanca', ?, ?)",
        [(p, f"salma client{p[-3:]}", consent, changed_at) for p in phones],
    )


def add_members(conn, segment: str, phones: Iterable[str], since: str = "2026-03-01") -> None:
    conn.executemany(
        "insert into marts.segment_membership values (?, ?, ?, date '2026-03-02', ?)",
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
        "insert into intermediate.int_orders values "
        "(?, ?, ?, ?, ?, ?, 'Casablanca', ?, ?, 249.0, 'MAD', ?, ?, ?, ?, ?, ?, ?, ?)",
        [ref, platform, order_id, f"#{order_id}", customer, "Salma Bennani",
         "cod" if cod else "prepaid", cod, placed, status, confirmation, outcome, carrier,
         f"TRK{order_id}", failed_attempts, last_failure_reason],
    )  # fmt: skip


def add_inbound(conn, sender: str, *, intent: str, replied_to: str | None = None, at=None) -> None:
    when = (at or NOW).astimezone(UTC).replace(tzinfo=None)
    conn.execute(
        "insert into staging.stg_whatsapp__inbound_messages values (?, ?, ?, 'text', ?, null, ?, ?)",
        [f"in-{sender}-{when.isoformat()}", sender.lstrip("+"), when, intent, replied_to, intent],
    )


def ingest_whatsapp(conn, landing: Path) -> None:
    """Load the webhook files the contract server flushed (the real ingestion code)."""
    ingest_source(conn, SOURCES_BY_NAME["whatsapp_webhooks"], landing)
