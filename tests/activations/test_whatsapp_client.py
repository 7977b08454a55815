"""WhatsAppClient against the WhatsApp contract server: every outcome class, over real HTTP."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest
from activation_helpers import FAST, PHONE, PHONE_MASKED, WHATSAPP_TOKEN, RecordingSleep

from activations.clients.errors import VendorAccountError, VendorAuthError, VendorTemplateError
from activations.clients.whatsapp import (
    ACTION_ECOSYSTEM,
    ACTION_OPT_OUT,
    ACTION_REENGAGEMENT,
    ErrorClass,
    SendStatus,
    WhatsAppClient,
    classify_error,
)
from sandbox.contract_servers import FaultPlan, RecipientFailure, WhatsAppContractServer

PHONE_NUMBER_ID = "106540352242922"
CONFIRMATION = ("cod_order_confirmation", "fr")
CONFIRMATION_PARAMS = ("Salma", "#1042", "349 MAD")


def server(**kwargs) -> WhatsAppContractServer:
    kwargs.setdefault("policy_errors_via", "response")
    return WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN, phone_number_id=PHONE_NUMBER_ID, **kwargs
    )


def client(base_url: str, token: str = WHATSAPP_TOKEN, **kwargs) -> WhatsAppClient:
    options = {**FAST, **kwargs}
    return WhatsAppClient(
        base_url=base_url, phone_number_id=PHONE_NUMBER_ID, access_token=token, **options
    )


def send_confirmation(
    wa: WhatsAppClient, callback: str = "order_ref=shopify:1&template=c&campaign=k"
):
    return wa.send_template(
        PHONE,
        *CONFIRMATION,
        body_params=CONFIRMATION_PARAMS,
        button_payloads=("CONFIRM", "CANCEL"),
        callback_data=callback,
    )


def test_template_send_posts_meta_payload_and_parses_success(start):
    wa_server = server()
    with client(start(wa_server)) as wa:
        result = send_confirmation(wa)

    assert result.status is SendStatus.SENT
    assert result.message_id.startswith("wamid.")
    assert result.message_status == "accepted"
    assert result.wa_id == "212612345678"
    assert result.attempts == 1
    (request,) = wa_server.requests()
    assert request.path == f"/v23.0/{PHONE_NUMBER_ID}/messages"
    assert request.auth_scheme == "Bearer"
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PHONE,
        "type": "template",
        "template": {
            "name": "cod_order_confirmation",
            "language": {"code": "fr"},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": t} for t in CONFIRMATION_PARAMS],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": "CONFIRM"}],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "1",
                    "parameters": [{"type": "payload", "payload": "CANCEL"}],
                },
            ],
        },
        "biz_opaque_callback_data": "order_ref=shopify:1&template=c&campaign=k",
    }


def test_text_inside_the_customer_service_window_is_sent(start):
    wa_server = server(open_windows=[PHONE])
    with client(start(wa_server)) as wa:
        result = wa.send_text(PHONE, "Votre colis arrive demain.")
    assert result.sent and result.message_status is None  # Meta sets it for templates only
    assert wa_server.requests()[0].body["text"] == {
        "body": "Votre colis arrive demain.",
        "preview_url": False,
    }


@pytest.mark.parametrize("code", [130429, 80007, 131056, 4])
def test_throttling_codes_are_retried_then_sent(start, code, caplog):
    wa_server = server(faults=FaultPlan([f"error:{code}", f"error:{code}"]))
    caplog.set_level(logging.WARNING, logger="cod360.activations")
    with client(start(wa_server)) as wa:
        result = send_confirmation(wa)
    assert result.sent and result.attempts == 3
    assert len(wa_server.requests()) == 3
    assert [r.status for r in wa_server.requests()] == [
        400,
        400,
        200,
    ]  # Meta throttles with HTTP 400
    assert PHONE_MASKED in caplog.text and "212612345678" not in caplog.text


def test_server_rate_limit_is_absorbed_by_retries(start):
    wa_server = server(rate_limit_per_s=50, rate_limit_burst=1)
    with client(start(wa_server), backoff_base_s=0.05, backoff_max_s=0.2, max_retries=8) as wa:
        results = [send_confirmation(wa, callback=f"order_ref=shopify:{i}") for i in range(5)]
    assert all(r.sent for r in results)
    assert any(r.fault == "rate_limited" for r in wa_server.requests())
    assert len(wa_server.messages) == 5 and wa_server.duplicates.duplicates() == []


def test_retry_after_header_is_honoured(start):
    wa_server = server(
        faults=FaultPlan(["throttle"]), throttle_retry_after=True, throttle_http_status=429
    )
    sleep = RecordingSleep()
    with client(start(wa_server), sleep=sleep, backoff_max_s=5.0) as wa:
        assert send_confirmation(wa).sent
    assert sleep.calls == [1.0]


def test_transient_failures_are_retried_within_limits(start):
    script = ["500", "503", "502", "timeout:0.5", "error:131000", "error:131016"]
    wa_server = server(faults=FaultPlan(script))
    with client(start(wa_server), max_retries=6, timeout_s=0.2) as wa:
        result = send_confirmation(wa)
    assert result.sent and result.attempts == 7
    assert len(wa_server.messages) == 1  # the timed-out request was never processed


def test_transient_failures_exhaust_into_a_result(start):
    wa_server = server(faults=FaultPlan(["503", "503", "503", "503"]))
    with client(start(wa_server), max_retries=2) as wa:
        result = send_confirmation(wa)
    assert result.status is SendStatus.FAILED_TRANSIENT_EXHAUSTED
    assert result.attempts == 3 and result.error_code == 2 and result.http_status == 503
    assert len(wa_server.requests()) == 3


def test_connection_errors_are_transient():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with client(f"http://127.0.0.1:{port}", max_retries=1) as wa:
        result = send_confirmation(wa)
    assert (result.status, result.attempts, result.error_code) == (
        SendStatus.FAILED_TRANSIENT_EXHAUSTED,
        2,
        None,
    )


@pytest.mark.parametrize("code", [131026, 131047, 131051, 100])
def test_permanent_errors_are_not_retried(start, code):
    wa_server = server(faults=FaultPlan([f"error:{code}"]))
    with client(start(wa_server)) as wa:
        result = send_confirmation(wa)
    assert result.status is SendStatus.FAILED_PERMANENT
    assert result.error_code == code and result.attempts == 1
    assert result.error_title and result.fbtrace_id
    assert len(wa_server.requests()) == 1


@pytest.mark.parametrize("code", [132000, 132001, 132012, 132015, 132016])
def test_template_errors_stop_the_run_naming_code_and_template(start, code):
    """A template refused by Meta fails every send of it alike: an exception for the run
    (the breaker), not a per-row failure; never retried."""
    wa_server = server(faults=FaultPlan([f"error:{code}"]))
    with client(start(wa_server)) as wa, pytest.raises(VendorTemplateError) as raised:
        send_confirmation(wa)
    assert raised.value.code == code and raised.value.template == CONFIRMATION[0]
    assert CONFIRMATION[0] in str(raised.value) and WHATSAPP_TOKEN not in str(raised.value)
    assert len(wa_server.requests()) == 1


def test_template_problems_found_by_the_server_stop_the_run(start):
    wa_server = server()
    with client(start(wa_server)) as wa:
        with pytest.raises(VendorTemplateError) as unknown:
            wa.send_template(PHONE, "cod_order_confirmation", "en", body_params=CONFIRMATION_PARAMS)
        with pytest.raises(VendorTemplateError) as wrong_count:
            wa.send_template(PHONE, *CONFIRMATION, body_params=("Salma", "#1042"))
        with pytest.raises(VendorTemplateError) as bad_button:
            wa.send_template(
                PHONE,
                *CONFIRMATION,
                body_params=CONFIRMATION_PARAMS,
                button_payloads=("A", "B", "C"),
            )
    assert unknown.value.code == 132001 and "does not exist in en" in str(unknown.value)
    assert wrong_count.value.code == 132000 and "(2)" in str(wrong_count.value)
    assert bad_button.value.code == 132000
    assert wa_server.messages == []


def test_outside_the_24h_window_text_fails_with_reengagement_advice(start):
    with client(start(server())) as wa:
        result = wa.send_text(PHONE, "Bonjour")
    assert (result.status, result.error_code) == (SendStatus.FAILED_PERMANENT, 131047)
    assert result.action == ACTION_REENGAGEMENT


def test_marketing_opt_out_is_suppressed(start):
    wa_server = server(opted_out=[PHONE])
    with client(start(wa_server)) as wa:
        result = wa.send_template(PHONE, "vip_offer", "fr", body_params=("Salma",))
        utility = send_confirmation(wa)  # opt-out covers marketing only
    assert result.status is SendStatus.SUPPRESSED_OPT_OUT and result.error_code == 131050
    assert result.action == ACTION_OPT_OUT == "opted out: add to suppression"
    assert result.attempts == 1
    assert utility.sent


def test_ecosystem_limit_defers_for_24h(start):
    wa_server = server(failures={PHONE: RecipientFailure(131049)})
    with client(start(wa_server)) as wa:
        result = send_confirmation(wa)
    assert result.status is SendStatus.DEFERRED_24H and result.action == ACTION_ECOSYSTEM
    assert result.retry_not_before - datetime.now(UTC) > timedelta(hours=23, minutes=59)
    assert len(wa_server.requests()) == 1


def test_rejected_token_stops_the_run_without_leaking_it(start, caplog):
    wrong = "EAAGwrong-token-that-must-not-leak-55"
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    with client(start(server()), token=wrong) as wa:
        with pytest.raises(VendorAuthError) as raised:
            send_confirmation(wa)
        assert wrong not in repr(wa)
    assert raised.value.code == 190
    assert "access token rejected" in str(raised.value)
    assert wrong not in str(raised.value) and wrong not in repr(raised.value)
    assert wrong not in caplog.text


def test_token_never_logged_on_a_normal_run(start, caplog):
    caplog.set_level(logging.DEBUG)
    wa_server = server(faults=FaultPlan(["503", "error:130429"]))
    with client(start(wa_server)) as wa:
        result = send_confirmation(wa)
    assert result.sent and caplog.records  # something was logged…
    assert WHATSAPP_TOKEN not in caplog.text  # …but never the token
    assert "212612345678" not in caplog.text


@pytest.mark.parametrize("code", [368, 131031, 10])
def test_account_level_errors_stop_the_run(start, code):
    with (
        client(start(server(faults=FaultPlan([f"error:{code}"])))) as wa,
        pytest.raises(VendorAccountError),
    ):
        send_confirmation(wa)


@pytest.mark.parametrize(
    ("code", "http", "expected"),
    [
        (130429, 400, ErrorClass.THROTTLED),
        (None, 429, ErrorClass.THROTTLED),
        (131000, 500, ErrorClass.TRANSIENT),
        (None, 502, ErrorClass.TRANSIENT),
        (131026, 400, ErrorClass.PERMANENT),
        (999999, 400, ErrorClass.PERMANENT),  # unknown code on a 4xx: don't hammer Meta
        (999999, 500, ErrorClass.TRANSIENT),
        (131050, 400, ErrorClass.OPT_OUT),
        (131049, 400, ErrorClass.ECOSYSTEM_LIMIT),
        (190, 401, ErrorClass.AUTH),
        (190, 400, ErrorClass.AUTH),  # the code decides, not the HTTP status
    ],
)
def test_classify_error_decides_on_the_code(code, http, expected):
    assert classify_error(code, http) is expected
