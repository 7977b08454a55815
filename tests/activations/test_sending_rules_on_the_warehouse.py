"""The sending rules applied by a real campaign run on adversarial, hand-made warehouse data:
opted out three ways, opted back in, capped, in quiet hours, in the holdout — and a customer
who opts out between planning and sending."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial

import pytest
from activation_helpers import WHATSAPP_TOKEN
from outbox_harness import PNID, SEGMENT, TEMPLATES, deliverer
from warehouse_fixtures import NOW, add_customers, add_inbound, add_members, create_tables, phone

from activations.audience import campaign_audience
from activations.campaign_config import parse_campaign_file
from activations.campaign_planning import MessageSpec
from activations.campaign_runner import DeliveryHooks, run_campaign
from common.warehouse import connect
from sandbox.contract_servers import WhatsAppContractServer
from sandbox.contract_servers.whatsapp_payloads import BusinessNumber, status_webhook

T0 = NOW.replace(tzinfo=None)
CAMPAIGN = """
id: rules_offer
description: An offer that meets every rule.
enabled: true
segment: test_segment
category: marketing
template: {name: test_offer, language: fr, variables: [first_name]}
holdout_share: 0.25
frequency_cap: {max_messages: 2, per_days: 7}
quiet_hours: {start: "21:00", end: "10:00"}
schedule: {cron: "0 11 * * *"}
"""
CONSENT_OUT, STOP_REPLY, META_131050, BACK_IN = phone(1), phone(2), phone(3), phone(4)
CAPPED, NEW_YORK = phone(5), "+12125550123"
ORDINARY = [phone(n) for n in range(10, 30)]


def _marketing_sent(conn, who: str, days_ago: float, n: int) -> None:
    at = T0 - timedelta(days=days_ago)
    conn.execute(
        "insert into activations.outbox (outbox_key, campaign_id, customer_phone, occasion, "
        "variant, channel, message_kind, category, status, created_at, expires_at, sent_at, "
        "updated_at) values (?, 'older_campaign', ?, ?, 'A', 'whatsapp', 'template', "
        "'marketing', 'sent', ?, ?, ?, ?)",
        [f"ob_old_{n}", who, f"o{n}", at, at, at, at],
    )


def _world(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    everyone = [CONSENT_OUT, STOP_REPLY, META_131050, BACK_IN, CAPPED, NEW_YORK, *ORDINARY]
    with connect(warehouse) as conn:
        create_tables(conn)
        add_customers(conn, [p for p in everyone if p not in (CONSENT_OUT, BACK_IN)])
        add_customers(conn, [CONSENT_OUT], consent="opted_out", changed_at=T0 - timedelta(days=9))
        # Stopped last month, resumed last week (customer_360 knows): may be messaged again.
        add_customers(conn, [BACK_IN], consent="opted_in", changed_at=T0 - timedelta(days=7))
        add_inbound(conn, BACK_IN, intent="opt_out", at=NOW - timedelta(days=30))
        # A STOP arrived after the last dbt run: customer_360 does not know it yet.
        add_inbound(conn, STOP_REPLY, intent="opt_out", at=NOW - timedelta(hours=2))
        # Meta refused an earlier marketing message with 131050.
        failed = status_webhook(
            BusinessNumber("1", PNID, "15550783881"), message_id="wamid.OLD",
            recipient_id=META_131050[1:], status="failed", timestamp=1772400000,
            category="marketing", conversation_id="c", error_code=131050,
        )  # fmt: skip
        conn.execute(
            "insert into raw.whatsapp_webhooks values ('r1', 'f.jsonl', 1, ?, 'sha', ?)",
            [json.dumps(failed), T0],
        )
        _marketing_sent(conn, CAPPED, 1, 1)
        _marketing_sent(conn, CAPPED, 6, 2)
        _marketing_sent(conn, ORDINARY[0], 8, 3)  # out of the 7-day window
        add_members(conn, SEGMENT, everyone)
    (tmp_path / "rules_offer.yml").write_text(CAMPAIGN)
    return warehouse, parse_campaign_file(tmp_path / "rules_offer.yml")


def _run(warehouse, campaign, url, at=NOW, run_id="run-1", hooks=None):
    return run_campaign(
        partial(connect, warehouse), MessageSpec.from_campaign(campaign),
        lambda conn, now: campaign_audience(conn, campaign, now), deliverer=deliverer(url),
        dry_run=False, run_id=run_id, now_fn=lambda: at, hooks=hooks,
    )  # fmt: skip


def test_only_customers_every_rule_allows_are_messaged(tmp_path, start):
    warehouse, campaign = _world(tmp_path)
    wa = WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN, phone_number_id=PNID, templates=TEMPLATES
    )
    url = start(wa)
    report = _run(warehouse, campaign, url)

    messaged = {"+" + m.wa_id for m in wa.messages}
    with connect(warehouse, read_only=True) as conn:
        held = {p for (p,) in conn.execute(
            "select customer_phone from activations.outbox where status = 'holdout'").fetchall()}  # fmt: skip
    assert not messaged & {CONSENT_OUT, STOP_REPLY, META_131050, CAPPED, NEW_YORK}
    assert not messaged & held and held  # holdout members are recorded, never sent
    assert messaged | held == {BACK_IN, *ORDINARY}
    assert report.suppressed_by_rule == {
        "suppress:opted_out": 3,
        "defer:frequency_cap": 1,
        "defer:quiet_hours": 1,
    }
    assert report.sent == len(messaged) and report.holdout == len(held)

    # 15:00 UTC is 10:00 in New York: quiet hours over there, the deferred customer is sent.
    again = _run(warehouse, campaign, url, NOW + timedelta(hours=4), "run-2")
    assert {"+" + m.wa_id for m in wa.messages} - messaged == {NEW_YORK} and again.sent == 1
    assert wa.duplicates.duplicates() == []


def test_a_customer_who_opts_out_after_planning_is_not_sent_the_planned_message(tmp_path, start):
    warehouse, campaign = _world(tmp_path)
    wa = WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN, phone_number_id=PNID, templates=TEMPLATES
    )
    url = start(wa)

    def crash(row):
        raise RuntimeError("the run dies after planning, before its first send")

    with pytest.raises(RuntimeError):
        _run(warehouse, campaign, url, hooks=DeliveryHooks(after_claim=crash))
    with connect(warehouse) as conn:
        planned = sorted(p for (p,) in conn.execute(
            "select customer_phone from activations.outbox where status = 'pending' "
            "and campaign_id = 'rules_offer'").fetchall())  # fmt: skip
        changed_mind = planned[0]
        add_inbound(conn, changed_mind, intent="opt_out", at=NOW + timedelta(minutes=20))
    assert wa.requests() == [] and len(planned) > 5

    second = _run(warehouse, campaign, url, NOW + timedelta(hours=1), "later")
    messaged = {"+" + m.wa_id for m in wa.messages}
    assert changed_mind not in messaged and messaged == set(planned) - {changed_mind}
    assert second.suppressed_by_rule["at_send:suppress:opted_out"] == 1
    with connect(warehouse, read_only=True) as conn:
        status = conn.execute(
            "select status, error_message from activations.outbox where customer_phone = ? "
            "and campaign_id = 'rules_offer'",
            [changed_mind],
        ).fetchone()
    assert status == ("suppressed", "opted_out")
