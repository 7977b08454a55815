"""Same arguments, same bytes; files land atomically where docs/landing.md says."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.sample_store import SOURCES, generate
from sandbox.sample_store import simulator as simulator_module

REPO = Path(__file__).resolve().parents[2]

FILE_PATTERN = re.compile(
    r"^(orders/(shopify|woocommerce|youcan)/orders_\d{4}-\d{2}\.jsonl"
    r"|leads/tiktok/leads_\d{4}-\d{2}\.jsonl"
    r"|tracking/(ameex|ozon_express|coliix|cathedis)/events_\d{4}-\d{2}\.jsonl"
    r"|tracking/sendit/events_\d{4}-\d{2}\.csv"
    r"|messages/whatsapp/webhooks_\d{4}-\d{2}\.jsonl"
    r"|messages/sms/events_\d{4}-\d{2}\.jsonl"
    r"|messages/email/events_\d{4}-\d{2}\.jsonl"
    r"|signals/landing/sessions_\d{4}-\d{2}\.jsonl"
    r"|remittances/(ameex|ozon_express|coliix|sendit|cathedis)/statements_\d{4}-\d{2}\.jsonl)$"
)


def _digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_seed_same_bytes_and_other_seed_other_bytes(tmp_path):
    first = generate(
        tmp_path / "a" / "landing", tmp_path / "a" / "truth", customers=150, months=2, seed=5
    )
    generate(tmp_path / "b" / "landing", tmp_path / "b" / "truth", customers=150, months=2, seed=5)
    generate(tmp_path / "c" / "landing", tmp_path / "c" / "truth", customers=150, months=2, seed=6)
    a, b, c = (_digests(tmp_path / name) for name in "abc")
    assert len(a) > 20
    assert a == b
    common = a.keys() & c.keys()
    assert len(common) >= 0.8 * len(a)
    assert all(a[name] != c[name] for name in common), "a different seed must change every file"
    assert first.orders > 150


def test_files_follow_the_documented_layout(small_store):
    written = sorted(
        p.relative_to(small_store.landing).as_posix()
        for p in small_store.landing.rglob("*")
        if p.is_file()
    )
    assert written == sorted(small_store.summary.files)
    assert all(FILE_PATTERN.match(name) for name in written), written
    # every source, every carrier, every month of the window has a file
    for prefix in (
        "orders/shopify/",
        "orders/woocommerce/",
        "orders/youcan/",
        "leads/tiktok/",
        "messages/whatsapp/",
        "messages/sms/",
        "messages/email/",
        "signals/landing/",
        "tracking/ameex/",
        "tracking/ozon_express/",
        "tracking/coliix/",
        "tracking/sendit/",
        "tracking/cathedis/",
    ):
        months = {
            name[-13:-6] if name.endswith(".jsonl") else name[-11:-4]
            for name in written
            if name.startswith(prefix)
        }
        assert months >= {"2026-08", "2026-09", "2026-10"}, (prefix, months)
    assert not list(small_store.landing.rglob("*.tmp"))
    assert sorted(p.name for p in small_store.truth.iterdir()) == [
        "customers.csv",
        "orders.csv",
        "summary.json",
    ]


def test_summary_counts_match_the_files(small_store):
    summary = small_store.summary
    per_source: dict[str, int] = dict.fromkeys(SOURCES, 0)
    for name, expected in summary.lines_by_file.items():
        path = small_store.landing / name
        raw = path.read_bytes()
        assert raw.endswith(b"\n") and b"\r" not in raw
        lines = raw.decode("utf-8").split("\n")[:-1]
        header = 1 if name.endswith(".csv") else 0
        assert len(lines) - header == expected, name
    for source in SOURCES:
        per_source[source] = sum(
            n for name, n in summary.lines_by_file.items() if _source_of(name) == source
        )
    assert per_source == summary.records_by_source
    assert json.loads((small_store.truth / "summary.json").read_text())["records_by_source"] == (
        summary.records_by_source
    )


def _source_of(name: str) -> str:
    if name.startswith("orders/"):
        return name.split("/")[1] + "_orders"
    if name.startswith("leads/tiktok/"):
        return "tiktok_leads"
    if name.startswith("tracking/"):
        return "carrier_tracking_events"
    if name.startswith("messages/whatsapp/"):
        return "whatsapp_webhooks"
    if name.startswith("messages/sms/"):
        return "sms_events"
    if name.startswith("remittances/"):
        return "carrier_remittances"
    if name.startswith("messages/email/"):
        return "email_events"
    return "lead_signals"


def test_orders_option_sets_the_number_of_orders(tmp_path):
    summary = generate(tmp_path / "l", tmp_path / "t", customers=None, orders=700, months=2, seed=1)
    assert summary.orders == 700
    truth_lines = (tmp_path / "t" / "orders.csv").read_text(encoding="utf-8").splitlines()
    assert len(truth_lines) == 701
    assert 300 <= summary.customers <= 400  # about orders / 1.9


def test_a_failed_run_leaves_no_files_behind(tmp_path, monkeypatch):
    calls = {"n": 0}
    real_order = simulator_module._Simulator._order

    def exploding(self, *args):
        calls["n"] += 1
        if calls["n"] == 120:
            raise RuntimeError("disk full")
        return real_order(self, *args)

    monkeypatch.setattr(simulator_module._Simulator, "_order", exploding)
    monkeypatch.setattr(simulator_module.LandingWriter, "flush_before", _flush_every_order)
    with pytest.raises(RuntimeError, match="disk full"):
        generate(tmp_path / "landing", tmp_path / "truth", customers=200, months=2, seed=2)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []


def _flush_every_order(self, ts):
    # flush aggressively so that files are open (as .tmp) when the run fails
    for day in sorted(self._buckets):
        if day < ts // 86_400:
            self._write_bucket(self._buckets.pop(day))


def test_cli_writes_the_same_bytes_as_the_api(tmp_path):
    generate(
        tmp_path / "api" / "landing", tmp_path / "api" / "truth", customers=120, months=2, seed=9
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox.sample_store",
            "--customers",
            "120",
            "--months",
            "2",
            "--seed",
            "9",
            "--out",
            str(tmp_path / "cli" / "landing"),
            "--truth-out",
            str(tmp_path / "cli" / "truth"),
            "--json",
            "--quiet",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    printed = json.loads(result.stdout)
    assert printed["orders"] > 120
    assert printed["expected_quarantine_by_source"]["whatsapp_webhooks"] >= 1
    assert _digests(tmp_path / "api" / "landing") == _digests(tmp_path / "cli" / "landing")
    assert _digests(tmp_path / "api" / "truth") == _digests(tmp_path / "cli" / "truth")


def test_cli_help_and_bad_arguments():
    ok = subprocess.run(
        [sys.executable, "-m", "sandbox.sample_store", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0
    for option in (
        "--customers",
        "--months",
        "--seed",
        "--orders",
        "--end-date",
        "--out",
        "--truth-out",
        "--no-mess",
    ):
        assert option in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "sandbox.sample_store", "--end-date", "31/10/2026"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "not a date" in bad.stderr
