"""Landing files → raw tables: quarantine with reasons, reconciliation, idempotency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.warehouse import connect
from connectors.ingestion import SOURCES_BY_NAME, ingest_source, table_counts

GOOD_EVENT = {
    "carrier": "ameex",
    "tracking_number": "AMX-1",
    "order_ref": "shopify:1001",
    "raw_status": "Livré",
    "event_time": "2026-03-01T14:05:00+01:00",
    "city": "Casablanca",
}


def _write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _ingest(warehouse: Path, landing: Path, source: str):
    with connect(warehouse) as conn:
        report = ingest_source(conn, SOURCES_BY_NAME[source], landing)
        quarantine = conn.execute(
            "select source_file, line_number, field, reason, raw_text from raw.quarantine "
            "where source = ? order by source_file, line_number",
            [source],
        ).fetchall()
        counts = table_counts(conn, SOURCES_BY_NAME[source])
    return report, quarantine, counts


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "warehouse.duckdb", tmp_path / "landing"


def test_bad_records_are_quarantined_with_file_line_and_field(paths):
    warehouse, landing = paths
    missing_tracking = {k: v for k, v in GOOD_EVENT.items() if k != "tracking_number"}
    naive_time = {**GOOD_EVENT, "event_time": "2026-03-01T14:05:00"}
    _write(
        landing / "tracking/ameex/events.jsonl",
        [
            json.dumps(GOOD_EVENT, ensure_ascii=False),
            json.dumps(missing_tracking),
            json.dumps(naive_time),
            '{"carrier": "ameex", "tracking_nu',  # truncated line
            "[1, 2, 3]",
            json.dumps({**GOOD_EVENT, "tracking_number": "AMX-2"}),
        ],
    )
    report, quarantine, counts = _ingest(warehouse, landing, "carrier_tracking_events")

    assert (report.records_read, report.records_loaded, report.records_quarantined) == (6, 2, 4)
    assert report.reconciles
    by_line = {line: (field, reason) for _file, line, field, reason, _raw in quarantine}
    assert by_line[2] == ("tracking_number", "missing required field 'tracking_number'")
    assert by_line[3][0] == "event_time" and "timezone" in by_line[3][1]
    assert by_line[4][0] is None and by_line[4][1].startswith("invalid JSON")
    assert "not a JSON object" in by_line[5][1]
    assert all(file == "tracking/ameex/events.jsonl" for file, *_ in quarantine)
    # The raw text is kept so the record can be repaired and replayed.
    assert (
        next(raw for _f, line, _fi, _r, raw in quarantine if line == 4)
        == '{"carrier": "ameex", "tracking_nu'
    )
    assert counts == {"read": 6, "loaded": 2, "quarantined": 4}


def test_raw_rows_keep_payload_file_line_and_load_time(paths):
    warehouse, landing = paths
    _write(landing / "tracking/ameex/a.jsonl", [json.dumps(GOOD_EVENT, ensure_ascii=False)])
    _ingest(warehouse, landing, "carrier_tracking_events")
    with connect(warehouse, read_only=True) as conn:
        row = conn.execute(
            "select source_file, line_number, payload->>'$.raw_status', loaded_at is not null "
            "from raw.carrier_tracking_events"
        ).fetchone()
    assert row == ("tracking/ameex/a.jsonl", 1, "Livré", True)


def test_csv_envelope_rows_are_validated_like_json(paths):
    warehouse, landing = paths
    header = "carrier,tracking_number,order_ref,raw_status,event_time,city"
    _write(
        landing / "tracking/sendit/events.csv",
        [
            header,
            "sendit,S-1,woocommerce:42,Refusé,2026-03-02T10:00:00+01:00,Rabat",
            "sendit,S-2,woocommerce:43,Livré,not-a-date,Rabat",
            "sendit,S-3",
            'sendit,S-4,woocommerce:44,"Pas de réponse",2026-03-02T11:00:00+01:00,',
        ],
    )
    report, quarantine, _ = _ingest(warehouse, landing, "carrier_tracking_events")
    assert (report.records_read, report.records_loaded, report.records_quarantined) == (4, 2, 2)
    assert [(line, field) for _f, line, field, _r, _raw in quarantine] == [
        (3, "event_time"),
        (4, None),
    ]
    assert "columns" in quarantine[1][3]
    with connect(warehouse, read_only=True) as conn:
        statuses = conn.execute(
            "select payload->>'$.raw_status', payload->>'$.city' from raw.carrier_tracking_events order by line_number"
        ).fetchall()
    assert statuses == [("Refusé", "Rabat"), ("Pas de réponse", None)]


def test_ingesting_the_same_file_twice_adds_nothing(paths):
    warehouse, landing = paths
    file = _write(landing / "tracking/ameex/a.jsonl", [json.dumps(GOOD_EVENT), "not json"])
    first, _, _ = _ingest(warehouse, landing, "carrier_tracking_events")
    second, _, _ = _ingest(warehouse, landing, "carrier_tracking_events")
    assert first.records_read == 2 and second.records_read == 0 and second.files == []

    # A copy under another name (a re-upload) is recognised by its content.
    (landing / "tracking/ameex/copy.jsonl").write_bytes(file.read_bytes())
    third, _, counts = _ingest(warehouse, landing, "carrier_tracking_events")
    assert third.records_read == 0 and third.files_skipped == 1
    assert counts == {"read": 2, "loaded": 1, "quarantined": 1}


def test_new_files_are_picked_up_incrementally_and_temporary_names_ignored(paths):
    warehouse, landing = paths
    _write(landing / "tracking/ameex/a.jsonl", [json.dumps(GOOD_EVENT)])
    _ingest(warehouse, landing, "carrier_tracking_events")
    _write(
        landing / "tracking/ameex/b.jsonl", [json.dumps({**GOOD_EVENT, "tracking_number": "AMX-9"})]
    )
    _write(landing / "tracking/ameex/c.jsonl.open", [json.dumps(GOOD_EVENT)])  # still being written
    _write(landing / "tracking/ameex/d.jsonl.tmp", [json.dumps(GOOD_EVENT)])
    report, _, counts = _ingest(warehouse, landing, "carrier_tracking_events")
    assert [f.source_file for f in report.files] == ["tracking/ameex/b.jsonl"]
    assert counts["loaded"] == 2


def test_a_failure_mid_file_leaves_nothing_half_loaded(paths, monkeypatch):
    warehouse, landing = paths
    _write(landing / "tracking/ameex/a.jsonl", [json.dumps(GOOD_EVENT)] * 3 + ["broken"])
    from connectors.ingestion import loader

    def explode(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader, "_insert_loaded", explode)
    with pytest.raises(RuntimeError), connect(warehouse) as conn:
        ingest_source(conn, SOURCES_BY_NAME["carrier_tracking_events"], landing)
    monkeypatch.undo()
    report, _, counts = _ingest(warehouse, landing, "carrier_tracking_events")
    assert report.records_read == 4
    assert counts == {"read": 4, "loaded": 3, "quarantined": 1}


def test_whatsapp_bodies_must_be_whatsapp_business_account(paths):
    warehouse, landing = paths
    good = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {}}]}],
    }
    _write(
        landing / "messages/whatsapp/w.jsonl",
        [
            json.dumps(good),
            json.dumps({**good, "object": "page"}),
            json.dumps({**good, "entry": []}),
        ],
    )
    report, quarantine, _ = _ingest(warehouse, landing, "whatsapp_webhooks")
    assert report.records_loaded == 1
    assert [field for _f, _l, field, _r, _raw in quarantine] == ["object", "entry"]


def test_invalid_utf8_is_quarantined_not_fatal(paths):
    warehouse, landing = paths
    path = landing / "messages/sms/s.jsonl"
    path.parent.mkdir(parents=True)
    good = {
        "provider": "gw",
        "message_id": "m1",
        "direction": "outbound",
        "phone": "0612345678",
        "status": "sent",
        "event_time": "2026-03-01T10:00:00+01:00",
    }
    path.write_bytes(json.dumps(good).encode() + b"\n" + b'{"provider": "\xff\xfe"}\n')
    report, quarantine, _ = _ingest(warehouse, landing, "sms_events")
    assert (report.records_loaded, report.records_quarantined) == (1, 1)
    # The reason says which byte, and where, so the export can be fixed.
    assert quarantine[0][3].startswith("not valid UTF-8: byte 0xFF at column 15")


def test_lightfunnels_and_prestashop_orders_load_and_bad_ones_name_the_field(paths):
    warehouse, landing = paths
    lightfunnels = {
        "_id": 100123,
        "created_at": "2026-03-01 10:00:00",
        "updated_at": "2026-03-02T09:30:00Z",
        "total": 299.0,
        "financial_status": "pending",
        "fulfillment_status": "unfulfilled",
    }
    _write(
        landing / "orders/lightfunnels/sample/pull_20260302T093000000000Z_1.jsonl",
        [json.dumps(lightfunnels), json.dumps({**lightfunnels, "_id": "not-a-number"})],
    )
    prestashop = {
        "id": 42,
        "date_add": "2026-03-01 11:00:00",
        "date_upd": "2026-03-01 11:00:00",
        "total_paid": "199.000000",
        "current_state": "13",
        "cod360_related": {"address_delivery": {"phone_mobile": "0661234567"}},
    }
    missing_state = {k: v for k, v in prestashop.items() if k != "current_state"}
    _write(
        landing / "orders/prestashop/sample/pull_20260301T110000000000Z_1.jsonl",
        [json.dumps(prestashop), json.dumps({**missing_state, "id": 43})],
    )

    report, quarantine, _ = _ingest(warehouse, landing, "lightfunnels_orders")
    assert (report.records_loaded, report.records_quarantined, report.reconciles) == (1, 1, True)
    assert [(line, field) for _, line, field, _, _ in quarantine] == [(2, "_id")]

    report, quarantine, _ = _ingest(warehouse, landing, "prestashop_orders")
    assert (report.records_loaded, report.records_quarantined, report.reconciles) == (1, 1, True)
    assert [(line, field, reason) for _, line, field, reason, _ in quarantine] == [
        (2, "current_state", "missing required field 'current_state'")
    ]
