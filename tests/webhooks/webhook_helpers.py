"""Helpers for the webhook receiver tests: test secrets, signed payloads, a real uvicorn
server on loopback, and readers for what landed.

A uniquely named module rather than ``conftest``: ``from conftest import`` could pick
another folder's conftest."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import uvicorn

from connectors.webhooks import Settings, create_app
from connectors.webhooks.__main__ import server_limits
from connectors.webhooks.signatures import sign_base64, sign_hex

WHATSAPP_SECRET = "test-meta-app-secret"
VERIFY_TOKEN = "test-verify-token"
SHOPIFY_SECRET = "test-shopify-client-secret"
LIGHTFUNNELS_SECRET = "test-lightfunnels-client-secret"
CARRIER_SECRETS = {"ameex": "test-ameex-secret", "ozon_express": "test-ozon-secret"}


def whatsapp_body(message_id: str, *, phone: str = "212600000001") -> bytes:
    """A compact Cloud API status notification, as Meta sends it."""
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": "106540352242922"},
                                "statuses": [
                                    {
                                        "id": message_id,
                                        "status": "delivered",
                                        "timestamp": "1772370300",
                                        "recipient_id": phone,
                                        "biz_opaque_callback_data": "order_ref=shopify:5123456789&template=cod_confirm&campaign=c1",
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def whatsapp_headers(body: bytes, secret: str = WHATSAPP_SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": sign_hex(secret, body), "Content-Type": "application/json"}


def shopify_headers(
    body: bytes, topic: str = "orders/create", webhook_id: str = "wh-1"
) -> dict[str, str]:
    return {
        "X-Shopify-Hmac-Sha256": sign_base64(SHOPIFY_SECRET, body),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "atlas-beauty.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "Content-Type": "application/json",
    }


def carrier_headers(body: bytes, carrier: str = "ameex") -> dict[str, str]:
    return {"X-Cod360-Signature": sign_hex(CARRIER_SECRETS[carrier], body)}


def tracking_event(**overrides) -> dict:
    event = {
        "carrier": "ameex",
        "tracking_number": "AMX-000123",
        "order_ref": "shopify:5123456789",
        "raw_status": "Livré",
        "event_time": "2026-03-01T14:05:00+01:00",
        "city": "Casablanca",
    }
    event.update(overrides)
    return event


def closed_lines(landing: Path, pattern: str = "**/*.jsonl") -> list[bytes]:
    """Every line of every closed file under ``landing`` matching ``pattern``, file by file."""
    lines: list[bytes] = []
    for path in sorted(landing.glob(pattern)):
        data = path.read_bytes()
        assert data.endswith(b"\n"), f"{path.name} ends with a partial line"
        lines.extend(data.splitlines())
    return lines


def open_files(landing: Path) -> list[Path]:
    return sorted(landing.rglob("*.open"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(settings: Settings, **overrides) -> Iterator[str]:
    """The receiver under a real uvicorn on 127.0.0.1 in a background thread; yields its URL."""
    settings = replace(settings, **overrides)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings),
        log_level="warning",
        access_log=False,
        lifespan="on",
        backlog=512,
        **server_limits(settings),  # the same bounds as `python -m connectors.webhooks`
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"
