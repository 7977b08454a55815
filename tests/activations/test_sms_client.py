"""SmsClient against the SMS gateway contract server."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from activation_helpers import FAST, PHONE, PHONE_MASKED, SMS_KEY, RecordingSleep

from activations.clients.errors import VendorAuthError
from activations.clients.sms import SmsClient, SmsStatus
from connectors.ingestion.records import SmsEvent
from sandbox.contract_servers import FaultPlan, SmsContractServer


def client(base_url: str, key: str = SMS_KEY, **kwargs) -> SmsClient:
    return SmsClient(base_url=base_url, api_key=key, **{**FAST, **kwargs})


def test_send_and_events_landed_in_the_sms_envelope(start, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="cod360")
    gateway = SmsContractServer(api_key=SMS_KEY, landing_dir=tmp_path)
    with client(start(gateway)) as sms:
        result = sms.send(
            PHONE, "Votre commande #1042 arrive demain.", client_ref="confirm-1042-v1"
        )
    assert (
        result.status is SmsStatus.SENT
        and result.message_id == "sms_00000001"
        and not result.duplicate
    )
    assert gateway.requests()[0].body == {
        "to": PHONE,
        "body": "Votre commande #1042 arrive demain.",
        "client_ref": "confirm-1042-v1",
    }
    path = gateway.flush_events()
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["status"] for e in events] == ["sent", "delivered"]
    for event in events:
        SmsEvent.model_validate(event)
    assert PHONE_MASKED in caplog.text and PHONE not in caplog.text


def test_same_client_ref_is_not_sent_twice(start):
    gateway = SmsContractServer(api_key=SMS_KEY)
    with client(start(gateway)) as sms:
        first = sms.send(PHONE, "Bonjour", client_ref="ref-1")
        second = sms.send(PHONE, "Bonjour", client_ref="ref-1")
    assert second.duplicate and second.message_id == first.message_id
    assert len(gateway.messages) == 1 and gateway.duplicates.duplicates() == []


def test_lost_response_retried_with_the_same_client_ref_sends_once(start):
    gateway = SmsContractServer(api_key=SMS_KEY, faults=FaultPlan(["slow:0.4"]))
    with client(start(gateway), timeout_s=0.15) as sms:
        result = sms.send(PHONE, "Bonjour", client_ref="ref-lost")
    assert result.status is SmsStatus.SENT
    assert len(gateway.messages) == 1 and gateway.duplicates.duplicates() == []


def test_throttling_and_5xx_are_retried_honouring_retry_after(start):
    gateway = SmsContractServer(api_key=SMS_KEY, faults=FaultPlan(["throttle", "500"]))
    sleep = RecordingSleep()
    with client(start(gateway), sleep=sleep, backoff_max_s=5.0) as sms:
        result = sms.send(PHONE, "Bonjour", client_ref="r")
    assert result.status is SmsStatus.SENT
    assert result.attempts == 3 and sleep.calls[0] == 1.0


def test_permanent_errors_and_opt_outs_are_results(start):
    gateway = SmsContractServer(
        api_key=SMS_KEY, opted_out=[PHONE], faults=FaultPlan([None, "error:invalid_number"])
    )
    with client(start(gateway)) as sms:
        opted_out = sms.send(PHONE, "Promo", client_ref="a")
        invalid = sms.send("+212600000001", "x", client_ref="b")
    assert (opted_out.status, opted_out.error_code) == (SmsStatus.SUPPRESSED_OPT_OUT, "opted_out")
    assert (invalid.status, invalid.error_code, invalid.attempts) == (
        SmsStatus.FAILED_PERMANENT,
        "invalid_number",
        1,
    )


def test_exhausted_retries_become_a_result(start):
    gateway = SmsContractServer(api_key=SMS_KEY, faults=FaultPlan(["503"] * 3))
    with client(start(gateway), max_retries=1) as sms:
        result = sms.send(PHONE, "x", client_ref="r")
    assert (result.status, result.attempts, result.http_status) == (
        SmsStatus.FAILED_TRANSIENT_EXHAUSTED,
        2,
        503,
    )


def test_wrong_key_raises_and_the_server_validates(start, caplog):
    caplog.set_level(logging.DEBUG)
    base_url = start(SmsContractServer(api_key=SMS_KEY))
    with client(base_url, key="sms_wrong_777") as sms, pytest.raises(VendorAuthError) as raised:
        sms.send(PHONE, "x", client_ref="r")
    assert "sms_wrong_777" not in str(raised.value) + caplog.text
    headers = {"Authorization": f"Bearer {SMS_KEY}"}
    bad = httpx.post(
        base_url + "/v1/messages",
        headers=headers,
        json={"to": "0612", "body": "x", "client_ref": "c"},
    )
    assert bad.status_code == 422 and bad.json() == {
        "error": {"code": "invalid_number", "message": "to must be an E.164 phone number."}
    }


def test_a_scripted_customer_answers_the_first_sms_once_in_the_envelope(start, tmp_path):
    server = SmsContractServer(api_key=SMS_KEY, replies={PHONE: "lla"}, landing_dir=tmp_path)
    with client(start(server)) as sms:
        sms.send(PHONE, "Repondez OUI ou NON", client_ref="ob_1")
        sms.send(PHONE, "Repondez OUI ou NON", client_ref="ob_2")
    path = server.flush_events()
    events = [json.loads(line) for line in path.read_text().splitlines()]
    inbound = [e for e in events if e["direction"] == "inbound"]
    assert len(inbound) == 1 and len(events) == 5  # sent + delivered twice, one answer
    (answer,) = inbound
    assert (answer["status"], answer["body"], answer["phone"]) == ("received", "lla", PHONE[1:])
    SmsEvent.model_validate(answer)  # the envelope ingestion accepts
