"""great-expectations suites for the raw landing tables.

Each suite runs on the columns a SQL query extracts from ``raw.<source>``
(required fields, types, value ranges, allowed platforms and channels,
timestamps not in the future). Quarantine already refuses records that lack a
required field or cannot be parsed; these suites catch what parses but is
wrong, and they gate the activations that act on the data.

Tolerances (``mostly``) are stated per expectation with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

KNOWN_PLATFORMS = ["shopify", "woocommerce", "youcan", "tiktok", "lightfunnels", "prestashop"]
KNOWN_CARRIERS = [
    "ameex",
    "ozon_express",
    "coliix",
    "sendit",
    "cathedis",
    "speedaf",
    "zr_express",
    "yalidine",
    "amana",
    "forcelog",
    "digylog",
    "onessta",
]
KNOWN_CURRENCIES = ["MAD", "EUR", "USD", "DZD", "TND", "EGP", "SAR", "AED"]
# Clocks of senders drift; an event up to 10 minutes ahead of ours is not "in the future".
FUTURE_TOLERANCE_S = 600
# Totals above this are typos in a COD store (a price typed in centimes), not orders.
MAX_ORDER_TOTAL = 100_000


def _seconds_ahead(expr: str) -> str:
    return f"epoch({expr}) - epoch(now())"


@dataclass(frozen=True)
class RawSuite:
    """A query over one raw table and the expectations its result must meet."""

    source: str
    query: str
    expectations: tuple[Any, ...] = field(default_factory=tuple)


def _orders_suite(source: str, query: str, statuses: list[str] | None = None) -> RawSuite:
    E = gx.expectations
    expectations = [
        E.ExpectColumnValuesToNotBeNull(column="order_id"),
        E.ExpectColumnValuesToNotBeNull(column="placed_at"),
        E.ExpectColumnValuesToBeBetween(column="seconds_in_future", max_value=FUTURE_TOLERANCE_S),
        E.ExpectColumnValuesToBeBetween(
            column="total_amount", min_value=0, max_value=MAX_ORDER_TOTAL
        ),
        E.ExpectColumnValuesToBeInSet(column="currency", value_set=KNOWN_CURRENCIES),
        # Customers type their phone by hand; a few blank ones are real, many mean a broken form.
        E.ExpectColumnValuesToNotBeNull(column="phone", mostly=0.95),
    ]
    if statuses:
        expectations.append(E.ExpectColumnValuesToBeInSet(column="status", value_set=statuses))
    return RawSuite(source, query, tuple(expectations))


def build_suites() -> dict[str, RawSuite]:
    """The suite of every raw source, by source name."""
    E = gx.expectations
    suites = [
        _orders_suite(
            "shopify_orders",
            f"""
            select payload->>'$.id' as order_id,
                   try_cast(payload->>'$.createdAt' as timestamptz) as placed_at,
                   {_seconds_ahead("try_cast(payload->>'$.createdAt' as timestamptz)")} as seconds_in_future,
                   try_cast(payload->>'$.totalPriceSet.shopMoney.amount' as double) as total_amount,
                   payload->>'$.totalPriceSet.shopMoney.currencyCode' as currency,
                   coalesce(payload->>'$.shippingAddress.phone', payload->>'$.phone',
                            payload->>'$.customer.phone') as phone
            from raw.shopify_orders
            """,
        ),
        _orders_suite(
            "woocommerce_orders",
            """
            select payload->>'$.id' as order_id,
                   try_cast(payload->>'$.date_created_gmt' as timestamp) as placed_at,
                   epoch(try_cast(payload->>'$.date_created_gmt' as timestamp))
                       - epoch(cast(now() at time zone 'UTC' as timestamp)) as seconds_in_future,
                   try_cast(payload->>'$.total' as double) as total_amount,
                   payload->>'$.currency' as currency,
                   nullif(coalesce(payload->>'$.billing.phone', payload->>'$.shipping.phone'), '') as phone,
                   payload->>'$.status' as status
            from raw.woocommerce_orders
            """,
            [
                "pending",
                "processing",
                "on-hold",
                "completed",
                "cancelled",
                "refunded",
                "failed",
                "checkout-draft",
            ],
        ),
        _orders_suite(
            "youcan_orders",
            f"""
            select payload->>'$.id' as order_id,
                   try_cast(payload->>'$.created_at' as timestamptz) as placed_at,
                   {_seconds_ahead("try_cast(payload->>'$.created_at' as timestamptz)")} as seconds_in_future,
                   try_cast(payload->>'$.total' as double) as total_amount,
                   payload->>'$.currency' as currency,
                   coalesce(payload->>'$.customer.phone', payload->>'$.shipping.address.phone') as phone
            from raw.youcan_orders
            """,
        ),
        _orders_suite(
            "lightfunnels_orders",
            f"""
            select payload->>'$._id' as order_id,
                   try_cast(payload->>'$.created_at' as timestamp) as placed_at,
                   -- naive `YYYY-MM-DD HH:MM:SS` is UTC; an ISO value with an offset is converted
                   {_seconds_ahead("coalesce(try_cast(payload->>'$.created_at' || 'Z' as timestamptz), try_cast(payload->>'$.created_at' as timestamptz))")} as seconds_in_future,
                   try_cast(payload->>'$.total' as double) as total_amount,
                   payload->>'$.currency' as currency,
                   coalesce(nullif(payload->>'$.shipping_address.phone', ''), nullif(payload->>'$.phone', ''),
                            nullif(payload->>'$.customer.phone', '')) as phone
            from raw.lightfunnels_orders
            """,
        ),
        _orders_suite(
            "prestashop_orders",
            # date_add is the shop's wall-clock time: up to 14 h ahead of UTC, never more.
            """
            select payload->>'$.id' as order_id,
                   try_cast(payload->>'$.date_add' as timestamp) as placed_at,
                   epoch(try_cast(payload->>'$.date_add' as timestamp))
                       - epoch(cast(now() at time zone 'UTC' as timestamp)) - 14 * 3600 as seconds_in_future,
                   try_cast(payload->>'$.total_paid' as double) as total_amount,
                   -- the order carries only id_currency; the code is not in the pulled record
                   cast(null as varchar) as currency,
                   coalesce(nullif(payload->>'$.cod360_related.address_delivery.phone_mobile', ''),
                            nullif(payload->>'$.cod360_related.address_delivery.phone', '')) as phone,
                   payload->>'$.current_state' as status
            from raw.prestashop_orders
            """,
            # no status set: shops add their own order states (ids above 13)
        ),
        RawSuite(
            "tiktok_leads",
            """
            select payload->>'$.lead_id' as lead_id,
                   json_array_length(payload->'$.field_data') as answers,
                   (select count(*) from (select unnest(cast(payload->'$.field_data' as json[])) as f)
                     where lower(f->>'$.name') in ('phone_number', 'phone')) as phone_questions
            from raw.tiktok_leads
            """,
            (
                E.ExpectColumnValuesToNotBeNull(column="lead_id"),
                E.ExpectColumnValuesToBeBetween(column="answers", min_value=2),
                # Without a phone question a lead cannot be called: every form must ask it.
                E.ExpectColumnValuesToBeBetween(column="phone_questions", min_value=1),
            ),
        ),
        RawSuite(
            "carrier_tracking_events",
            f"""
            select lower(payload->>'$.carrier') as carrier,
                   payload->>'$.tracking_number' as tracking_number,
                   split_part(payload->>'$.order_ref', ':', 1) as order_platform,
                   nullif(trim(payload->>'$.raw_status'), '') as raw_status,
                   {_seconds_ahead("try_cast(payload->>'$.event_time' as timestamptz)")} as seconds_in_future
            from raw.carrier_tracking_events
            """,
            (
                E.ExpectColumnValuesToBeInSet(column="carrier", value_set=KNOWN_CARRIERS),
                E.ExpectColumnValuesToNotBeNull(column="tracking_number"),
                E.ExpectColumnValuesToNotBeNull(column="raw_status"),
                E.ExpectColumnValuesToBeInSet(column="order_platform", value_set=KNOWN_PLATFORMS),
                E.ExpectColumnValuesToBeBetween(
                    column="seconds_in_future", max_value=FUTURE_TOLERANCE_S
                ),
            ),
        ),
        RawSuite(
            "whatsapp_webhooks",
            """
            with changes as (
                select unnest(json_extract(payload, '$.entry[*].changes[*]')) as change from raw.whatsapp_webhooks
            ),
            events as (
                select change->>'$.field' as field,
                       change->>'$.value.messaging_product' as channel,
                       unnest(coalesce(
                           json_extract(change, '$.value.statuses[*].timestamp'),
                           json_extract(change, '$.value.messages[*].timestamp'),
                           json_extract(change, '$.value.user_preferences[*].timestamp'),
                           ['null'::json]
                       )) as ts,
                       json_extract_string(change, '$.value.statuses[*].status') as statuses
                from changes
            )
            select field, channel,
                   try_cast(ts->>'$' as bigint) - epoch(now()) as seconds_in_future
            from events
            """,
            (
                E.ExpectColumnValuesToBeInSet(
                    column="field",
                    value_set=[
                        "messages",
                        "user_preferences",
                        "message_template_status_update",
                        "account_update",
                    ],
                ),
                E.ExpectColumnValuesToBeInSet(column="channel", value_set=["whatsapp"]),
                E.ExpectColumnValuesToBeBetween(
                    column="seconds_in_future", max_value=FUTURE_TOLERANCE_S
                ),
            ),
        ),
        RawSuite(
            "sms_events",
            f"""
            select payload->>'$.direction' as direction,
                   payload->>'$.status' as status,
                   payload->>'$.phone' as phone,
                   {_seconds_ahead("try_cast(payload->>'$.event_time' as timestamptz)")} as seconds_in_future
            from raw.sms_events
            """,
            (
                E.ExpectColumnValuesToBeInSet(
                    column="direction", value_set=["outbound", "inbound"]
                ),
                E.ExpectColumnValuesToBeInSet(
                    column="status", value_set=["sent", "delivered", "failed", "received"]
                ),
                E.ExpectColumnValuesToNotBeNull(column="phone"),
                E.ExpectColumnValuesToBeBetween(
                    column="seconds_in_future", max_value=FUTURE_TOLERANCE_S
                ),
            ),
        ),
        RawSuite(
            "lead_signals",
            f"""
            select split_part(payload->>'$.order_ref', ':', 1) as order_platform,
                   try_cast(payload->>'$.time_on_page_s' as double) as time_on_page_s,
                   try_cast(payload->>'$.scroll_depth_pct' as double) as scroll_depth_pct,
                   try_cast(payload->>'$.products_viewed' as integer) as products_viewed,
                   {_seconds_ahead("try_cast(payload->>'$.event_time' as timestamptz)")} as seconds_in_future
            from raw.lead_signals
            """,
            (
                E.ExpectColumnValuesToBeInSet(column="order_platform", value_set=KNOWN_PLATFORMS),
                # A session longer than a day is a tab left open, not attention.
                E.ExpectColumnValuesToBeBetween(
                    column="time_on_page_s", min_value=0, max_value=86_400
                ),
                E.ExpectColumnValuesToBeBetween(
                    column="scroll_depth_pct", min_value=0, max_value=100
                ),
                E.ExpectColumnValuesToBeBetween(
                    column="products_viewed", min_value=0, max_value=500
                ),
                E.ExpectColumnValuesToBeBetween(
                    column="seconds_in_future", max_value=FUTURE_TOLERANCE_S
                ),
            ),
        ),
    ]
    return {suite.source: suite for suite in suites}


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None
    unexpected_examples: list[Any]


@dataclass
class SuiteOutcome:
    source: str
    rows: int
    success: bool
    expectations: list[ExpectationOutcome]

    def markdown(self) -> str:
        lines = [
            "| expectation | column | passed | unexpected | examples |",
            "| --- | --- | --- | ---: | --- |",
        ]
        for e in self.expectations:
            examples = ", ".join(repr(v) for v in e.unexpected_examples[:3]).replace("|", "/")
            lines.append(
                f"| {e.expectation} | {e.column or ''} | {'yes' if e.success else '**no**'} "
                f"| {e.unexpected_count if e.unexpected_count is not None else ''} | {examples} |"
            )
        return "\n".join(lines)


def validate_frame(suite: RawSuite, frame: pd.DataFrame) -> SuiteOutcome:
    """Run a suite on an extracted frame with an ephemeral great-expectations context."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas(f"raw_{suite.source}")
        .add_dataframe_asset(suite.source)
        .add_batch_definition_whole_dataframe("whole_table")
    )
    expectation_suite = context.suites.add(
        gx.ExpectationSuite(
            name=f"raw_{suite.source}", expectations=[e.copy() for e in suite.expectations]
        )
    )
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(
        expectation_suite
    )
    outcomes = [
        ExpectationOutcome(
            expectation=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            success=bool(r.success),
            unexpected_count=r.result.get("unexpected_count"),
            unexpected_examples=list(r.result.get("partial_unexpected_list") or []),
        )
        for r in result.results
    ]
    return SuiteOutcome(suite.source, len(frame), bool(result.success), outcomes)


def validate_source(conn: duckdb.DuckDBPyConnection, suite: RawSuite) -> SuiteOutcome:
    """Extract the suite's columns from the warehouse and validate them."""
    frame = conn.execute(suite.query).df()
    return validate_frame(suite, frame)
