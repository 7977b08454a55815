"""The email envelope: good events load, bad ones are quarantined naming the field."""

from __future__ import annotations

import json
from pathlib import Path

from common.warehouse import connect
from connectors.ingestion import SOURCES_BY_NAME, ingest_source, table_counts

GOOD = {
    "provider": "brevo",
    "message_id": "<shopify.5123.confirmation@mail.boutique.ma>",
    "event": "opened",
    "recipient": "salma.bennani12@gmail.com",
    "template": "order_confirmation",
    "order_ref": "shopify:5123",
    "event_time": "2026-03-01T10:00:00+01:00",
}


def test_email_events_load_and_bad_lines_are_quarantined_with_their_field(tmp_path: Path):
    landing = tmp_path / "landing"
    path = landing / "messages/email/events_2026-03.jsonl"
    path.parent.mkdir(parents=True)
    lines = [
        json.dumps(GOOD),
        json.dumps({**GOOD, "event": "sent", "event_time": "2026-03-01T09:58:00+01:00"}),
        json.dumps({k: v for k, v in GOOD.items() if k != "message_id"}),  # no message id
        json.dumps({**GOOD, "event": "read"}),  # not an email event
        json.dumps({**GOOD, "event_time": "2026-03-01 10:00"}),  # no offset
        json.dumps({**GOOD, "recipient": "  "}),
        '{"provider": "brevo", "message_id": "x", "ev',  # cut off
        json.dumps({**GOOD, "event": "bounced", "bounce_type": "hard"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with connect(tmp_path / "warehouse.duckdb") as conn:
        source = SOURCES_BY_NAME["email_events"]
        report = ingest_source(conn, source, landing)
        quarantine = conn.execute(
            "select line_number, field, reason from raw.quarantine where source = 'email_events' "
            "order by line_number"
        ).fetchall()
        counts = table_counts(conn, source)
        again = ingest_source(conn, source, landing)  # the same file again: nothing changes
        loaded = conn.execute("select count(*) from raw.email_events").fetchone()[0]
    assert (report.records_loaded, report.records_quarantined) == (3, 5)
    assert counts["read"] == counts["loaded"] + counts["quarantined"]
    fields = {line: field for line, field, _ in quarantine}
    assert fields[3] == "message_id" and fields[4] == "event" and fields[5] == "event_time"
    assert fields[6] == "recipient" and 7 in fields
    assert all(reason for _, _, reason in quarantine)
    assert again.records_loaded == 0 and loaded == 3
