"""WhatsApp campaign throughput under faults (not a test): figures for the senders.

Builds a throwaway warehouse with ``--recipients`` members of a segment, serves the
WhatsApp contract server on loopback with ``--fault-share`` of the requests failing
(500 / 503, hung requests that time out, responses lost after the message was accepted,
throttling: a seeded :class:`FaultPlan`) and a rate limit equal to the configured pace,
runs a utility campaign through the real runner (outbox, claim, concurrent sends), then
settles and re-runs it the way production does (webhooks ingested, reconciliation) until
every row is final. Prints::

    achieved request rate / configured rate  (first pass; target >= 0.8)
    duplicates received by the server         (target 0)
    missed recipients                         (target 0)

    .venv/bin/python -m benchmarks.send_under_faults
    .venv/bin/python -m benchmarks.send_under_faults --recipients 500 --rate 20 --concurrency 8
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from functools import partial
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The warehouse fixtures of the activations tests build the marts the runner reads.
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "tests" / "activations")]

from activation_helpers import WHATSAPP_TOKEN  # noqa: E402
from outbox_harness import BYSTANDER, PNID, outbox, outbox_keys_received  # noqa: E402
from warehouse_fixtures import (  # noqa: E402
    add_customers,
    add_members,
    create_tables,
    ingest_whatsapp,
    phone,
)

from activations.audience import campaign_audience  # noqa: E402
from activations.campaign_config import parse_campaign_file  # noqa: E402
from activations.campaign_planning import MessageSpec  # noqa: E402
from activations.campaign_runner import run_campaign  # noqa: E402
from activations.clients.whatsapp import WhatsAppClient  # noqa: E402
from activations.delivery import WhatsAppDeliverer  # noqa: E402
from common.warehouse import connect  # noqa: E402
from orchestration.dbt_project import prepare_manifest  # noqa: E402
from sandbox.contract_servers import (  # noqa: E402
    ApprovedTemplate,
    FaultPlan,
    WhatsAppContractServer,
    serve,
)

CAMPAIGN = """
id: bench_out_for_delivery
description: Out-for-delivery notice, for the send benchmark.
enabled: true
segment: bench_segment
category: utility
template: {name: bench_notice, language: fr, variables: [first_name]}
holdout_share: 0
schedule: {cron: "0 11 * * *"}
"""
FINAL = {"sent", "failed", "holdout", "unknown_final", "expired", "suppressed"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="configured pace, requests/s")
    parser.add_argument("--concurrency", type=int, default=4, help="sends in flight")
    parser.add_argument("--fault-share", type=float, default=0.2)
    parser.add_argument("--timeout-s", type=float, default=2.0, help="client request timeout")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not 1 <= args.recipients <= 5000 or not 0 < args.rate <= 200:
        parser.error("bounded on purpose: 1–5000 recipients, a rate of at most 200/s")
    logging.basicConfig(level=logging.CRITICAL)  # the figures, not the per-send logs
    prepare_manifest()
    hung = args.timeout_s + 1.0
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        tmp_path = Path(tmp)
        warehouse, landing = tmp_path / "warehouse.duckdb", tmp_path / "landing"
        landing.mkdir()
        phones = [phone(n) for n in range(args.recipients)]
        with connect(warehouse) as conn:
            create_tables(conn)
            add_customers(conn, phones)
            add_members(conn, "bench_segment", phones)
        campaign_file = tmp_path / "bench_out_for_delivery.yml"
        campaign_file.write_text(CAMPAIGN)
        campaign = parse_campaign_file(campaign_file)
        faults = FaultPlan(
            probability=args.fault_share,
            random_faults=["500", "503", f"timeout:{hung}", f"slow:{hung}", "throttle"],
            seed=args.seed,
        )
        wa = WhatsAppContractServer(
            access_token=WHATSAPP_TOKEN,
            phone_number_id=PNID,
            templates=[ApprovedTemplate("bench_notice", ("fr",), 1, (), "UTILITY")],
            landing_dir=landing,
            faults=faults,
            rate_limit_per_s=args.rate,
        )
        url = stack.enter_context(serve(wa))

        def run(run_id: str) -> float:
            client = WhatsAppClient(
                base_url=url,
                phone_number_id=PNID,
                access_token=WHATSAPP_TOKEN,
                max_retries=0,
                timeout_s=args.timeout_s,
                rate_limit_per_s=args.rate,
            )
            sender = WhatsAppDeliverer(client, concurrency=args.concurrency)
            began = time.monotonic()
            try:
                run_campaign(
                    partial(connect, warehouse),
                    MessageSpec.from_campaign(campaign),
                    lambda conn, now: campaign_audience(conn, campaign, now),
                    deliverer=sender,
                    dry_run=False,
                    run_id=run_id,
                    grace=timedelta(0),  # the benchmark's clock: webhooks ingested = settled
                )
            finally:
                sender.close()
            return time.monotonic() - began

        elapsed = run("first-pass")
        requests = len(wa.requests(path_prefix="/v"))
        accepted = len(wa.messages)
        reruns = 0
        while {status for _, _, status in outbox(warehouse)} - FINAL and reruns < 12:
            time.sleep(hung + 0.2)  # requests that lost their client finish on the server
            wa.customer_writes(BYSTANDER, "Bonjour")  # live numbers always have traffic
            wa.flush_webhooks()
            with connect(warehouse) as conn:
                ingest_whatsapp(conn, landing)
            run(f"rerun-{reruns}")
            reruns += 1
        received = outbox_keys_received(wa)
        statuses = {status for _, _, status in outbox(warehouse)}
        missed = sum(1 for key, _, _ in outbox(warehouse) if received[key] == 0)
        duplicates = wa.duplicates.duplicates()
    print(f"recipients: {args.recipients}, configured rate: {args.rate:g}/s, "
          f"concurrency: {args.concurrency}, client timeout: {args.timeout_s:g}s, "
          f"faults injected: {dict(faults.injected)}")  # fmt: skip
    print(f"first pass: {requests} requests in {elapsed:.1f}s, {accepted} accepted")
    print(f"achieved request rate / configured rate: {requests / elapsed / args.rate:.2f}")
    print(f"accepted messages / s / configured rate: {accepted / elapsed / args.rate:.2f}")
    print(f"re-runs to settle: {reruns}; outbox statuses: {sorted(statuses)}")
    print(f"duplicates received by the server: {sum(d['count'] - 1 for d in duplicates)}")
    print(f"missed recipients: {missed}")


if __name__ == "__main__":
    main()
