"""The senders under stress: concurrent sends stay exactly once (also when killed), the
breaker stops a campaign on a refused template and leaves its rows retryable, run history
is written as a run goes (a killed run shows as running), and the send pace is configured
per phone number from the environment."""

from __future__ import annotations

import time
from datetime import timedelta

import dagster as dg
import pytest
from outbox_harness import (
    FAULTS,
    TEMPLATES,
    build_world,
    outbox,
    outbox_keys_received,
    run_once,
    server,
    settle,
)
from test_activation_exactly_once import (
    _assert_exactly_once,
    _child,
    _rerun_until_settled,
)

from activations.campaign_runner import CampaignHalted
from activations.clients.whatsapp_pacing import send_pacing
from activations.outbox_reconciliation import reconcile_whatsapp
from common.warehouse import connect
from orchestration.defs.activations.common import failing_loudly_when_halted
from sandbox.contract_servers import ApprovedTemplate, FaultPlan

CONCURRENCY = 4


def _runs(warehouse):
    with connect(warehouse, read_only=True) as conn:
        return conn.execute(
            "select run_id, status, finished_at is null, sent, error "
            "from activations.campaign_runs order by started_at, run_id"
        ).fetchall()


def test_concurrent_sends_under_faults_and_a_kill_still_send_each_message_once(tmp_path, start):
    warehouse, landing, campaign, phones = build_world(tmp_path, customers=40)
    faults = FaultPlan(["ok"] * 5 + ["slow:1.5"], probability=0.2, random_faults=FAULTS, seed=11)
    wa = server(landing, faults)
    url = start(wa)
    campaign_file = tmp_path / "campaigns" / "exactly_once_offer.yml"
    # Killed right after its 8th claim with up to 4 sends in flight (one of them slow).
    child = _child(warehouse, campaign_file, url, 8, CONCURRENCY)
    assert child.wait(timeout=30) < 0
    killed = [r for r in _runs(warehouse) if r[0] == "the-killed-run"]
    assert killed == [("the-killed-run", "running", True, killed[0][3], None)]
    assert len([s for _, _, s in outbox(warehouse) if s == "sending"]) >= 1
    # The harness settles with grace 0: let the sends that lost their client (the slow one
    # takes 1.5 s) reach the server and its webhook first, as the real grace would.
    time.sleep(2.0)

    _rerun_until_settled(wa, warehouse, landing, campaign, url)

    _assert_exactly_once(wa, warehouse, phones)
    statuses = {status for _, status, *_ in _runs(warehouse)}
    assert statuses == {"running", "finished"}  # the killed run never shows as finished


def test_the_breaker_stops_on_a_refused_template_and_a_rerun_sends_once_fixed(tmp_path, start):
    warehouse, landing, campaign, phones = build_world(tmp_path, customers=60)
    # At Meta both variants' templates expect 2 parameters; the campaign sends 1: 132000.
    broken = [
        ApprovedTemplate(t.name, t.languages, 2, t.quick_replies, t.category) for t in TEMPLATES
    ]
    wa = server(landing)
    wa.templates = {t.name: t for t in broken}
    url = start(wa)

    with pytest.raises(CampaignHalted) as halted:
        run_once(warehouse, campaign, url, run_id="broken", concurrency=CONCURRENCY)

    assert halted.value.code == 132000 and halted.value.template in {"test_offer", "test_offer_b"}
    # At most the sends already in flight when the first refusal came back: not one per row.
    assert len(wa.requests(path_prefix="/v")) <= CONCURRENCY and wa.messages == []
    rows = outbox(warehouse)
    assert {s for _, _, s in rows} <= {"pending", "retry", "holdout"}  # nothing final `failed`
    treated = [s for _, _, s in rows if s != "holdout"]
    assert halted.value.report.awaiting_retry == len(treated)
    ((run_id, status, unfinished, sent, error),) = _runs(warehouse)
    assert (run_id, status, unfinished, sent) == ("broken", "halted", False, 0)
    assert "132000" in error and halted.value.template in error

    # The template is fixed at Meta: the next run sends every held-back row, once.
    wa.templates = {t.name: t for t in TEMPLATES}
    report = run_once(warehouse, campaign, url, run_id="fixed", concurrency=CONCURRENCY)
    assert report.sent == len(treated) and report.failed == 0
    _assert_exactly_once(wa, warehouse, phones)
    assert [r[1] for r in _runs(warehouse)] == ["halted", "finished"]


def test_a_halted_run_fails_the_asset_with_the_code_and_the_template(tmp_path, start):
    warehouse, landing, campaign, _ = build_world(tmp_path, customers=5)
    wa = server(landing, FaultPlan(["error:132015"]))
    url = start(wa)
    with pytest.raises(dg.Failure) as failure, failing_loudly_when_halted():
        run_once(warehouse, campaign, url, run_id="paused-template")
    assert failure.value.metadata["error_code"].value == "132015"
    assert failure.value.metadata["template"].value in {"test_offer", "test_offer_b"}
    assert "paused" in failure.value.description.lower()
    assert outbox_keys_received(wa) == {}


def test_the_send_pace_comes_from_the_environment_per_phone_number():
    env = {"COD360_WHATSAPP_RATE_PER_S": "10", "COD360_WHATSAPP_RATE_PER_S_222": "50"}
    assert send_pacing("111", 20.0, env).rate_per_s == 10.0
    assert send_pacing("222", 20.0, env).rate_per_s == 50.0  # the number's own wins
    assert send_pacing("111", 20.0, {}).rate_per_s == 20.0
    assert send_pacing("111", 20.0, {"COD360_WHATSAPP_RATE_PER_S": "0"}).rate_per_s is None
    assert send_pacing("111", 20.0, {}).concurrency == 4
    assert send_pacing("1", 1.0, {"COD360_WHATSAPP_SEND_CONCURRENCY": "8"}).concurrency == 8
    with pytest.raises(ValueError, match="COD360_WHATSAPP_RATE_PER_S_111"):
        send_pacing("111", 20.0, {"COD360_WHATSAPP_RATE_PER_S_111": "fast"})
    with pytest.raises(ValueError, match="COD360_WHATSAPP_SEND_CONCURRENCY"):
        send_pacing("111", 20.0, {"COD360_WHATSAPP_SEND_CONCURRENCY": "500"})


def test_ambiguous_sends_settle_when_their_validity_ends_and_late_webhooks_still_count(
    tmp_path, start
):
    """The late-webhook bound: past its validity an ambiguous row is never resent, it
    settles as unknown_final; a webhook ingested afterwards still proves it sent."""
    warehouse, landing, campaign, _ = build_world(tmp_path, customers=6)
    # Every request is answered after the client gave up; the server still accepts it.
    wa = server(landing, FaultPlan(probability=1.0, random_faults=["slow:0.5"]))
    url = start(wa)
    run_once(warehouse, campaign, url, run_id="lost-responses")
    time.sleep(0.7)  # the last slow request lands on the server
    ambiguous = [k for k, _, s in outbox(warehouse) if s == "unknown"]
    assert ambiguous and len(wa.messages) == len(ambiguous)

    with connect(warehouse) as conn:
        expires_at = conn.execute("select max(expires_at) from activations.outbox").fetchone()[0]
        report = reconcile_whatsapp(conn, campaign.id, expires_at + timedelta(minutes=1))
    assert report.settled_unknown == len(ambiguous) and report.released_for_retry == 0
    assert {s for k, _, s in outbox(warehouse) if k in ambiguous} == {"unknown_final"}
    wa.set_faults(None)
    again = run_once(warehouse, campaign, url, run_id="after-the-bound")
    assert again.sent == 0 and len(wa.messages) == len(ambiguous)  # never resent

    settle(wa, warehouse, landing)  # the late status webhooks arrive
    run_once(warehouse, campaign, url, run_id="late-evidence")
    assert {s for k, _, s in outbox(warehouse) if k in ambiguous} == {"sent"}
    assert wa.duplicates.duplicates() == []
