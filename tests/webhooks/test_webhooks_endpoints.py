"""Endpoint behaviour through Starlette's TestClient: what is accepted, refused, and landed."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest
from starlette.testclient import TestClient
from webhook_helpers import (
    LIGHTFUNNELS_SECRET,
    SHOPIFY_SECRET,
    VERIFY_TOKEN,
    WHATSAPP_SECRET,
    carrier_headers,
    closed_lines,
    open_files,
    shopify_headers,
    tracking_event,
    whatsapp_body,
    whatsapp_headers,
)

from connectors.ingestion import records
from connectors.webhooks import create_app
from connectors.webhooks.signatures import sign_base64, sign_hex


def _server_log(caplog) -> str:
    """What the receiver logged (the test client's own httpx log shows the URL it sent)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("cod360"))


# --- WhatsApp ---------------------------------------------------------------------


def test_handshake_echoes_challenge_with_the_right_token(client):
    response = client.get(
        "/webhooks/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_handshake_refuses_wrong_token_or_mode(client, params):
    response = client.get("/webhooks/whatsapp", params=params)
    assert response.status_code == 403
    assert "1" not in response.text.replace("verification failed", "")


def test_access_log_never_contains_the_verify_token(client, caplog):
    with caplog.at_level(logging.INFO):
        client.get(
            "/webhooks/whatsapp",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "9",
            },
        )
    server_log = _server_log(caplog)
    assert "GET /webhooks/whatsapp 200" in server_log
    assert VERIFY_TOKEN not in server_log


def test_whatsapp_body_lands_byte_for_byte(settings, landing):
    body = whatsapp_body("wamid.A1")
    with TestClient(create_app(settings)) as client:
        response = client.post("/webhooks/whatsapp", content=body, headers=whatsapp_headers(body))
        assert response.status_code == 200
        assert response.json() == {"status": "accepted", "records": 1}
    assert closed_lines(landing, "messages/whatsapp/*.jsonl") == [body]
    assert open_files(landing) == []


def test_whatsapp_bad_signatures_get_401_and_land_nothing(settings, landing):
    body = whatsapp_body("wamid.A1")
    reserialised = json.dumps(json.loads(body), indent=None).encode()  # same value, other spacing
    assert reserialised != body
    with TestClient(create_app(settings)) as client:
        attempts = [
            (reserialised, whatsapp_headers(body)),  # signature of the original bytes
            (body, whatsapp_headers(body, secret="another-app-secret")),
            (
                body,
                {"X-Hub-Signature-256": sign_hex(WHATSAPP_SECRET, body)[7:]},
            ),  # no sha256= prefix
            (body, {}),
        ]
        for content, headers in attempts:
            response = client.post("/webhooks/whatsapp", content=content, headers=headers)
            assert response.status_code == 401
            assert response.json() == {"error": "invalid signature"}
    assert closed_lines(landing) == []


def test_bad_signature_is_logged_without_payload_or_secret(client, caplog):
    body = whatsapp_body("wamid.SECRETPAYLOAD", phone="212612345678")
    with caplog.at_level(logging.DEBUG):
        response = client.post(
            "/webhooks/whatsapp", content=body, headers=whatsapp_headers(body, secret="nope")
        )
    assert response.status_code == 401
    server_log = _server_log(caplog)
    assert "rejected whatsapp delivery" in server_log and "signature mismatch" in server_log
    for leak in (
        "SECRETPAYLOAD",
        "212612345678",
        WHATSAPP_SECRET,
        "nope",
        sign_hex("nope", body)[7:],
    ):
        assert leak not in server_log


def test_non_json_and_non_object_bodies_get_400(client):
    for body in (b"not json", b'{"a": NaN}', b"[1,2]", b"\xff\xfe{}", b""):
        response = client.post("/webhooks/whatsapp", content=body, headers=whatsapp_headers(body))
        assert response.status_code == 400, body
        assert "error" in response.json()


def test_oversize_body_gets_413_before_anything_is_landed(settings, landing):
    small = replace(settings, max_body_bytes=1024)
    body = whatsapp_body("x" * 2000)
    with TestClient(create_app(small)) as client:
        response = client.post("/webhooks/whatsapp", content=body, headers=whatsapp_headers(body))
        assert response.status_code == 413

        # no Content-Length: the limit holds on the streamed body too
        def chunks():
            yield body[:600]
            yield body[600:]

        response = client.post(
            "/webhooks/whatsapp", content=chunks(), headers=whatsapp_headers(body)
        )
        assert response.status_code == 413
    assert closed_lines(landing) == []


def test_endpoint_without_secret_refuses_with_503(settings, landing):
    unconfigured = replace(settings, whatsapp_app_secret=None, shopify_webhook_secret=None)
    body = whatsapp_body("wamid.A1")
    with TestClient(create_app(unconfigured)) as client:
        assert (
            client.post(
                "/webhooks/whatsapp", content=body, headers=whatsapp_headers(body)
            ).status_code
            == 503
        )
        assert (
            client.post(
                "/webhooks/shopify", content=b"{}", headers=shopify_headers(b"{}")
            ).status_code
            == 503
        )
        assert client.get("/healthz").json()["endpoints"]["whatsapp"] is False
    assert closed_lines(landing) == []


def test_duplicate_deliveries_are_both_landed_and_counted(settings, landing):
    body = whatsapp_body("wamid.DUP")
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            assert (
                client.post(
                    "/webhooks/whatsapp", content=body, headers=whatsapp_headers(body)
                ).status_code
                == 200
            )
        metrics = client.get("/metrics").text
    assert closed_lines(landing) == [body, body]
    assert 'cod360_webhook_duplicate_deliveries_total{source="whatsapp"} 1' in metrics
    assert 'cod360_webhook_records_landed_total{source="whatsapp"} 2' in metrics


def test_multiline_body_is_landed_as_one_equivalent_line(settings, landing):
    value = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [], "t": "a  b\\n"}],
    }
    body = json.dumps(value, indent=2).encode()
    assert b"\n" in body
    with TestClient(create_app(settings)) as client:
        assert (
            client.post(
                "/webhooks/whatsapp", content=body, headers=whatsapp_headers(body)
            ).status_code
            == 200
        )
    [line] = closed_lines(landing)
    assert json.loads(line) == value
    assert b'"a  b\\\\n"' in line  # string contents (spaces, escapes) untouched


# --- Shopify ----------------------------------------------------------------------

SHOPIFY_ORDER = json.dumps(
    {
        "id": 5123456789,
        "name": "#1001",
        "updated_at": "2026-03-01T14:05:00+01:00",
        "phone": "+212600000001",
    }
).encode()  # REST shape, with ", " spacing as Shopify's JSON has it


def test_shopify_base64_hmac_lands_by_shop_and_topic(settings, landing):
    with TestClient(create_app(settings)) as client:
        for topic in ("orders/create", "orders/updated"):
            response = client.post(
                "/webhooks/shopify",
                content=SHOPIFY_ORDER,
                headers=shopify_headers(SHOPIFY_ORDER, topic),
            )
            assert response.status_code == 200
        response = client.post(
            "/webhooks/shopify",
            content=b'{"shop_id":1}',
            headers=shopify_headers(b'{"shop_id":1}', "shop/redact"),
        )
        assert response.status_code == 200
    shop = "orders/shopify_webhooks/atlas-beauty.myshopify.com"
    assert closed_lines(landing, f"{shop}/orders_create/*.jsonl") == [SHOPIFY_ORDER]
    assert closed_lines(landing, f"{shop}/orders_updated/*.jsonl") == [SHOPIFY_ORDER]
    # non-order topics are kept outside orders/ so the order ingestion never reads them
    assert closed_lines(landing, "other/shopify_webhooks/*/shop_redact/*.jsonl") == [
        b'{"shop_id":1}'
    ]
    assert (
        closed_lines(landing, "orders/shopify/**/*.jsonl") == []
    )  # the GraphQL source is untouched


def test_shopify_refuses_hex_or_reserialised_signatures(client):
    hex_signature = {
        **shopify_headers(SHOPIFY_ORDER),
        "X-Shopify-Hmac-Sha256": sign_hex(SHOPIFY_SECRET, SHOPIFY_ORDER),
    }
    assert (
        client.post("/webhooks/shopify", content=SHOPIFY_ORDER, headers=hex_signature).status_code
        == 401
    )
    compact = json.dumps(json.loads(SHOPIFY_ORDER), separators=(",", ":")).encode()
    assert (
        client.post(
            "/webhooks/shopify", content=compact, headers=shopify_headers(SHOPIFY_ORDER)
        ).status_code
        == 401
    )


def test_shopify_header_values_cannot_escape_the_landing_folder(settings, landing):
    headers = {
        **shopify_headers(SHOPIFY_ORDER, topic="orders/../../../etc"),
        "X-Shopify-Shop-Domain": "../..",
    }
    with TestClient(create_app(settings)) as client:
        assert (
            client.post("/webhooks/shopify", content=SHOPIFY_ORDER, headers=headers).status_code
            == 200
        )
    [path] = landing.rglob("*.jsonl")
    assert path.resolve().is_relative_to(landing.resolve() / "orders" / "shopify_webhooks")


# --- LightFunnels -----------------------------------------------------------------


def test_lightfunnels_base64_hmac(settings, landing):
    body = b'{"node":{"id":"order_123","phone":"+212600000001","total":299}}'
    good = {"lightfunnels-hmac": sign_base64(LIGHTFUNNELS_SECRET, body)}
    with TestClient(create_app(settings)) as client:
        assert client.post("/webhooks/lightfunnels", content=body, headers=good).status_code == 200
        assert (
            client.post(
                "/webhooks/lightfunnels/order-confirmed", content=body, headers=good
            ).status_code
            == 200
        )
        bad = {"lightfunnels-hmac": sign_base64("other", body)}
        assert client.post("/webhooks/lightfunnels", content=body, headers=bad).status_code == 401
    assert closed_lines(landing, "orders/lightfunnels/*.jsonl") == [body]
    assert closed_lines(landing, "orders/lightfunnels/order-confirmed/*.jsonl") == [body]


# --- carriers -----------------------------------------------------------------------


def test_carrier_array_lands_one_line_per_record(settings, landing):
    events = [tracking_event(), tracking_event(raw_status="Refusé", comment="client injoignable")]
    body = json.dumps(events, ensure_ascii=False).encode()
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/webhooks/carriers/ameex", content=body, headers=carrier_headers(body)
        )
        assert response.json() == {"status": "accepted", "records": 2}
        single = json.dumps(
            tracking_event(event_id="e9"), separators=(",", ":"), ensure_ascii=False
        ).encode()
        assert (
            client.post(
                "/webhooks/carriers/ameex", content=single, headers=carrier_headers(single)
            ).status_code
            == 200
        )
    lines = closed_lines(landing, "tracking/ameex/*.jsonl")
    assert [json.loads(line) for line in lines[:2]] == events
    assert lines[2] == single  # a single object keeps its raw bytes


@pytest.mark.parametrize(
    ("bad_record", "field"),
    [
        ({"order_ref": None}, "order_ref"),
        ({"order_ref": "5123456789"}, "order_ref"),
        ({"tracking_number": ""}, "tracking_number"),
        ({"tracking_number": 123}, "tracking_number"),
        ({"event_time": "2026-03-01T14:05:00"}, "event_time"),
        ({"event_time": "yesterday"}, "event_time"),
        ({"carrier": "sendit"}, "carrier"),
    ],
)
def test_carrier_array_with_a_bad_record_is_refused_naming_the_field(
    settings, landing, bad_record, field
):
    events = [tracking_event(), tracking_event(**bad_record)]
    body = json.dumps(events).encode()
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/webhooks/carriers/ameex", content=body, headers=carrier_headers(body)
        )
    assert response.status_code == 400
    assert response.json()["record"] == 1 and response.json()["field"] == field
    assert f"field '{field}'" in response.json()["error"]
    assert closed_lines(landing) == []  # all-or-nothing: the good record is not landed either


def test_carrier_missing_field_is_named(client):
    event = tracking_event()
    del event["raw_status"]
    body = json.dumps(event).encode()
    response = client.post("/webhooks/carriers/ameex", content=body, headers=carrier_headers(body))
    assert response.status_code == 400
    assert response.json() == {"error": "field 'raw_status' is required", "field": "raw_status"}


def test_carrier_secrets_are_per_carrier(client):
    body = json.dumps([tracking_event(carrier="ozon_express")]).encode()
    assert (
        client.post(
            "/webhooks/carriers/ozon_express", content=body, headers=carrier_headers(body, "ameex")
        ).status_code
        == 401
    )
    assert (
        client.post(
            "/webhooks/carriers/ozon_express",
            content=body,
            headers=carrier_headers(body, "ozon_express"),
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/webhooks/carriers/unknown", content=body, headers=carrier_headers(body)
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/webhooks/carriers/ameex", content=b"[]", headers=carrier_headers(b"[]")
        ).status_code
        == 400
    )


def test_healthz_and_metrics(client):
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.json()["endpoints"]["carrier:ameex"] is True
    client.post("/webhooks/whatsapp", content=b"{}", headers={"X-Hub-Signature-256": "sha256=00"})
    assert (
        'cod360_webhook_requests_total{source="whatsapp",status="401"} 1'
        in client.get("/metrics").text
    )


def test_ingestion_model_accepts_what_the_receiver_accepts():
    """The receiver's envelope check must not be looser than the loader's."""
    from connectors.webhooks.payloads import carrier_records

    body = json.dumps(
        [tracking_event(), tracking_event(event_time="2026-03-01T13:05:00Z", city=None)]
    ).encode()
    for record in carrier_records(body, "ameex"):
        records.CarrierTrackingEvent.model_validate(record)
