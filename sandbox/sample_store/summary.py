"""What one run wrote: the sources, the run summary and its ``summary.json``."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

SOURCES: tuple[str, ...] = (
    "shopify_orders",
    "woocommerce_orders",
    "youcan_orders",
    "tiktok_leads",
    "carrier_tracking_events",
    "whatsapp_webhooks",
    "sms_events",
    "lead_signals",
    "carrier_remittances",
    "email_events",
)


@dataclass
class SampleStoreSummary:
    """What one run wrote: counts to reconcile the ingestion against."""

    seed: int
    customers: int
    orders: int
    months: int
    start_date: str
    end_date: str
    mess: bool
    out_dir: str
    truth_dir: str
    files: list[str] = field(default_factory=list)
    truth_files: list[str] = field(default_factory=list)
    lines_by_file: dict[str, int] = field(default_factory=dict)
    records_by_source: dict[str, int] = field(default_factory=dict)
    bad_records_by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    duplicates_by_source: dict[str, int] = field(default_factory=dict)
    out_of_order_by_source: dict[str, int] = field(default_factory=dict)
    unknown_carrier_statuses: int = 0
    read_without_delivered: int = 0
    invalid_phone_customers: int = 0
    orders_by_platform: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    whatsapp: dict[str, int] = field(default_factory=dict)
    sms: dict[str, int] = field(default_factory=dict)
    # Statements written, their totals and the deliberate discrepancies (remittances.py).
    remittances: dict = field(default_factory=dict)
    records_dropped_after_end: int = 0
    elapsed_s: float = 0.0

    @property
    def expected_quarantine_by_source(self) -> dict[str, int]:
        """Records the ingestion must quarantine, per source (every deliberately bad line)."""
        return {
            source: sum(self.bad_records_by_source.get(source, {}).values()) for source in SOURCES
        }

    @property
    def malformed_lines_by_source(self) -> dict[str, int]:
        """Lines that are not parseable records at all (truncated JSON or CSV rows)."""
        return {
            source: self.bad_records_by_source.get(source, {}).get("malformed_json", 0)
            + self.bad_records_by_source.get(source, {}).get("malformed_row", 0)
            for source in SOURCES
        }

    def to_dict(self) -> dict:
        data = asdict(self)
        data["expected_quarantine_by_source"] = self.expected_quarantine_by_source
        data["malformed_lines_by_source"] = self.malformed_lines_by_source
        return data


def write_summary_json(summary: SampleStoreSummary, truth_dir: Path) -> None:
    """Write ``summary.json`` atomically; it is deterministic: no timing and no paths in it."""
    written = {
        k: v for k, v in summary.to_dict().items() if k not in ("out_dir", "truth_dir", "elapsed_s")
    }
    summary_path = truth_dir / "summary.json"
    tmp = summary_path.with_name("summary.json.tmp")
    tmp.write_text(json.dumps(written, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, summary_path)
