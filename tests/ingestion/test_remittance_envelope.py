"""The remittance envelope (docs/landing.md): good statement lines load, as JSON lines
and as CSV; bad ones are quarantined with file, line, field and reason, never stopping
the good ones; a file ingested twice adds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.warehouse import connect
from connectors.ingestion import SOURCES_BY_NAME, ingest_source, table_counts

SOURCE = "carrier_remittances"
GOOD_LINE = {
    "carrier": "ameex",
    "statement_id": "AMX-RS-20260302",
    "period_start": "2026-03-02",
    "period_end": "2026-03-08",
    "payout_date": "2026-03-11",
    "currency": "MAD",
    "tracking_number": "AMX1000000007",
    "order_ref": "woocommerce:10242",
    "amount_collected": 349.0,
    "fees": 33.49,
    "paid_out_amount": 315.51,
}
CSV_HEADER = (
    "carrier,statement_id,period_start,period_end,payout_date,currency,tracking_number,"
    "order_ref,amount_collected,fees,paid_out_amount"
)


def _write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _ingest(warehouse: Path, landing: Path):
    with connect(warehouse) as conn:
        report = ingest_source(conn, SOURCES_BY_NAME[SOURCE], landing)
        quarantine = conn.execute(
            "select source_file, line_number, field, reason from raw.quarantine "
            "where source = ? order by source_file, line_number",
            [SOURCE],
        ).fetchall()
        loaded = conn.execute(
            f"select source_file, line_number, payload from raw.{SOURCE} "
            "order by source_file, line_number"
        ).fetchall()
        counts = table_counts(conn, SOURCES_BY_NAME[SOURCE])
    return report, quarantine, loaded, counts


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "warehouse.duckdb", tmp_path / "landing"


def _line(**changes) -> str:
    record = {**GOOD_LINE, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False)


def test_good_lines_load_with_either_parcel_key(paths):
    warehouse, landing = paths
    _write(
        landing / "remittances/ameex/statements_2026-03.jsonl",
        [
            _line(),
            _line(order_ref=None, tracking_number="AMX1000000014"),  # tracking number only
            _line(tracking_number=None, order_ref="shopify:5612"),  # order ref only
            _line(amount_collected="298.00", fees="31.50", paid_out_amount="1234.56"),
            _line(extra_vendor_field={"agency": "Casa Nord"}),  # vendors add fields: kept
        ],
    )
    report, quarantine, loaded, counts = _ingest(warehouse, landing)
    assert quarantine == []
    assert (report.records_read, report.records_loaded) == (5, 5)
    assert [line for _f, line, _p in loaded] == [1, 2, 3, 4, 5]
    assert json.loads(loaded[4][2])["extra_vendor_field"] == {"agency": "Casa Nord"}
    assert counts == {"read": 5, "loaded": 5, "quarantined": 0}


def test_bad_lines_are_quarantined_with_file_line_field_and_reason(paths):
    warehouse, landing = paths
    bad = [
        _line(),  # 1: good
        _line(tracking_number=None, order_ref=None),  # 2: names no parcel
        _line(period_end="2026-02-30"),  # 3: not a calendar date
        _line(payout_date="11/03/2026"),  # 4: not YYYY-MM-DD
        _line(payout_date="2026-03-11T10:00:00+01:00"),  # 5: a time where a date is documented
        _line(amount_collected=-12.5),  # 6: negative cash
        _line(fees="12,50"),  # 7: a decimal comma
        _line(paid_out_amount=None),  # 8: missing
        _line(currency="mad"),  # 9: not an ISO code
        _line(order_ref="10242"),  # 10: not a "<platform>:<id>" reference
        _line(statement_id="  "),  # 11: blank
        _line(payout_date="2099-01-01"),  # 12: in the future of the load
        '{"carrier": "ameex", "statement_id": "AMX-RS-2026',  # 13: truncated
        _line(tracking_number="AMX1000000021"),  # 14: good
    ]
    _write(landing / "remittances/ameex/statements_2026-03.jsonl", bad)
    report, quarantine, loaded, _ = _ingest(warehouse, landing)
    assert report.reconciles
    assert (report.records_read, report.records_loaded, report.records_quarantined) == (14, 2, 12)
    assert [line for _f, line, _p in loaded] == [1, 14]
    assert {file for file, *_ in quarantine} == {"remittances/ameex/statements_2026-03.jsonl"}
    by_line = {line: (field, reason) for _file, line, field, reason in quarantine}
    assert by_line[2] == (
        "order_ref",
        "field 'order_ref' = None: Value error, "
        "a remittance line needs a tracking_number or an order_ref",
    )
    assert by_line[3][0] == "period_end" and "not a calendar date" in by_line[3][1]
    assert by_line[4][0] == "payout_date" and "YYYY-MM-DD" in by_line[4][1]
    assert by_line[5][0] == "payout_date" and "YYYY-MM-DD" in by_line[5][1]
    assert by_line[6] == (
        "amount_collected",
        "field 'amount_collected' = -12.5: amount is negative",
    )
    assert by_line[7][0] == "fees" and "not a decimal amount" in by_line[7][1]
    assert by_line[8] == ("paid_out_amount", "missing required field 'paid_out_amount'")
    assert by_line[9][0] == "currency"
    assert by_line[10][0] == "order_ref"
    assert by_line[11][0] == "statement_id"
    assert by_line[12] == (
        "payout_date",
        "field 'payout_date' = '2099-01-01': in the future of the load time",
    )
    assert by_line[13][0] is None and by_line[13][1].startswith("invalid JSON")


def test_csv_statements_are_validated_like_json(paths):
    warehouse, landing = paths
    _write(
        landing / "remittances/sendit/statements_2026-03.csv",
        [
            CSV_HEADER,
            "sendit,SDT-PAY-20260302,2026-03-02,2026-03-08,2026-03-10,MAD,SDT1,youcan:ab-1,"
            "298.00,29.47,268.53",
            # no order ref: the tracking number names the parcel
            "sendit,SDT-PAY-20260302,2026-03-02,2026-03-08,2026-03-10,MAD,SDT2,,150,27.25,268.53",
            # neither
            "sendit,SDT-PAY-20260302,2026-03-02,2026-03-08,2026-03-10,MAD,,,150,27.25,268.53",
            "sendit,SDT-PAY-20260302,2026-03-02,2026-03-08,10/03/2026,MAD,SDT3,,150,27.25,268.53",
            "sendit,SDT-PAY-20260302,2026-03-02",  # a short row
        ],
    )
    report, quarantine, loaded, _ = _ingest(warehouse, landing)
    assert (report.records_read, report.records_loaded, report.records_quarantined) == (5, 2, 3)
    assert [(line, field) for _f, line, field, _r in quarantine] == [
        (4, "order_ref"),
        (5, "payout_date"),
        (6, None),
    ]
    assert "columns" in quarantine[2][3]
    payloads = [json.loads(p) for _f, _l, p in loaded]
    assert [p.get("order_ref") for p in payloads] == ["youcan:ab-1", None]
    assert payloads[1]["tracking_number"] == "SDT2"


def test_ingesting_the_same_statement_twice_adds_nothing(paths):
    warehouse, landing = paths
    _write(landing / "remittances/ameex/statements_2026-03.jsonl", [_line(), "not json"])
    first, *_ = _ingest(warehouse, landing)
    second, _q, loaded, counts = _ingest(warehouse, landing)
    assert (first.records_loaded, first.records_quarantined) == (1, 1)
    assert second.records_read == 0
    assert len(loaded) == 1
    assert counts == {"read": 2, "loaded": 1, "quarantined": 1}
