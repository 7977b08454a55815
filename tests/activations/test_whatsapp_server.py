"""The WhatsApp contract server: request validation, webhooks written to landing, duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from activation_helpers import FAST, PHONE, WHATSAPP_TOKEN

from activations.clients.whatsapp import SendStatus, WhatsAppClient
from connectors.ingestion.records import WhatsAppWebhook
from sandbox.contract_servers import ScriptedReply, WhatsAppContractServer

PNID = "106540352242922"
PARAMS = ("Salma", "#1042", "349 MAD")
CALLBACK = "order_ref=shopify:5123456789&template=cod_order_confirmation&campaign=confirm-2026"


def client(base_url: str) -> WhatsAppClient:
    return WhatsAppClient(
        base_url=base_url, phone_number_id=PNID, access_token=WHATSAPP_TOKEN, **FAST
    )


def post(
    base_url: str, body: dict, token: str = WHATSAPP_TOKEN, path: str = f"/v23.0/{PNID}/messages"
):
    return httpx.post(base_url + path, json=body, headers={"Authorization": f"Bearer {token}"})


def read_landing(landing) -> list[dict]:
    files = sorted((landing / "messages" / "whatsapp").iterdir())
    assert files and all(f.suffix == ".jsonl" for f in files), files  # no .tmp left behind
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


def statuses(bodies: list[dict]) -> list[dict]:
    return [
        s
        for b in bodies
        for e in b["entry"]
        for c in e["changes"]
        for s in c["value"].get("statuses", [])
    ]


def inbound(bodies: list[dict]) -> list[dict]:
    return [
        m
        for b in bodies
        for e in b["entry"]
        for c in e["changes"]
        for m in c["value"].get("messages", [])
    ]


def test_accepted_message_emits_status_webhooks_and_a_confirm_reply(start, tmp_path):
    wa_server = WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN,
        phone_number_id=PNID,
        landing_dir=tmp_path,
        read_probability=1.0,
        replies={PHONE: ScriptedReply(button_payload="CONFIRM", profile_name="Salma")},
    )
    with client(start(wa_server)) as wa:
        sent = wa.send_template(
            PHONE,
            "cod_order_confirmation",
            "fr",
            body_params=PARAMS,
            button_payloads=("CONFIRM", "CANCEL"),
            callback_data=CALLBACK,
        )
        after_reply = wa.send_text(PHONE, "Merci, votre commande est confirmée.")  # window now open
    path = wa_server.flush_webhooks()

    assert sent.sent and after_reply.sent
    assert path.parent == tmp_path / "messages" / "whatsapp" and path.name.endswith(".jsonl")
    bodies = read_landing(tmp_path)
    for body in bodies:  # every line is a webhook the ingestion accepts
        WhatsAppWebhook.model_validate(body)
        assert body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] == PNID
    first = [s for s in statuses(bodies) if s["id"] == sent.message_id]
    assert [s["status"] for s in first] == ["sent", "delivered", "read"]
    assert all(
        s["biz_opaque_callback_data"] == CALLBACK and s["recipient_id"] == "212612345678"
        for s in first
    )
    assert first[0]["conversation"]["origin"]["type"] == "utility"
    assert [int(s["timestamp"]) for s in first] == sorted(int(s["timestamp"]) for s in first)
    (reply,) = inbound(bodies)
    assert reply["type"] == "button"
    assert reply["button"] == {"payload": "CONFIRM", "text": "Confirmer"}
    assert reply["context"]["id"] == sent.message_id
    assert reply["from"] == "212612345678"
    assert wa_server.pending_webhooks() == []
    assert wa_server.flush_webhooks() is None  # nothing left: no empty file


def test_policy_failures_arrive_as_failed_status_webhooks_by_default(start, tmp_path):
    """Meta accepts the send and reports opt-outs / undeliverables by webhook."""
    wa_server = WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN, phone_number_id=PNID, landing_dir=tmp_path, opted_out=[PHONE]
    )
    with client(start(wa_server)) as wa:
        result = wa.send_template(
            PHONE, "vip_offer", "fr", body_params=("Salma",), callback_data=CALLBACK
        )
    wa_server.flush_webhooks()
    assert result.status is SendStatus.SENT  # the send itself succeeded
    (failed,) = statuses(read_landing(tmp_path))
    assert failed["status"] == "failed" and failed["id"] == result.message_id
    assert failed["errors"][0]["code"] == 131050
    assert failed["biz_opaque_callback_data"] == CALLBACK


def test_stop_marketing_emits_user_preferences_and_blocks_marketing(start, tmp_path):
    wa_server = WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN,
        phone_number_id=PNID,
        landing_dir=tmp_path,
        policy_errors_via="response",
    )
    base_url = start(wa_server)
    assert httpx.post(base_url + "/_admin/opt-out", json={"to": PHONE}).status_code == 200
    with client(base_url) as wa:
        assert (
            wa.send_template(PHONE, "vip_offer", "fr", body_params=("S",)).status
            is SendStatus.SUPPRESSED_OPT_OUT
        )
    flushed = httpx.post(base_url + "/_admin/flush").json()["file"]
    (body,) = [json.loads(line) for line in Path(flushed).read_text().splitlines()]
    WhatsAppWebhook.model_validate(body)
    change = body["entry"][0]["changes"][0]
    assert change["field"] == "user_preferences"
    assert change["value"]["user_preferences"][0] | {"timestamp": 0} == {
        "wa_id": "212612345678",
        "detail": "User requested to stop marketing messages",
        "category": "marketing_messages",
        "value": "stop",
        "timestamp": 0,
    }


def test_scripted_reply_via_admin_and_customer_initiated_window(start, tmp_path):
    wa_server = WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN, phone_number_id=PNID, landing_dir=tmp_path
    )
    base_url = start(wa_server)
    httpx.post(base_url + "/_admin/replies", json={"to": PHONE, "text": "STOP"}).raise_for_status()
    httpx.post(
        base_url + "/_admin/inbound", json={"from": "+212698765432", "text": "Bonjour"}
    ).raise_for_status()
    with client(base_url) as wa:
        sent = wa.send_template(PHONE, "out_for_delivery", "ar", body_params=("Salma", "Amana"))
        text = wa.send_text("+212698765432", "Bonjour, comment puis-je aider ?")
    assert sent.sent and text.sent  # the customer wrote first: free-form text allowed
    wa_server.flush_webhooks()
    replies = {m["text"]["body"]: m for m in inbound(read_landing(tmp_path))}
    assert replies["STOP"]["context"]["id"] == sent.message_id
    assert "context" not in replies["Bonjour"]


def test_same_message_twice_is_recorded_as_a_duplicate(start):
    wa_server = WhatsAppContractServer(access_token=WHATSAPP_TOKEN, phone_number_id=PNID)
    with client(start(wa_server)) as wa:
        for callback in (CALLBACK, CALLBACK, CALLBACK + "-other"):
            wa.send_template(
                PHONE, "cod_order_confirmation", "fr", body_params=PARAMS, callback_data=callback
            )
    (duplicate,) = wa_server.duplicates.duplicates()
    assert duplicate["count"] == 2
    assert duplicate["key"] == ["212612345678", "template", "cod_order_confirmation", CALLBACK]


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}, None, 131008),
        (
            {"messaging_product": "whatsapp", "to": PHONE, "type": "image", "image": {"id": "1"}},
            None,
            131051,
        ),
        ({"messaging_product": "whatsapp", "to": PHONE, "type": "carrier_pigeon"}, None, 100),
        (
            {"messaging_product": "sms", "to": PHONE, "type": "text", "text": {"body": "x"}},
            None,
            100,
        ),
        (
            {
                "messaging_product": "whatsapp",
                "to": PHONE,
                "type": "template",
                "template": {"name": "x"},
            },
            None,
            131008,
        ),
        (
            {"messaging_product": "whatsapp", "to": PHONE, "type": "text", "text": {"body": "x"}},
            "/v23.0/999/messages",
            100,
        ),
    ],
)
def test_invalid_requests_get_meta_errors(start, body, path, code):
    base_url = start(WhatsAppContractServer(access_token=WHATSAPP_TOKEN, phone_number_id=PNID))
    response = post(base_url, body, path=path or f"/v23.0/{PNID}/messages")
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == code
    assert error["type"] == "OAuthException" and error["message"].startswith(f"(#{code})")
    assert error["error_data"]["messaging_product"] == "whatsapp" and error["fbtrace_id"]


def test_wrong_token_is_190_with_http_401_and_not_echoed(start):
    base_url = start(WhatsAppContractServer(access_token=WHATSAPP_TOKEN, phone_number_id=PNID))
    response = post(base_url, {"messaging_product": "whatsapp"}, token="wrong-token-xyz")
    assert response.status_code == 401 and response.json()["error"]["code"] == 190
    assert "wrong-token-xyz" not in response.text and WHATSAPP_TOKEN not in response.text
