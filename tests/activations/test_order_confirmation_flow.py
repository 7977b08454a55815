"""Order confirmation: the template, its callback data, replies, and the SMS fallback after 2 h."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from urllib.parse import parse_qs

import duckdb
from activation_helpers import SMS_KEY, WHATSAPP_TOKEN
from outbox_harness import PNID, deliverer
from warehouse_fixtures import (
    NOW,
    add_customers,
    add_inbound,
    add_order,
    create_tables,
    ingest_whatsapp,
    phone,
)

from activations.campaign_runner import run_campaign
from activations.clients.sms import SmsClient
from activations.confirmation import (
    confirmation_spec,
    new_cod_orders,
    sms_fallback_spec,
    unanswered_confirmations,
)
from activations.delivery import SmsDeliverer
from activations.suppression import add_suppression
from common.warehouse import connect
from sandbox.contract_servers import (
    RecipientFailure,
    SmsContractServer,
    WhatsAppContractServer,
)
from sandbox.contract_servers.whatsapp_validation import ApprovedTemplate

REPLIED, SILENT, OPTED_OUT, UNDELIVERABLE = phone(1), phone(2), phone(3), phone(4)
CONFIRMED, PREPAID, OLD = phone(5), phone(6), phone(7)
# The staging model's parsing of biz_opaque_callback_data (stg_whatsapp__message_statuses).
STAGING_PARSE = """
select regexp_extract(?, 'order_ref=([^&]+)', 1), regexp_extract(?, 'template=([^&]+)', 1),
    regexp_extract(?, 'campaign=([^&]+)', 1)
"""


def _world(tmp_path):
    warehouse, landing = tmp_path / "warehouse.duckdb", tmp_path / "landing"
    with connect(warehouse) as conn:
        create_tables(conn)
        add_customers(conn, [REPLIED, SILENT, UNDELIVERABLE, CONFIRMED, PREPAID, OLD])
        add_customers(conn, [OPTED_OUT], consent="opted_out", changed_at=NOW.replace(tzinfo=None))
        # A marketing opt-out alone no longer stops the order's own confirmation (Meta's
        # categories, activations/opt_out.py): this customer also answered STOP ALL.
        stopped_at = NOW.replace(tzinfo=None)
        add_suppression(conn, OPTED_OUT, "stop_all_reply", "sms-1", stopped_at, stopped_at)
        for n, who in enumerate([REPLIED, SILENT, OPTED_OUT, UNDELIVERABLE], start=1):
            add_order(conn, f"shopify:{1000 + n}", who)
        add_order(conn, "woocommerce:55", CONFIRMED, status="confirmed", confirmation="confirmed")
        add_order(conn, "youcan:abc-1", PREPAID, cod=False)
        add_order(conn, "shopify:999", OLD, placed_at=NOW - timedelta(days=5))
    return warehouse, landing


def _run(warehouse, spec, audience, sender, at):
    return run_campaign(
        partial(connect, warehouse), spec, audience, deliverer=sender, dry_run=False,
        run_id=f"run-{at.isoformat()}", now_fn=lambda: at,
    )  # fmt: skip


def test_new_cod_orders_get_confirm_cancel_and_silence_gets_one_sms_after_two_hours(
    tmp_path, start
):
    warehouse, landing = _world(tmp_path)
    wa = WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN,
        phone_number_id=PNID,
        templates=[ApprovedTemplate("order_confirmation", ("fr",), 3, ("Confirmer", "Annuler"))],
        failures={UNDELIVERABLE: RecipientFailure(131026, via="webhook")},
        landing_dir=landing,
    )
    sms = SmsContractServer(api_key=SMS_KEY)
    wa_url, sms_url = start(wa), start(sms)
    report = _run(warehouse, confirmation_spec(), new_cod_orders(), deliverer(wa_url), NOW)
    assert report.sent == 3 and report.suppressed_by_rule == {"suppress:opted_out": 1}

    asked = {"+" + m.wa_id: m for m in wa.messages}
    assert set(asked) == {REPLIED, SILENT, UNDELIVERABLE}
    for _who, message in asked.items():
        assert message.template == "order_confirmation"
        assert message.button_payloads == ["CONFIRM", "CANCEL"]
        fields = parse_qs(message.callback_data)
        assert set(fields) == {"order_ref", "template", "campaign", "outbox"}
        ref = fields["order_ref"][0]
        assert message.callback_data.startswith(
            f"order_ref={ref}&template=order_confirmation&campaign=order_confirmation&outbox="
        )
        parsed = duckdb.connect().execute(STAGING_PARSE, [message.callback_data] * 3).fetchone()
        assert parsed == (ref, "order_confirmation", "order_confirmation")
    body = wa.requests(path_prefix="/v")[0].body
    assert body["template"]["components"][0]["parameters"][0]["text"] == "Salma"

    # The customer taps CONFIRM (a reply tied to the message by context.id); Meta reports the
    # undeliverable number as failed; both reach the warehouse through the webhooks.
    with connect(warehouse) as conn:
        (message_id,) = conn.execute(
            "select message_id from activations.outbox where customer_phone = ?", [REPLIED]
        ).fetchone()
        add_inbound(conn, REPLIED, intent="confirm", replied_to=message_id, at=NOW)
        wa.flush_webhooks()
        ingest_whatsapp(conn, landing)

    with SmsClient(base_url=sms_url, api_key=SMS_KEY, rate_limit_per_s=None) as client:
        sender = SmsDeliverer(client)
        one_hour = _run(warehouse, sms_fallback_spec(), unanswered_confirmations(), sender,
                        NOW + timedelta(hours=1))  # fmt: skip
        assert [m["to"] for m in _sms(sms)] == [UNDELIVERABLE]  # failed: no need to wait
        assert one_hour.sent == 1
        three_hours = _run(warehouse, sms_fallback_spec(), unanswered_confirmations(), sender,
                           NOW + timedelta(hours=3))  # fmt: skip
        again = _run(warehouse, sms_fallback_spec(), unanswered_confirmations(), sender,
                     NOW + timedelta(hours=5))  # fmt: skip
    assert three_hours.sent == 1 and again.sent == 0 and again.already_handled == 2
    assert sorted(m["to"] for m in _sms(sms)) == sorted([UNDELIVERABLE, SILENT])
    assert sms.duplicates.duplicates() == []
    texts = {m["to"]: m["body"] for m in _sms(sms)}
    assert "#1002" in texts[SILENT] and "OUI" in texts[SILENT]
    # The opted-out customer was never contacted on any channel.
    assert OPTED_OUT[1:] not in {m.wa_id for m in wa.messages}
    assert OPTED_OUT not in texts


def _sms(server: SmsContractServer) -> list[dict]:
    return [r.body for r in server.requests(path_prefix="/v1/messages") if r.status == 201]
