"""great-expectations suites for the raw landing tables: guards of the batch.

Single records are the boundary's business: a record that lacks a field, has an
implausible value (``connectors/ingestion/domain_rules.py``) or cannot be parsed
is quarantined with its file, line and reason, and never reaches these tables.
The suites guard what no single record shows, and they stay blocking:

* **volume** — the share of records quarantined in a source's files (a broken
  export turns most of a file into quarantine; a handful of bad records does not);
* **unknown vocabulary** — the share of carriers, platforms, currencies, statuses or
  webhook fields cod360 does not know (a new carrier or a changed export format);
* **freshness** — how far a source's newest event is behind the newest event of
  the whole landing folder (a feed that stopped while the others go on).

Tolerances (``mostly``, maxima) are stated per expectation with the reason.

The batch is what the latest load brought (``raw.ingested_files.load_started_at``), and
at least the newest :data:`MIN_BATCH_RECORDS` records so that a share means something
on a load of a few records. Judged against the whole history, a broken delta was
diluted by the good past (1 % of new records in an unknown format is 1 % of the table)
and every run re-read every payload: the cost grew with the history, not the load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from common.privacy import mask_phones_in_text
from connectors.carriers.config import CarrierConfigError, load_accounts

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
    # Carrier APIs (connectors/carriers): Guepex shares Yalidine's API; an EcoTrack
    # courier's value is its account's `carrier` in accounts.yml, added below.
    "guepex",
    "ecotrack",
]
KNOWN_CURRENCIES = ["MAD", "EUR", "USD", "DZD", "TND", "EGP", "SAR", "AED"]
# More than this share of a source's records quarantined means a broken export.
MAX_QUARANTINED_SHARE = 0.05
# Below this many records read a share means nothing (a test drop, a first file).
MIN_RECORDS_FOR_SHARE = 50
# The batch a suite judges: the latest load, extended to at least this many of the newest
# records (a load of three records with one new carrier name is not a 33 % broken feed).
MIN_BATCH_RECORDS = 1000
# A source whose newest event is this far behind the landing folder's newest has stopped.
MAX_DAYS_BEHIND = 14
# A vocabulary cod360 does not know yet, up to this share, is a new value to map, not a
# broken feed (unknown carrier statuses themselves are dbt's to surface, as `unknown`).
KNOWN_VOCABULARY_SHARE = 0.95


def latest_load_started_at(source: str) -> str:
    """SQL: when the latest load of ``source`` started (1900 for files loaded before the
    column existed: then the batch is the whole table)."""
    return (
        "(select coalesce(max(load_started_at), timestamp '1900-01-01') "
        f"from raw.ingested_files where source = '{source}')"
    )


def batch_records(source: str, table: str | None = None) -> str:
    """SQL: the raw records of the batch (see the module's docstring)."""
    table = table or f"raw.{source}"
    return f"""(
        select * from {table}
        where loaded_at >= least(
            {latest_load_started_at(source)},
            coalesce(
                (select loaded_at from {table} order by loaded_at desc
                 limit 1 offset {MIN_BATCH_RECORDS - 1}),
                timestamp '1900-01-01'
            )
        )
    )"""


def _batch_query(source: str) -> str:
    """One row: the quarantined share of the latest load's files (of the whole history
    when they are too few to mean something) and the days behind, from the load manifest."""
    return f"""
        with latest as (
            select sum(records_read) as read, sum(records_quarantined) as quarantined
            from raw.ingested_files
            where source = '{source}' and load_started_at >= {latest_load_started_at(source)}
        ),
        everything as (
            select sum(records_read) as read, sum(records_quarantined) as quarantined
            from raw.ingested_files where source = '{source}'
        )
        select
            (select case when latest.read >= {MIN_RECORDS_FOR_SHARE}
                         then latest.quarantined * 1.0 / latest.read
                         when everything.read >= {MIN_RECORDS_FOR_SHARE}
                         then everything.quarantined * 1.0 / everything.read else 0 end
               from latest, everything) as quarantined_share,
            -- a source with no event yet is not behind: its volume is the other guard
            coalesce((select (epoch((select max(newest_event_at) from raw.ingested_files))
                              - epoch(max(newest_event_at))) / 86400.0
                        from raw.ingested_files where source = '{source}'), 0)
                as days_behind_newest_source
    """


def _batch_expectations() -> tuple[Any, ...]:
    E = gx.expectations
    return (
        E.ExpectColumnMaxToBeBetween(
            column="quarantined_share", min_value=0, max_value=MAX_QUARANTINED_SHARE
        ),
        E.ExpectColumnMaxToBeBetween(
            column="days_behind_newest_source", min_value=0, max_value=MAX_DAYS_BEHIND
        ),
    )


@dataclass(frozen=True)
class RawSuite:
    """Queries over one raw table and the expectations their results must meet: the
    record-level ``query`` (shares of unknown values) and the one-row ``batch_query``
    (volume, freshness)."""

    source: str
    query: str
    expectations: tuple[Any, ...] = field(default_factory=tuple)
    batch_query: str = ""
    batch_expectations: tuple[Any, ...] = field(default_factory=tuple)


def _suite(source: str, columns: str, expectations: list[Any], from_clause: str = "") -> RawSuite:
    """``from_clause`` may read ``{batch}``: the batch's records (:func:`batch_records`)."""
    batch = batch_records(source)
    return RawSuite(
        source,
        f"select {columns} "
        + (from_clause.format(batch=batch) if from_clause else f"from {batch} as batch"),
        tuple(expectations),
        _batch_query(source),
        _batch_expectations(),
    )


def _orders_suite(
    source: str, currency: str, phone: str, status: str | None = None, statuses=None
) -> RawSuite:
    E = gx.expectations
    expectations = [
        E.ExpectColumnValuesToBeInSet(
            column="currency", value_set=KNOWN_CURRENCIES, mostly=KNOWN_VOCABULARY_SHARE
        ),
        # Customers type their phone by hand; a few blank ones are real, many mean a broken form.
        E.ExpectColumnValuesToNotBeNull(column="phone", mostly=0.95),
    ]
    if statuses:
        expectations.append(
            E.ExpectColumnValuesToBeInSet(
                column="status", value_set=statuses, mostly=KNOWN_VOCABULARY_SHARE
            )
        )
    columns = f"{currency} as currency, {phone} as phone, {status or 'null'} as status"
    return _suite(source, columns, expectations)


def known_carriers() -> list[str]:
    """:data:`KNOWN_CARRIERS` and the carriers of the configured carrier API accounts
    (their pulls land them as the envelope's ``carrier``)."""
    try:
        configured = [a.carrier for a in load_accounts()]
    except CarrierConfigError:
        configured = []  # the carrier pull assets report the broken file
    return sorted({*KNOWN_CARRIERS, *configured})


def build_suites() -> dict[str, RawSuite]:
    """The suite of every raw source, by source name."""
    E = gx.expectations
    suites = [
        _orders_suite(
            "shopify_orders",
            "payload->>'$.totalPriceSet.shopMoney.currencyCode'",
            "coalesce(payload->>'$.shippingAddress.phone', payload->>'$.phone', "
            "payload->>'$.customer.phone')",
        ),
        _orders_suite(
            "shopify_webhook_orders",
            "payload->>'$.currency'",
            "coalesce(payload->>'$.shipping_address.phone', payload->>'$.phone', "
            "payload->>'$.customer.phone')",
        ),
        _orders_suite(
            "woocommerce_orders",
            "payload->>'$.currency'",
            "nullif(coalesce(payload->>'$.billing.phone', payload->>'$.shipping.phone'), '')",
            "payload->>'$.status'",
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
            "payload->>'$.currency'",
            "coalesce(payload->>'$.customer.phone', payload->>'$.shipping.address.phone')",
        ),
        _orders_suite(
            "lightfunnels_orders",
            "payload->>'$.currency'",
            "coalesce(nullif(payload->>'$.shipping_address.phone', ''), "
            "nullif(payload->>'$.phone', ''), nullif(payload->>'$.customer.phone', ''))",
        ),
        _orders_suite(
            "prestashop_orders",
            # the order carries only id_currency; the code is not in the pulled record
            "'MAD'",
            "coalesce(nullif(payload->>'$.cod360_related.address_delivery.phone_mobile', ''), "
            "nullif(payload->>'$.cod360_related.address_delivery.phone', ''))",
            # no status set: shops add their own order states (ids above 13)
        ),
        _suite("tiktok_leads", "payload->>'$.lead_id' as lead_id", []),
        _suite(
            "carrier_tracking_events",
            "lower(payload->>'$.carrier') as carrier, "
            "split_part(payload->>'$.order_ref', ':', 1) as order_platform",
            [
                E.ExpectColumnValuesToBeInSet(
                    column="carrier", value_set=known_carriers(), mostly=KNOWN_VOCABULARY_SHARE
                ),
                E.ExpectColumnValuesToBeInSet(
                    column="order_platform",
                    value_set=KNOWN_PLATFORMS,
                    mostly=KNOWN_VOCABULARY_SHARE,
                ),
            ],
        ),
        _suite(
            "whatsapp_webhooks",
            "change->>'$.field' as field, change->>'$.value.messaging_product' as channel",
            [
                E.ExpectColumnValuesToBeInSet(
                    column="field",
                    value_set=[
                        "messages",
                        "user_preferences",
                        "message_template_status_update",
                        "account_update",
                    ],
                    mostly=KNOWN_VOCABULARY_SHARE,
                ),
                E.ExpectColumnValuesToBeInSet(
                    column="channel", value_set=["whatsapp"], mostly=KNOWN_VOCABULARY_SHARE
                ),
            ],
            from_clause=(
                "from (select unnest(json_extract(payload, '$.entry[*].changes[*]')) as change "
                "from {batch} as batch)"
            ),
        ),
        _suite("sms_events", "payload->>'$.provider' as provider", []),
        _suite("email_events", "payload->>'$.provider' as provider", []),
        _suite(
            "lead_signals",
            "split_part(payload->>'$.order_ref', ':', 1) as order_platform",
            [
                E.ExpectColumnValuesToBeInSet(
                    column="order_platform",
                    value_set=KNOWN_PLATFORMS,
                    mostly=KNOWN_VOCABULARY_SHARE,
                ),
            ],
        ),
        # A statement from a carrier cod360 does not know, or in a currency it does not
        # know, is a new contract or a changed export, not a handful of bad lines.
        _suite(
            "carrier_remittances",
            "lower(payload->>'$.carrier') as carrier, payload->>'$.currency' as currency",
            [
                E.ExpectColumnValuesToBeInSet(
                    column="carrier", value_set=known_carriers(), mostly=KNOWN_VOCABULARY_SHARE
                ),
                E.ExpectColumnValuesToBeInSet(
                    column="currency", value_set=KNOWN_CURRENCIES, mostly=KNOWN_VOCABULARY_SHARE
                ),
            ],
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
            examples = mask_phones_in_text(
                ", ".join(repr(v) for v in e.unexpected_examples[:3])
            ).replace("|", "/")
            lines.append(
                f"| {e.expectation} | {e.column or ''} | {'yes' if e.success else '**no**'} "
                f"| {e.unexpected_count if e.unexpected_count is not None else ''} | {examples} |"
            )
        return "\n".join(lines)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (for readable metadata)."""
    return value.item() if hasattr(value, "item") else value


def validate_frame(
    suite: RawSuite, frame: pd.DataFrame, expectations: tuple[Any, ...] | None = None
) -> SuiteOutcome:
    """Run a suite's ``expectations`` (default: the record-level ones) on an extracted
    frame with an ephemeral great-expectations context."""
    expectations = suite.expectations if expectations is None else expectations
    if not expectations:
        return SuiteOutcome(suite.source, len(frame), True, [])
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
            name=f"raw_{suite.source}", expectations=[e.copy() for e in expectations]
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
            unexpected_examples=list(
                r.result.get("partial_unexpected_list")
                or ([_plain(r.result["observed_value"])] if "observed_value" in r.result else [])
            ),
        )
        for r in result.results
    ]
    return SuiteOutcome(suite.source, len(frame), bool(result.success), outcomes)


def validate_source(conn: duckdb.DuckDBPyConnection, suite: RawSuite) -> SuiteOutcome:
    """Extract the suite's columns from the warehouse and validate them: the batch
    expectations on the one-row batch frame, the others on the records."""
    records = validate_frame(suite, conn.execute(suite.query).df())
    if not suite.batch_query:
        return records
    batch = validate_frame(suite, conn.execute(suite.batch_query).df(), suite.batch_expectations)
    return SuiteOutcome(
        suite.source,
        records.rows,
        records.success and batch.success,
        [*batch.expectations, *records.expectations],
    )
