"""Delivery codes: issue, verify (expiry, reuse, wrong code, attempt limit), hash-only storage,
the send flow, the CLI, and the re-attempt message after a missing code."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import partial

import duckdb
import pytest
from activation_helpers import WHATSAPP_TOKEN
from outbox_harness import PNID, deliverer
from warehouse_fixtures import NOW, add_customers, add_inbound, add_order, create_tables, phone

from activations import otp
from activations.campaign_runner import run_campaign
from activations.delivery_codes import (
    delivery_code_spec,
    orders_out_for_delivery,
    otp_not_provided_attempts,
    reattempt_spec,
)
from activations.otp import VerifyOutcome, issue_code, verify_code
from activations.warehouse_tables import ORDERS_MODEL
from common.marts import mart
from common.warehouse import connect
from sandbox.contract_servers import WhatsAppContractServer
from sandbox.contract_servers.whatsapp_validation import ApprovedTemplate

SECRET = b"a-test-secret-of-enough-bytes-0123"
ORDER, CUSTOMER = "shopify:5001", phone(50)


@pytest.fixture
def conn():
    with duckdb.connect() as connection:
        yield connection


def test_a_code_is_six_digits_accepted_once_and_stored_only_as_an_hmac(conn):
    issued = issue_code(conn, ORDER, CUSTOMER, SECRET, NOW)
    assert re.fullmatch(r"\d{6}", issued.code) and issued.code not in repr(issued)
    stored = conn.execute("select * from activations.otp_codes").fetchall()
    assert len(stored) == 1 and not any(issued.code in str(value) for value in stored[0])
    assert verify_code(conn, ORDER, issued.code, SECRET, NOW).accepted
    assert verify_code(conn, ORDER, issued.code, SECRET, NOW).outcome is VerifyOutcome.ALREADY_USED
    # The HMAC binds the code to its order and phone: another key or order does not match.
    other = issue_code(conn, "shopify:5002", CUSTOMER, SECRET, NOW)
    assert verify_code(conn, "shopify:5002", other.code, b"x" * 32, NOW).outcome is (
        VerifyOutcome.WRONG_CODE
    )


def test_codes_expire_and_a_new_code_supersedes_the_old(conn):
    first = issue_code(conn, ORDER, CUSTOMER, SECRET, NOW, ttl=timedelta(hours=24))
    second = issue_code(conn, ORDER, CUSTOMER, SECRET, NOW + timedelta(hours=1))
    assert verify_code(conn, ORDER, first.code, SECRET, NOW).outcome is (
        VerifyOutcome.WRONG_CODE if first.code != second.code else VerifyOutcome.ACCEPTED
    )
    later = NOW + timedelta(hours=1, days=1)
    assert verify_code(conn, ORDER, second.code, SECRET, later).outcome is VerifyOutcome.EXPIRED
    assert verify_code(conn, ORDER, second.code, SECRET, later).outcome is VerifyOutcome.EXPIRED
    assert verify_code(conn, "shopify:404", "123456", SECRET, NOW).outcome is VerifyOutcome.NO_CODE


def test_wrong_codes_lock_the_code_after_the_attempt_limit(conn):
    issued = issue_code(conn, ORDER, CUSTOMER, SECRET, NOW, max_attempts=3)
    wrong = f"{(int(issued.code) + 1) % 10**6:06d}"
    outcomes = [verify_code(conn, ORDER, wrong, SECRET, NOW) for _ in range(3)]
    assert [o.outcome for o in outcomes] == [
        VerifyOutcome.WRONG_CODE,
        VerifyOutcome.WRONG_CODE,
        VerifyOutcome.LOCKED,
    ]
    assert [o.attempts_left for o in outcomes[:2]] == [2, 1]
    # Even the right code is refused once locked: guessing a million codes is not possible.
    assert verify_code(conn, ORDER, issued.code, SECRET, NOW).outcome is VerifyOutcome.LOCKED


def test_a_short_or_missing_secret_is_refused(monkeypatch):
    monkeypatch.delenv(otp.SECRET_ENV, raising=False)
    with pytest.raises(otp.OtpSecretError, match="COD360_OTP_SECRET"):
        otp.otp_secret()
    with pytest.raises(otp.OtpSecretError):
        otp.otp_secret("short")


def _server(landing, **kwargs) -> WhatsAppContractServer:
    return WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN,
        phone_number_id=PNID,
        templates=[
            ApprovedTemplate("delivery_code", ("fr",), 1),
            ApprovedTemplate("delivery_reattempt", ("fr",), 3),
        ],
        landing_dir=landing,
        **kwargs,
    )


def _send_codes(warehouse, url, at):
    return run_campaign(
        partial(connect, warehouse), delivery_code_spec(SECRET), orders_out_for_delivery,
        deliverer=deliverer(url), dry_run=False, run_id=f"codes-{at.isoformat()}",
        now_fn=lambda: at,
    )  # fmt: skip


def test_the_flow_sends_a_fresh_code_per_round_and_the_plain_code_is_nowhere_stored_or_logged(
    tmp_path, start, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    warehouse = tmp_path / "warehouse.duckdb"
    with connect(warehouse) as c:
        create_tables(c)
        add_customers(c, [CUSTOMER])
        add_order(c, ORDER, CUSTOMER, status="out_for_delivery", confirmation="confirmed")
        add_order(c, "shopify:5003", phone(51), status="in_transit", confirmation="confirmed")
    wa = _server(tmp_path / "landing")
    url = start(wa)
    codes = iter([480917, 715203])
    monkeypatch.setattr(otp.secrets, "randbelow", lambda n: next(codes))

    now = datetime.now(UTC)  # the CLI below checks expiry against the real clock
    assert _send_codes(warehouse, url, now - timedelta(hours=2)).sent == 1
    assert _send_codes(warehouse, url, now - timedelta(hours=1)).sent == 0  # same round
    with connect(warehouse) as c:  # the courier failed once; the parcel goes out again
        c.execute(
            f"update {mart(ORDERS_MODEL)} set failed_attempts = 1 where order_ref = ?", [ORDER]
        )
    assert _send_codes(warehouse, url, now).sent == 1

    sent = [r.body["template"] for r in wa.requests(path_prefix="/v") if r.status == 200]
    assert [t["name"] for t in sent] == ["delivery_code", "delivery_code"]
    first, second = (t["components"][0]["parameters"][0]["text"] for t in sent)
    assert (first, second) == ("480917", "715203")

    env = {**os.environ, "COD360_OTP_SECRET": SECRET.decode(), "COD360_WAREHOUSE": str(warehouse)}

    def cli(code: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "activations.otp", "verify", ORDER, code],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    old = cli(first)
    assert old.returncode == 1 and "wrong_code" in old.stdout  # superseded by the new round
    ok = cli(second)
    assert ok.returncode == 0 and "accepted" in ok.stdout
    reused = cli(second)
    assert reused.returncode == 1 and "already_used" in reused.stdout
    for output in (old, ok, reused):
        assert first not in output.stdout + output.stderr
        assert second not in output.stdout + output.stderr

    with connect(warehouse, read_only=True) as c:
        columns = c.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
        ).fetchall()
        for schema, table, column in columns:
            hits = c.execute(
                f'select count(*) from "{schema}"."{table}" '
                f'where cast("{column}" as varchar) like ? or cast("{column}" as varchar) like ?',
                [f"%{first}%", f"%{second}%"],
            ).fetchone()[0]
            assert hits == 0, f"a delivery code is readable in {schema}.{table}.{column}"
    for record in caplog.records:
        assert first not in record.getMessage() and second not in record.getMessage()


def test_a_missing_code_at_the_door_triggers_a_reattempt_message_text_only_inside_the_window(
    tmp_path, start
):
    warehouse = tmp_path / "warehouse.duckdb"
    wrote_in, silent = phone(60), phone(61)
    with connect(warehouse) as c:
        create_tables(c)
        add_customers(c, [wrote_in, silent])
        for n, who in enumerate([wrote_in, silent]):
            add_order(c, f"woocommerce:{70 + n}", who, status="failed_attempt",
                      confirmation="confirmed", failed_attempts=1,
                      last_failure_reason="otp_not_provided")  # fmt: skip
        add_order(c, "woocommerce:72", phone(62), status="failed_attempt", failed_attempts=1,
                  last_failure_reason="refused")  # fmt: skip
        add_inbound(c, wrote_in, intent="other", at=NOW - timedelta(hours=3))
    wa = _server(tmp_path / "landing", open_windows=[wrote_in])
    report = run_campaign(
        partial(connect, warehouse), reattempt_spec(), otp_not_provided_attempts,
        deliverer=deliverer(start(wa)), dry_run=False, run_id="reattempt", now_fn=lambda: NOW,
    )  # fmt: skip
    assert report.sent == 2
    kinds = {"+" + m.wa_id: (m.type, m.template) for m in wa.messages}
    assert kinds == {wrote_in: ("text", None), silent: ("template", "delivery_reattempt")}
