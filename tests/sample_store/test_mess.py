"""The deliberate mess is there, and every bad record is counted in the summary."""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import Counter, defaultdict
from datetime import datetime

import duckdb
import phonenumbers
import pytest

from connectors import ingestion
from sandbox.sample_store import SOURCES
from sandbox.sample_store.world import UNKNOWN_CARRIER_STATUSES

JSON_SOURCES = {
    "shopify_orders": ("orders/shopify/*.jsonl", "id"),
    "woocommerce_orders": ("orders/woocommerce/*.jsonl", "id"),
    "youcan_orders": ("orders/youcan/*.jsonl", "id"),
    "tiktok_leads": ("leads/tiktok/*.jsonl", "lead_id"),
    "sms_events": ("messages/sms/*.jsonl", "message_id"),
    "lead_signals": ("signals/**/*.jsonl", "session_id"),
    "carrier_tracking_events": ("tracking/**/*.jsonl", "tracking_number"),
    "carrier_remittances": ("remittances/**/*.jsonl", "statement_id"),
}


def _aware(text: str | None) -> bool:
    try:
        return datetime.fromisoformat((text or "").replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


@pytest.mark.parametrize("source", sorted(JSON_SOURCES))
def test_malformed_and_incomplete_lines_are_counted(small_store, source):
    pattern, required = JSON_SOURCES[source]
    records, broken = small_store.json_lines(pattern)
    bad = small_store.summary.bad_records_by_source[source]
    assert len(broken) == bad["malformed_json"] >= 1
    missing = [r for r in records if required not in r]
    if source == "carrier_tracking_events":  # the CSV rows' share is checked below
        assert 1 <= len(missing) <= bad["missing_field"]
    else:
        assert len(missing) == bad["missing_field"] >= 1


def test_whatsapp_bad_bodies_are_counted(small_store):
    records, broken = small_store.json_lines("messages/whatsapp/*.jsonl")
    bad = small_store.summary.bad_records_by_source["whatsapp_webhooks"]
    assert len(broken) == bad["malformed_json"] >= 1
    assert sum(1 for body in records if "id" not in body["entry"][0]) == bad["missing_field"] >= 1


def test_csv_carrier_bad_rows_are_counted(small_store):
    short = missing = bad_time = 0
    for path in small_store.files("tracking/**/*.csv"):
        lines = path.read_text(encoding="utf-8").splitlines()
        header = next(csv.reader([lines[0]]))
        for line in lines[1:]:
            values = next(csv.reader([line]))
            if len(values) != len(header):
                short += 1
                continue
            row = dict(zip(header, values, strict=True))
            missing += row["tracking_number"] == ""
            bad_time += not _aware(row["event_time"])
    jsonl_missing = sum(
        1 for r in small_store.json_lines("tracking/**/*.jsonl")[0] if "tracking_number" not in r
    )
    bad = small_store.summary.bad_records_by_source["carrier_tracking_events"]
    assert short == bad.get("malformed_row", 0)
    assert missing + jsonl_missing == bad["missing_field"]
    assert bad_time == bad["bad_timestamp"] >= 1


def test_ingestion_quarantines_exactly_the_bad_records(small_store):
    """Run the real ingestion: read = loaded + quarantined, quarantined = the summary's count."""
    conn = duckdb.connect(":memory:")
    expected = small_store.summary.expected_quarantine_by_source
    for source in ingestion.LANDING_SOURCES:
        report = ingestion.ingest_source(conn, source, small_store.landing)
        assert report.reconciles
        if source.name not in SOURCES:  # a platform the sample store does not simulate
            assert report.records_read == 0, source.name
            continue
        assert report.records_read == small_store.summary.records_by_source[source.name]
        assert report.records_quarantined == expected[source.name] >= 2, source.name
    assert set(expected) == set(SOURCES)


def test_phones_are_written_many_ways(small_store):
    customers = {row["customer_id"]: row for row in small_store.truth_customers()}
    by_ref = {row["order_ref"]: customers[row["customer_id"]] for row in small_store.truth_orders()}
    spellings: dict[str, set[str]] = defaultdict(set)
    styles = set()
    records, _ = small_store.json_lines("orders/shopify/*.jsonl")
    for r in records:
        if "id" in r:
            customer = by_ref["shopify:" + r["id"].rsplit("/", 1)[1]]
            spellings[customer["customer_id"]].add(r["phone"])
    for platform, pattern in (
        ("woocommerce", "orders/woocommerce/*.jsonl"),
        ("youcan", "orders/youcan/*.jsonl"),
    ):
        records, _ = small_store.json_lines(pattern)
        for r in records:
            if "id" not in r:
                continue
            phone = r["billing"]["phone"] if platform == "woocommerce" else r["customer"]["phone"]
            spellings[by_ref[f"{platform}:{r['id']}"]["customer_id"]].add(phone)
    for customer_id, phones in spellings.items():
        customer = customers[customer_id]
        for phone in phones:
            styles.add(_shape(phone))
            parsed = phonenumbers.parse(phone, "MA")
            if customer["phone_valid"] == "true":
                assert phonenumbers.is_valid_number(parsed), phone
                assert (
                    phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                    == customer["phone_e164"]
                )
            else:
                assert phone == customer["phone_as_typed_when_invalid"]
                assert not phonenumbers.is_valid_number(parsed)
    assert sum(1 for phones in spellings.values() if len(phones) > 1) >= 5
    expected = {
        "0612345678",
        "06 12 34 56 78",
        "+212 6-12-34-56-78",
        "00212612345678",
        "212612345678",
        "+212612345678",
    }
    assert {_shape(p) for p in expected} <= styles


def _shape(phone: str) -> str:
    return re.sub(r"\d", "d", phone)


def test_invalid_numbers_are_a_small_share(moderate_store):
    customers = moderate_store.truth_customers()
    invalid = [c for c in customers if c["phone_valid"] == "false"]
    assert 0 < len(invalid) < 0.02 * len(customers)
    assert len(invalid) == moderate_store.summary.invalid_phone_customers
    for customer in invalid:
        parsed = phonenumbers.parse(customer["phone_as_typed_when_invalid"], "MA")
        assert not phonenumbers.is_valid_number(parsed)


def test_duplicated_webhooks_late_events_and_skipped_delivered(small_store):
    summary = small_store.summary
    lines = []
    for path in small_store.files("messages/whatsapp/*.jsonl"):
        lines.extend(path.read_text(encoding="utf-8").splitlines())
    copies = Counter(lines)
    assert (
        sum(n - 1 for n in copies.values())
        == summary.duplicates_by_source["whatsapp_webhooks"]
        >= 1
    )

    # late arrivals: a status whose timestamp is more than an hour before the previous line's
    stamps = []
    statuses: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        try:
            value = json.loads(line)["entry"][0]["changes"][0]["value"]
        except (json.JSONDecodeError, KeyError):
            continue
        for status in value.get("statuses", []):
            stamps.append(int(status["timestamp"]))
            statuses[status["id"]].add(status["status"])
    assert summary.out_of_order_by_source["whatsapp_webhooks"] >= 1
    assert any(later < earlier - 3600 for earlier, later in itertools.pairwise(stamps))
    read_only = sum(1 for s in statuses.values() if "read" in s and "delivered" not in s)
    assert read_only >= summary.read_without_delivered >= 1


def test_unknown_carrier_statuses_are_counted(moderate_store):
    seen = set()
    records, _ = moderate_store.json_lines("tracking/**/*.jsonl")
    rows = moderate_store.csv_rows("tracking/**/*.csv")
    for r in records + rows:
        if (
            r.get("raw_status") in UNKNOWN_CARRIER_STATUSES
            and r.get("tracking_number")
            and _aware(r.get("event_time"))
        ):
            seen.add((r["tracking_number"], r["raw_status"]))
    assert len(seen) == moderate_store.summary.unknown_carrier_statuses >= 5


def test_no_mess_means_clean(clean_store, small_store):
    summary = clean_store.summary
    assert summary.invalid_phone_customers == 0
    assert summary.read_without_delivered == 0
    assert all(n == 0 for n in summary.out_of_order_by_source.values())
    records, _ = clean_store.json_lines("orders/woocommerce/*.jsonl")
    assert {r["billing"]["phone"][:4] for r in records} == {"+212"}
    # the mess does not change who ordered what
    assert len(clean_store.truth_orders()) == len(small_store.truth_orders())
