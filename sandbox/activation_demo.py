"""``python -m sandbox demo``, last stage: the activations, live, against local contract servers.

:func:`run_activation_demo` starts every contract server (``sandbox.demo_servers``)
seeded with the warehouse's open orders, scripts a few customer replies (WhatsApp
buttons; SMS answers to the fallback, in the words customers use), points the
activation resources at the servers and materializes the ``activations`` group three
times:

1. send: campaigns, order confirmations, delivery codes, storefront decisions; a few
   open orders handed to the Yalidine and EcoTrack contract servers, Yalidine's
   webhooks landing its parcels' scans through the signed receiver
   (``sandbox.carrier_webhooks_demo``);
2. follow up: the webhooks and SMS events the servers emitted are ingested, the
   replies settle the outbox, the SMS fallback goes to whoever did not answer (its
   delay set to 0 for the demo), a CANCEL reply becomes a cancel decision;
3. SMS replies: the answers to the fallback are ingested; an SMS NON becomes a cancel
   decision as a CANCEL button does, free text sends the order to the agent queue.

It prints, per campaign, eligible / suppressed by rule / holdout / sent / failed, and
the storefront decisions per score band. The env it sets is removed afterwards.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg

from activations.campaign_config import CAMPAIGNS_DIR
from activations.confirmation import CANCEL, CONFIRM, new_cod_orders
from activations.decisions import decisions_by_band
from activations.warehouse_tables import CAMPAIGN_RUNS, OUTBOX, ensure_activation_tables
from common.settings import Settings
from common.warehouse import connect
from sandbox.carrier_demo import carrier_demo, carrier_lines, hand_over, pull_and_instruct_keys
from sandbox.carrier_webhooks_demo import webhook_lines, yalidine_webhooks
from sandbox.contract_servers import ScriptedReply
from sandbox.demo_servers import demo_servers, simulated_now

FOLLOW_UP = ["raw/whatsapp_webhooks", "raw/sms_events"]


def scripted_replies(warehouse: Path) -> dict[str, ScriptedReply]:
    """Of the customers asked to confirm, two in five tap CONFIRM, one in five CANCEL."""
    from datetime import UTC, datetime

    # The simulated store's clock, as the servers use (sandbox.demo_servers.simulated_now).
    now = simulated_now(warehouse)
    as_of = datetime.fromtimestamp(now, UTC) if now is not None else datetime.now(UTC)
    with connect(warehouse, read_only=True) as conn:
        members = new_cod_orders()(conn, as_of)
    replies = {}
    for i, member in enumerate(sorted({m.customer_phone for m in members})):
        if i % 5 < 2:
            replies[member] = ScriptedReply(button_payload=CONFIRM)
        elif i % 5 == 2:
            replies[member] = ScriptedReply(button_payload=CANCEL)
    return replies  # the other two in five stay silent: they get the SMS fallback


# How the silent ones answer the SMS fallback, in turn (None: they stay silent).
SMS_ANSWERS = ("lla", "iyeh", "chkoun nta?", "Oui", "NON", None)


def scripted_sms_replies(warehouse: Path) -> dict[str, str]:
    """Of the customers silent on WhatsApp, most answer the SMS fallback: OUI / NON in
    Darija or French, or a question in free text."""
    silent = sorted(set(_confirmation_phones(warehouse)) - set(scripted_replies(warehouse)))
    answers = {}
    for i, phone in enumerate(silent):
        answer = SMS_ANSWERS[i % len(SMS_ANSWERS)]
        if answer is not None:
            answers[phone] = answer
    return answers


def _confirmation_phones(warehouse: Path) -> list[str]:
    from datetime import UTC, datetime

    now = simulated_now(warehouse)
    as_of = datetime.fromtimestamp(now, UTC) if now is not None else datetime.now(UTC)
    with connect(warehouse, read_only=True) as conn:
        return sorted({m.customer_phone for m in new_cod_orders()(conn, as_of)})


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _materialize(instance: dg.DagsterInstance, extra_keys: list[str], run_config: dict) -> bool:
    # Definitions are loaded inside: the resources read the servers' env at load time.
    from orchestration.cli import materialize_everything

    selection = " or ".join(["group:activations", *(f"key:{key}" for key in extra_keys)])
    return materialize_everything(instance=instance, selection=selection, run_config=run_config)


_ENABLED_LINE = re.compile(r"^enabled:\s*false\s*$", re.MULTILINE)


def switched_on_campaigns(folder: Path) -> Path:
    """Copies of the shipped campaign files with every campaign switched on.

    The shipped files are off (nothing is sent until someone switches a campaign on); the
    demo store is a brand that has switched all of them on. Returns ``folder``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.y*ml"):
        stale.unlink()
    for path in sorted(CAMPAIGNS_DIR.glob("*.y*ml")):
        (folder / path.name).write_text(
            _ENABLED_LINE.sub("enabled: true", path.read_text(encoding="utf-8")),
            encoding="utf-8",
        )
    return folder


def run_activation_demo(settings: Settings, instance: dg.DagsterInstance | None = None) -> bool:
    """Run the activations live against local contract servers; print what they did."""
    replies = scripted_replies(settings.warehouse_path)
    sms_replies = scripted_sms_replies(settings.warehouse_path)
    campaigns = switched_on_campaigns(settings.data_dir / "campaigns")
    follow_up_config = {
        "ops": {
            "activations__order_confirmation_sms_fallback": {
                "config": {"fallback_after_minutes": 0}
            }
        }
    }
    with (
        demo_servers(
            settings.warehouse_path, settings.landing_dir, replies=replies, sms_replies=sms_replies
        ) as servers,
        carrier_demo(settings.data_dir, simulated_now(settings.warehouse_path)) as carriers,
        _environment({**servers.env, **carriers.env, "COD360_CAMPAIGNS_DIR": str(campaigns)}),
        ExitStack() as stack,
    ):
        # Same instance as the stages before when DAGSTER_HOME is set: the quality gate reads
        # their check evaluations.
        from orchestration.cli import dagster_instance

        run_instance = instance or stack.enter_context(dagster_instance())
        print("  pass 1: send; hand a few open orders to the two carrier APIs", flush=True)
        # Yalidine pushes every parcel it creates and every scan to the signed receiver,
        # which lands the status events in tracking/yalidine/webhooks/ before pass 2
        # ingests them (beside the same scans pulled: staging keeps one row per event).
        with yalidine_webhooks(carriers.yalidine, settings.landing_dir) as hooks:
            hand_over(carriers, settings.warehouse_path)
        first = _materialize(run_instance, [], {})
        servers.flush()
        print(
            "  pass 2: ingest webhooks and replies, follow up; pull the carriers' scans",
            flush=True,
        )
        second = _materialize(
            run_instance, [*FOLLOW_UP, *pull_and_instruct_keys()], follow_up_config
        )
        servers.flush()
        print("  pass 3: ingest SMS replies, decide", flush=True)
        third = _materialize(run_instance, FOLLOW_UP, follow_up_config)
        servers.flush()
        duplicates = servers.whatsapp.duplicates.duplicates() + servers.sms.duplicates.duplicates()
    print_activation_summary(settings.warehouse_path)
    print("\n".join(carrier_lines(settings.warehouse_path)))
    print("\n".join(webhook_lines(hooks)))
    print(f"  messages the servers received twice: {len(duplicates)}")
    return first and second and third and not duplicates


def print_activation_summary(warehouse: Path) -> None:
    """Per campaign: eligible, suppressed by rule, holdout, sent, failed; decisions per band."""
    with connect(warehouse) as conn:
        ensure_activation_tables(conn)
        # Eligible and holdout are new members per run (summed); the rules are evaluated
        # afresh every run, so the latest run's counts describe the present.
        runs = conn.execute(
            f"""
            select campaign_id, sum(eligible), sum(holdout),
                arg_max(suppressed_by_rule, finished_at)
            from {CAMPAIGN_RUNS} where not dry_run group by 1 order by 1
            """
        ).fetchall()
        outbox = dict(
            ((c, s), n)
            for c, s, n in conn.execute(
                f"select campaign_id, status, count(*) from {OUTBOX} group by 1, 2"
            ).fetchall()
        )
        bands = decisions_by_band(conn)
    print("\nActivations (live runs against the contract servers)")
    print(
        f"  {'campaign':<32}{'eligible':>9}{'holdout':>9}{'sent':>7}{'failed':>8}{'waiting':>9}  suppressed by rule"
    )
    for campaign, eligible, holdout, latest_rules in runs:
        rules = json.loads(latest_rules)
        waiting = sum(
            outbox.get((campaign, s), 0) for s in ("pending", "retry", "sending", "unknown")
        )
        suppressed = ", ".join(f"{k} {v}" for k, v in sorted(rules.items())) or "-"
        print(
            f"  {campaign:<32}{eligible:>9}{holdout:>9}{outbox.get((campaign, 'sent'), 0):>7}"
            f"{outbox.get((campaign, 'failed'), 0):>8}{waiting:>9}  {suppressed}"
        )
    print("\nStorefront decisions (current decision per order, by score band)")
    for band, counts in bands.items():
        print(f"  {band:<14}" + ", ".join(f"{k} {v}" for k, v in counts.items()))
