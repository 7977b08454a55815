"""The ingestion boundary: files as exporters write them, one set of value-domain rules,
and nothing a customer would not want printed (one test per finding of the issue)."""

from __future__ import annotations

import codecs
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.warehouse import connect
from connectors.ingestion import SOURCES_BY_NAME, ingest_source, table_counts

LOAD_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CSV_HEADER = "carrier,tracking_number,order_ref,raw_status,event_time,city,comment,event_id"
EVENT = {
    "carrier": "sendit",
    "tracking_number": "S-1",
    "order_ref": "woocommerce:42",
    "raw_status": "livré",
    "event_time": "2026-03-02T10:00:00+01:00",
    "city": "Fès",
}
SHOPIFY = {
    "id": "gid://shopify/Order/5123456789",
    "createdAt": "2026-03-01T10:00:00Z",
    "updatedAt": "2026-03-01T10:05:00Z",
    "phone": "+212612345678",
    "totalPriceSet": {"shopMoney": {"amount": "299.00", "currencyCode": "MAD"}},
    "lineItems": {"nodes": [{"title": "Sérum", "quantity": 1}]},
}


def _csv_row(i: int, comment: str = "", city: str = "Fès") -> str:
    return f"sendit,S-{i},woocommerce:{i},livré,2026-03-02T10:00:00+01:00,{city},{comment},E{i}"


@pytest.fixture
def land(tmp_path: Path):
    """Write one landing file (bytes or text) and ingest its source at a fixed load time."""
    warehouse, landing = tmp_path / "warehouse.duckdb", tmp_path / "landing"

    def _land(rel: str, content: bytes | str, source: str):
        path = landing / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        with connect(warehouse) as conn:
            report = ingest_source(conn, SOURCES_BY_NAME[source], landing, load_time=LOAD_TIME)
            quarantine = conn.execute(
                "select line_number, field, reason, raw_text from raw.quarantine "
                "where source = ? order by line_number",
                [source],
            ).fetchall()
            loaded = conn.execute(
                f"select line_number, payload from raw.{SOURCES_BY_NAME[source].raw_table} "
                "order by line_number"
            ).fetchall()
            counts = table_counts(conn, SOURCES_BY_NAME[source])
        assert counts["read"] == counts["loaded"] + counts["quarantined"]
        return report, quarantine, [(line, json.loads(p)) for line, p in loaded]

    return _land


def test_an_excel_csv_with_a_byte_order_mark_loads_every_row(land):
    rows = [_csv_row(i) for i in range(83)]
    content = codecs.BOM_UTF8 + "\r\n".join([CSV_HEADER, *rows, ""]).encode()
    report, quarantine, loaded = land(
        "tracking/sendit/excel.csv", content, "carrier_tracking_events"
    )
    assert (report.records_loaded, report.records_quarantined) == (83, 0), quarantine[:3]
    assert loaded[0][1]["carrier"] == "sendit" and "\ufeffcarrier" not in loaded[0][1]


def test_a_json_lines_file_with_a_bom_loads_its_first_record(land):
    content = codecs.BOM_UTF8 + (json.dumps(EVENT) + "\r\n" + json.dumps(EVENT) + "\r\n").encode()
    report, quarantine, _ = land("tracking/ameex/bom.jsonl", content, "carrier_tracking_events")
    assert (report.records_loaded, report.records_quarantined) == (2, 0), quarantine


def test_a_utf16_export_with_its_bom_is_decoded(land):
    content = codecs.BOM_UTF16_LE + "\r\n".join([CSV_HEADER, _csv_row(1), ""]).encode("utf-16-le")
    report, _, loaded = land("tracking/sendit/unicode.csv", content, "carrier_tracking_events")
    assert report.records_loaded == 1 and loaded[0][1]["city"] == "Fès"


def test_quoted_newlines_and_unicode_separators_stay_in_one_record_at_its_first_line(land):
    comments = [
        '"client injoignable\nrappeler demain"',  # quoted newline: lines 2-3
        '"a\r\nb\r\nc"',  # quoted CRLFs: lines 4-6
        "sonner\u2028deux fois",  # U+2028 is not a line break in CSV
        "page\fsuivante",  # form feed
        "groupe\x1cséparé\x1d\x1e",  # information separators
        "NEL\x85fin",
    ]
    lines = [CSV_HEADER, *(_csv_row(i, c) for i, c in enumerate(comments))]
    report, quarantine, loaded = land(
        "tracking/sendit/multi.csv", "\n".join(lines) + "\n", "carrier_tracking_events"
    )
    assert (report.records_read, report.records_loaded) == (6, 6), quarantine
    assert [line for line, _ in loaded] == [2, 4, 7, 8, 9, 10]
    assert loaded[0][1]["comment"] == "client injoignable\nrappeler demain"
    assert loaded[2][1]["comment"] == "sonner\u2028deux fois"
    assert loaded[4][1]["event_id"] == "E4"


def test_a_stray_quote_costs_only_its_own_line(land):
    lines = [CSV_HEADER, _csv_row(1), _csv_row(2, '"oops'), _csv_row(3), _csv_row(4)]
    _report, quarantine, loaded = land(
        "tracking/sendit/stray.csv", "\n".join(lines) + "\n", "carrier_tracking_events"
    )
    assert [line for line, _ in loaded] == [2, 4, 5]
    assert [(line, reason[:18]) for line, _f, reason, _r in quarantine] == [
        (3, "malformed CSV row ")
    ]


def test_latin1_bytes_are_quarantined_in_csv_as_in_json_lines(land):
    csv_bytes = "\n".join([CSV_HEADER, _csv_row(1), _csv_row(2, city="Fès"), ""]).encode("latin-1")
    report, quarantine, loaded = land(
        "tracking/sendit/latin1.csv", csv_bytes, "carrier_tracking_events"
    )
    assert (report.records_loaded, report.records_quarantined) == (0, 2)
    assert all(r.startswith("not valid UTF-8: byte 0xE9") for _l, _f, r, _raw in quarantine)
    assert "\\xe9" in quarantine[0][3]  # the raw text keeps the byte, escaped, for repair
    json_bytes = json.dumps(EVENT, ensure_ascii=False).encode("latin-1") + b"\n"
    report, quarantine, _ = land(
        "tracking/ameex/latin1.jsonl", json_bytes, "carrier_tracking_events"
    )
    assert report.records_quarantined == 1
    assert quarantine[-1][2].startswith("not valid UTF-8: byte 0xE9")
    assert not any("\ufffd" in str(payload) for _, payload in loaded)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ('"1e308"', "not a decimal amount"),
        ('"NaN"', "not a decimal amount"),
        ('"Infinity"', "not a decimal amount"),
        ("NaN", "invalid JSON: NaN is not a JSON number"),
        ("1e400", "invalid JSON: the number 1e400 is out of range"),
        ('"-5.00"', "amount is negative"),
        ('"250000"', "amount above 100,000"),
    ],
)
def test_totals_that_would_break_the_decimal_cast_are_quarantined(land, amount, expected):
    text = json.dumps(SHOPIFY).replace('"299.00"', amount)
    report, quarantine, _ = land("orders/shopify/o.jsonl", text + "\n", "shopify_orders")
    assert report.records_quarantined == 1
    (_line, field, reason, _raw), *_ = quarantine
    assert expected in reason
    if not reason.startswith("invalid JSON"):
        assert field == "totalPriceSet.shopMoney.amount"


def test_unix_seconds_where_iso_is_documented_are_quarantined_but_tiktok_may_send_them(land):
    woo = {"id": 1, "status": "pending", "total": "10", "date_modified_gmt": "2026-03-01T10:00:00"}
    report, quarantine, _ = land(
        "orders/woocommerce/o.jsonl",
        json.dumps({**woo, "date_created_gmt": 1772362800}) + "\n",
        "woocommerce_orders",
    )
    assert report.records_quarantined == 1
    assert quarantine[0][1] == "date_created_gmt" and "unix seconds where" in quarantine[0][2]
    lead = {
        "lead_id": "L1",
        "field_data": [
            {"name": "full_name", "values": ["Amina"]},
            {"name": "phone_number", "values": ["0612345678"]},
        ],
    }
    lines = [
        json.dumps({**lead, "create_time": 1772362800}),
        json.dumps({**lead, "create_time": "2026-03-01T10:00:00Z"}),
    ]
    report, _, _ = land("leads/tiktok/l.jsonl", "\n".join(lines) + "\n", "tiktok_leads")
    assert report.records_loaded == 2


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2099-12-31T00:00:00Z", "in the future of the load time"),
        ("0001-01-01T00:00:00Z", "before 2006-"),
        ("1970-01-01T00:00:00Z", "before 2006-"),
        ("2026-11-01T12:30:00+00:00", "in the future"),  # 30 min after the load
        ("2026-02-31T10:00:00Z", "not a calendar time"),
        ("31/02/2026 25:61", "not in the documented format"),
    ],
)
def test_timestamps_outside_the_plausible_window_are_quarantined(land, when, expected):
    text = json.dumps({**SHOPIFY, "createdAt": when})
    report, quarantine, _ = land("orders/shopify/o.jsonl", text + "\n", "shopify_orders")
    assert report.records_quarantined == 1
    assert quarantine[0][1] == "createdAt" and expected in quarantine[0][2]


def test_a_wall_clock_time_may_be_ahead_of_utc_by_the_shop_offset(land):
    order = {
        "id": 7,
        "current_state": 13,
        "total_paid": "199.000000",
        "date_add": "2026-11-01 20:00:00",
    }
    report, quarantine, _ = land(
        "orders/prestashop/s/p.jsonl",
        json.dumps({**order, "date_upd": "2026-11-01 20:00:00"}) + "\n",
        "prestashop_orders",
    )
    assert report.records_loaded == 1, quarantine


def test_values_dbt_casts_inside_lists_are_checked_too(land):
    bad_quantity = {**SHOPIFY, "lineItems": {"nodes": [{"quantity": 1}, {"quantity": "2.5"}]}}
    tags_not_list = {**SHOPIFY, "tags": "cod-confirmed"}
    lines = [json.dumps(bad_quantity), json.dumps(tags_not_list)]
    _, quarantine, _ = land("orders/shopify/o.jsonl", "\n".join(lines) + "\n", "shopify_orders")
    assert [field for _l, field, _r, _raw in quarantine] == ["lineItems.nodes[1].quantity", "tags"]


def test_duplicate_keys_nul_and_lone_surrogates_are_quarantined(land):
    event = json.dumps(EVENT)
    lines = [
        event[:-1] + ', "carrier": "ozon_express"}',
        json.dumps({**EVENT, "comment": "a\x00b"}),
        event[:-1] + ', "comment": "\\ud800"}',
    ]
    report, quarantine, _ = land(
        "tracking/ameex/odd.jsonl", "\n".join(lines) + "\n", "carrier_tracking_events"
    )
    assert report.records_quarantined == 3
    reasons = [reason for _l, _f, reason, _raw in quarantine]
    assert "duplicate key 'carrier'" in reasons[0]
    assert "NUL" in reasons[1] and "surrogate" in reasons[2]


def test_no_raw_phone_reaches_a_reason_or_the_asset_metadata(land, tmp_path: Path):
    from orchestration.defs.ingestion.assets import _quarantine_preview, _reasons_markdown

    sms = {
        "provider": "infobip",
        "message_id": "m1",
        "direction": "+212 6-12-34-56-78",  # a phone typed in the wrong column
        "phone": "0612345678",
        "status": "sent",
        "event_time": "2026-03-01T10:00:00+01:00",
    }
    record = json.dumps(sms)
    report, quarantine, _ = land(
        "messages/sms/s.jsonl", record + '\n["0612345678"]\n', "sms_events"
    )
    assert report.records_quarantined == 2
    for _line, _field, reason, _raw in quarantine:
        assert "12-34-56-78" not in reason and "0612345678" not in reason
    assert "+2126****5678" in quarantine[0][2]
    with connect(tmp_path / "warehouse.duckdb") as conn:
        # A row written before reasons were masked is masked in the preview too.
        conn.execute(
            "insert into raw.quarantine values ('sms_events', 'old.jsonl', 1, 'phone', "
            "'field ''phone'' = ''0661234567'': bad', null, 'sha', now())"
        )
        preview = _quarantine_preview(conn, SOURCES_BY_NAME["sms_events"])
    assert "0661234567" not in preview and "0661**4567" in preview
    assert "0612345678" not in _reasons_markdown(report.quarantine_reasons())


def test_a_small_seeded_fuzz_loses_no_good_record(tmp_path: Path):
    from benchmarks.boundary_fuzz import run_fuzz

    result = run_fuzz(tmp_path, records=400, seed=5, customers=40)
    assert result.crashes == 0
    assert result.good_lost == [], result.good_lost[:5]
    assert result.bad_loaded == [], result.bad_loaded[:5]
    assert result.unreconciled_files == []
    assert result.mutated >= 400


def test_what_the_warehouse_refuses_as_json_is_quarantined_not_a_crash(land, monkeypatch):
    """The last safety net: if the checks above ever let through a payload DuckDB's JSON
    parser refuses, that record is quarantined and the file still loads."""
    from connectors.ingestion import loader

    monkeypatch.setattr(loader, "text_problem", lambda *_: None)  # blind the check
    event = json.dumps(EVENT)
    lines = [event, event[:-1] + ', "comment": "\\ud800"}']
    report, quarantine, loaded = land(
        "tracking/ameex/net.jsonl", "\n".join(lines) + "\n", "carrier_tracking_events"
    )
    assert (report.records_loaded, report.records_quarantined) == (1, 1)
    assert [line for line, _ in loaded] == [1]
    assert quarantine[0][:3] == (2, None, "invalid JSON for the warehouse")
