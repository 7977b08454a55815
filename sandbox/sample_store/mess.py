"""Emission of records into the landing writer, with the deliberate mess.

With the mess on, a record may arrive late or twice, and now and then a broken
sibling (truncated JSON, a missing id, a bad CSV timestamp or row) is written
after it. Everything is counted for the summary. The mess draws from its own
random streams, so the simulated world does not depend on it.
"""

from __future__ import annotations

import random
from datetime import datetime

from sandbox.sample_store import vendors as v
from sandbox.sample_store.summary import SOURCES
from sandbox.sample_store.timing import HOUR, _randint
from sandbox.sample_store.writer import DAY, csv_line, dumps


class _Injector:
    """Decides, deterministically, after which good records a bad one is written.

    The first few come early (so even a tiny run has each kind), then about one
    per thousand records.
    """

    def __init__(self, rnd: random.Random, kinds: tuple[str, ...], enabled: bool):
        self.rnd = rnd
        self.kinds = kinds
        self.enabled = enabled
        self.count = 0
        self.injected = 0
        self.next_at = _randint(rnd, 3, 15)

    def due(self) -> str | None:
        if not self.enabled:
            return None
        self.count += 1
        if self.count < self.next_at:
            return None
        kind = self.kinds[self.injected % len(self.kinds)]
        self.injected += 1
        if self.injected < len(self.kinds):
            self.next_at += _randint(self.rnd, 10, 40)
        else:
            self.next_at += _randint(self.rnd, 600, 1400)
        return kind


def _make_injectors(seed: int, mess: bool) -> dict[str, _Injector]:
    injector_rnd = random.Random(seed * 31 + 3)
    json_kinds = ("malformed_json", "missing_field")
    injectors = {
        source: _Injector(injector_rnd, json_kinds, mess)
        for source in SOURCES
        # Remittance statements are written clean (remittances.py): no injector, so the
        # other sources' mess is drawn exactly as before they existed; email events have
        # their own injector (channels.py).
        if source not in ("carrier_tracking_events", "carrier_remittances", "email_events")
    }
    injectors["tracking:jsonl"] = _Injector(injector_rnd, json_kinds, mess)
    injectors["tracking:csv"] = _Injector(
        injector_rnd, ("bad_timestamp", "missing_field", "malformed_row"), mess
    )
    # The email envelope came later: its own stream, so the other sources' bad lines stay.
    injectors["email_events"] = _Injector(random.Random(seed * 37 + 5), json_kinds, mess)
    return injectors


class _EmitMixin:
    """Writes records through ``self.writer``, injecting and counting the mess."""

    def _emit(
        self,
        write_ts: int,
        kind: str,
        source: str,
        record: dict,
        *,
        flaky: bool = False,
        injector: str | None = None,
        clean: bool = False,
    ) -> bool:
        """Write one record; with the mess on, maybe late, twice, or with a broken sibling.
        ``clean`` records skip the mess (and its injectors' counters) altogether: an extra
        record added later (a later edit) then shifts neither the mess stream nor which
        records get broken, so the rest of the landing stays byte-for-byte the same."""
        if clean:
            return self.writer.emit(write_ts, kind, dumps(record))
        mess_rnd = self.mess_rnd
        if flaky and self.mess and mess_rnd.random() < 0.02:
            write_ts += mess_rnd.randint(HOUR, 3 * DAY)
            late = True
        else:
            late = False
        line = dumps(record)
        if not self.writer.emit(write_ts, kind, line):
            return False
        if late:
            self.out_of_order[source] += 1
        if (
            flaky
            and self.mess
            and mess_rnd.random() < 0.01
            and self.writer.emit(write_ts + mess_rnd.randint(1, 900), kind, line)
        ):
            self.duplicates[source] += 1
        bad_kind = self.injectors[injector or source].due()
        if bad_kind is not None:
            bad_line = self._break_json(source, record, line, bad_kind)
            if self.writer.emit(write_ts, kind, bad_line):
                counts = self.bad[source]
                counts[bad_kind] = counts.get(bad_kind, 0) + 1
        return True

    def _break_json(self, source: str, record: dict, line: str, bad_kind: str) -> str:
        if bad_kind == "malformed_json":
            return line[: self.mess_rnd.randint(10, max(11, len(line) - 2))]
        broken = dict(record)
        if source == "whatsapp_webhooks":
            entry = dict(record["entry"][0])
            del entry["id"]
            broken["entry"] = [entry]
        else:
            missing = {
                "shopify_orders": "id",
                "woocommerce_orders": "id",
                "youcan_orders": "id",
                "tiktok_leads": "lead_id",
                "carrier_tracking_events": "tracking_number",
                "sms_events": "message_id",
                "lead_signals": "session_id",
                "email_events": "message_id",
            }[source]
            del broken[missing]
        return dumps(broken)

    def _emit_csv(self, write_ts: int, kind: str, record: dict) -> bool:
        source = "carrier_tracking_events"
        columns = v.CARRIER_CSV_COLUMNS
        mess_rnd = self.mess_rnd
        late = False
        if self.mess and mess_rnd.random() < 0.02:
            write_ts += mess_rnd.randint(HOUR, 3 * DAY)
            late = True
        line = csv_line(columns, record)
        if not self.writer.emit(write_ts, kind, line):
            return False
        if late:
            self.out_of_order[source] += 1
        if (
            self.mess
            and mess_rnd.random() < 0.005
            and self.writer.emit(write_ts + mess_rnd.randint(60, 6 * HOUR), kind, line)
        ):
            self.duplicates[source] += 1
        bad_kind = self.injectors["tracking:csv"].due()
        if bad_kind is not None:
            broken = dict(record)
            if bad_kind == "bad_timestamp":
                local = v.iso_naive_local(int(self._ts_from_iso(record["event_time"])))
                broken["event_time"] = mess_rnd.choice(
                    [
                        local.replace("T", " "),  # no offset
                        f"{local[8:10]}/{local[5:7]}/{local[:4]} {local[11:16]}",  # dd/mm/yyyy
                        "31/02/2026 25:61",
                    ]
                )
                bad_line = csv_line(columns, broken)
            elif bad_kind == "missing_field":
                broken["tracking_number"] = ""
                bad_line = csv_line(columns, broken)
            else:  # malformed_row: the export was cut after three columns
                bad_line = ",".join(line.split(",")[:3])
            if self.writer.emit(write_ts, kind, bad_line):
                counts = self.bad[source]
                counts[bad_kind] = counts.get(bad_kind, 0) + 1
        return True

    @staticmethod
    def _ts_from_iso(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    def _count(self, counts: dict[str, int], key: str) -> None:
        counts[key] = counts.get(key, 0) + 1
