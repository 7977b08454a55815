"""Exactly once under faults: 20 % random 5xx / timeouts / throttling / lost responses, and a
send loop SIGKILLed halfway (in flight, and between claim and send), then re-runs: every
eligible customer gets exactly one message, the server records no duplicate, holdout
members get nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from outbox_harness import (
    FAULTS,
    build_world,
    outbox,
    outbox_keys_received,
    run_once,
    server,
    settle,
)

from common.settings import PROJECT_ROOT
from sandbox.contract_servers import FaultPlan

HERE = Path(__file__).parent
DONE = ("sent", "failed", "holdout")


def _child(
    warehouse: Path, campaign_file: Path, base_url: str, kill_after: int = 0, concurrency: int = 1
):
    return subprocess.Popen(
        [sys.executable, str(HERE / "send_loop_process.py"), str(warehouse), str(campaign_file),
         base_url, str(kill_after), str(concurrency)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # A script's sys.path starts at its own folder: the repository root is added for
        # `sandbox`, which is not installed (pytest's pythonpath covers only this process).
        env={**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)},
    )  # fmt: skip


def _wait_for(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _rerun_until_settled(wa, warehouse, landing, campaign, url, *, runs: int = 8) -> int:
    for n in range(runs):
        settle(wa, warehouse, landing)
        run_once(warehouse, campaign, url, run_id=f"rerun-{n}")
        time.sleep(0.6)  # let "slow" requests that lost their client finish on the server
        statuses = {status for _, _, status in outbox(warehouse)}
        if statuses <= set(DONE):
            settle(wa, warehouse, landing)
            return n + 1
    raise AssertionError(f"not settled after {runs} re-runs: {statuses}")


def _assert_exactly_once(wa, warehouse, phones):
    rows = outbox(warehouse)
    treated = {key: p for key, p, status in rows if status == "sent"}
    held = {p for _, p, status in rows if status == "holdout"}
    assert {p for _, p, _ in rows} == set(phones)  # every customer has exactly one row
    assert len(rows) == len(phones) and {s for _, _, s in rows} == {"sent", "holdout"}
    received = outbox_keys_received(wa)
    assert received == dict.fromkeys(treated, 1)  # one message per treated key, no other
    assert sorted(m.wa_id for m in wa.messages) == sorted(p[1:] for p in treated.values())
    assert not held & {"+" + m.wa_id for m in wa.messages}
    assert wa.duplicates.duplicates() == []
    assert 0 < len(held) < len(phones) // 2


def test_random_faults_and_a_run_killed_in_flight_still_send_each_message_once(tmp_path, start):
    warehouse, landing, campaign, phones = build_world(tmp_path, customers=40)
    # Requests 1-5 pass, the 6th is slow (1.5 s): the child is killed while it is in
    # flight; the server still accepts it. The re-runs then meet one fault of each kind
    # (a timeout, a 503, throttling, a response lost after success), then 20 % at random.
    faults = FaultPlan(
        ["ok"] * 5 + ["slow:1.5", "timeout:0.4", "503", "throttle", "slow:0.5"],
        probability=0.2,
        random_faults=FAULTS,
        seed=7,
    )
    wa = server(landing, faults)
    url = start(wa)
    child = _child(warehouse, tmp_path / "campaigns" / "exactly_once_offer.yml", url)
    _wait_for(lambda: len(wa.requests(path_prefix="/v")) >= 6)
    child.kill()
    assert child.wait(timeout=10) < 0  # killed by a signal, not finished
    _wait_for(lambda: len(wa.messages) >= 6, timeout_s=5)  # the in-flight one is accepted
    in_flight = [key for key, _, status in outbox(warehouse) if status == "sending"]
    assert len(in_flight) == 1 and outbox_keys_received(wa)[in_flight[0]] == 1

    runs = _rerun_until_settled(wa, warehouse, landing, campaign, url)

    _assert_exactly_once(wa, warehouse, phones)
    resolved = outbox(
        warehouse,
        f"select resolved_by from activations.outbox where outbox_key = '{in_flight[0]}'",
    )
    assert resolved == [("webhook",)]  # settled from Meta's status webhook, not resent
    injected = wa.faults.injected
    # Every kind of fault happened: 5xx, timeouts, throttling, responses lost after success.
    assert all(injected[kind] for kind in ("status", "timeout", "throttle", "slow")), injected
    assert runs >= 1


def test_a_run_killed_between_claim_and_send_is_resent_once_only_after_the_grace(tmp_path, start):
    warehouse, landing, campaign, phones = build_world(tmp_path, customers=10)
    wa = server(landing)
    url = start(wa)
    child = _child(warehouse, tmp_path / "campaigns" / "exactly_once_offer.yml", url, 3)
    assert child.wait(timeout=30) < 0
    (stuck,) = [key for key, _, status in outbox(warehouse) if status == "sending"]
    assert outbox_keys_received(wa)[stuck] == 0 and len(wa.messages) == 2

    # Within the grace period the row waits: an unanswered send may still show up.
    settle(wa, warehouse, landing)
    report = run_once(warehouse, campaign, url, run_id="too-early", grace=timedelta(hours=1))
    assert report.reconciliation["still_ambiguous"] == 1
    assert outbox_keys_received(wa)[stuck] == 0
    # Webhooks ingested past the grace and none for the row: it was never accepted.
    settle(wa, warehouse, landing)
    report = run_once(warehouse, campaign, url, run_id="after-grace", grace=timedelta(0))
    assert report.reconciliation["released_for_retry"] == 1

    _assert_exactly_once(wa, warehouse, phones)
    assert outbox_keys_received(wa)[stuck] == 1
    # And another run changes nothing.
    before = len(wa.messages)
    settle(wa, warehouse, landing)
    report = run_once(warehouse, campaign, url, run_id="again")
    assert len(wa.messages) == before and report.already_handled == len(phones)
