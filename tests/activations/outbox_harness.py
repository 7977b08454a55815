"""A campaign, a warehouse and a WhatsApp contract server wired for the exactly-once tests.

Used in-process by the tests and, for the kill tests, by ``send_loop_process.py`` in a
child process that the test SIGKILLs.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs

from activation_helpers import WHATSAPP_TOKEN
from warehouse_fixtures import add_customers, add_members, create_tables, ingest_whatsapp, phone

from activations.audience import campaign_audience
from activations.campaign_config import Campaign, parse_campaign_file
from activations.campaign_planning import MessageSpec
from activations.campaign_runner import CampaignReport, DeliveryHooks, run_campaign
from activations.clients.whatsapp import WhatsAppClient
from activations.delivery import WhatsAppDeliverer
from common.warehouse import connect
from sandbox.contract_servers import ApprovedTemplate, FaultPlan, WhatsAppContractServer

PNID = "106540352242922"
SEGMENT = "test_segment"
BYSTANDER = "+212699999999"
CAMPAIGN_YAML = """
id: exactly_once_offer
description: A marketing offer used by the exactly-once tests.
enabled: true
segment: test_segment
category: marketing
template: {name: test_offer, language: fr, variables: [first_name], buttons: [INTERESTED, STOP]}
variants:
  - {name: A, share: 0.5}
  - {name: B, share: 0.5, template: test_offer_b}
holdout_share: 0.2
schedule: {cron: "0 11 * * *"}
"""
TEMPLATES = [
    ApprovedTemplate("test_offer", ("fr",), 1, ("Oui", "Stop"), "MARKETING"),
    ApprovedTemplate("test_offer_b", ("fr",), 1, ("Oui", "Stop"), "MARKETING"),
]
FAULTS = ["500", "503", "timeout:0.4", "throttle", "slow:0.5"]


def build_world(tmp: Path, customers: int) -> tuple[Path, Path, Campaign, list[str]]:
    """A warehouse with ``customers`` members of the segment, and the campaign file."""
    warehouse, landing = tmp / "warehouse.duckdb", tmp / "landing"
    landing.mkdir(exist_ok=True)
    phones = [phone(n) for n in range(customers)]
    with connect(warehouse) as conn:
        create_tables(conn)
        add_customers(conn, phones)
        add_members(conn, SEGMENT, phones)
    (tmp / "campaigns").mkdir(exist_ok=True)
    path = tmp / "campaigns" / "exactly_once_offer.yml"
    path.write_text(CAMPAIGN_YAML)
    return warehouse, landing, parse_campaign_file(path), phones


def server(landing: Path, faults: FaultPlan | None = None) -> WhatsAppContractServer:
    return WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN,
        phone_number_id=PNID,
        templates=TEMPLATES,
        landing_dir=landing,
        faults=faults,
    )


def deliverer(base_url: str, timeout_s: float = 0.3, concurrency: int = 1) -> WhatsAppDeliverer:
    client = WhatsAppClient(
        base_url=base_url,
        phone_number_id=PNID,
        access_token=WHATSAPP_TOKEN,
        max_retries=0,
        timeout_s=timeout_s,
        rate_limit_per_s=None,
    )
    return WhatsAppDeliverer(client, backoff_s=0.01, concurrency=concurrency)


def run_once(
    warehouse: Path,
    campaign: Campaign,
    base_url: str,
    *,
    run_id: str,
    grace: timedelta = timedelta(0),
    hooks: DeliveryHooks | None = None,
    timeout_s: float = 0.3,
    concurrency: int = 1,
) -> CampaignReport:
    sender = deliverer(base_url, timeout_s, concurrency)
    try:
        return run_campaign(
            partial(connect, warehouse),
            MessageSpec.from_campaign(campaign),
            lambda conn, now: campaign_audience(conn, campaign, now),
            deliverer=sender,
            dry_run=False,
            run_id=run_id,
            grace=grace,
            hooks=hooks,
        )
    finally:
        sender.close()


def settle(wa: WhatsAppContractServer, warehouse: Path, landing: Path) -> None:
    """What happens between runs in production: webhooks land and are ingested.

    An unrelated customer writes in first: a live WhatsApp number always has some webhook
    traffic, which is what tells reconciliation the webhook pipeline is flowing.
    """
    wa.customer_writes(BYSTANDER, "Bonjour")
    wa.flush_webhooks()
    with connect(warehouse) as conn:
        ingest_whatsapp(conn, landing)


def outbox_keys_received(wa: WhatsAppContractServer) -> Counter:
    """How many messages the server accepted per outbox key (from the callback data)."""
    return Counter(parse_qs(m.callback_data or "")["outbox"][0] for m in wa.messages)


def outbox(
    warehouse: Path, sql: str = "select outbox_key, customer_phone, status from activations.outbox"
):
    with connect(warehouse, read_only=True) as conn:
        return conn.execute(sql).fetchall()
