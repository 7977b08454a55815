"""Yalidine's webhooks for a demo: the signed receiver on loopback, the contract server subscribed.

Not wired into ``make demo`` (the integrator decides); a demo step would wrap its
Yalidine work in it::

    with carrier_demo(data_dir, now) as demo, yalidine_webhooks(demo.yalidine, landing) as hooks:
        hand_over(demo, warehouse, store)   # parcels created, then scanned
    print(*webhook_lines(hooks), sep="\\n")

While the block runs, every parcel created and status added on the server is signed
and POSTed (with Yalidine's retries and occasional duplicates) to the product's
receiver at ``/webhooks/carriers/yalidine/events``, which lands the status events in
``tracking/yalidine/webhooks/`` beside the pulls' files; staging keeps one row per
event of the two paths. On exit the sender drains and the receiver closes its files.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from connectors.webhooks import Settings, create_app
from sandbox.contract_servers.yalidine import YalidineContractServer
from sandbox.contract_servers.yalidine_webhooks import YalidineWebhookSender

# The demo is minutes long, so Yalidine's 5 min … 1 day schedule is shrunk to seconds.
DEMO_RETRIES_S = (0.0, 0.5, 1.0, 2.0, 2.0, 2.0, 2.0)


@dataclass
class WebhookDemo:
    receiver_url: str
    sender: YalidineWebhookSender
    landing: Path


@contextmanager
def receiver_on_loopback(settings: Settings) -> Iterator[str]:
    """The product's receiver under uvicorn on 127.0.0.1 in a thread; yields its URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(settings), log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the webhook receiver did not start (is another one using it?)")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@contextmanager
def yalidine_webhooks(
    server: YalidineContractServer, landing: Path, *, duplicate_probability: float = 0.2
) -> Iterator[WebhookDemo]:
    """Receiver up, ``server`` subscribed to it (crc_token check), both torn down on exit."""
    secret = secrets.token_urlsafe(32)
    settings = Settings(landing_dir=landing, yalidine_webhook_secrets={"yalidine": secret})
    with receiver_on_loopback(settings) as url:
        sender = YalidineWebhookSender(
            f"{url}/webhooks/carriers/yalidine/events",
            secret,
            retry_delays_s=DEMO_RETRIES_S,
            duplicate_probability=duplicate_probability,
        )
        server.subscribe_webhook(sender)
        try:
            yield WebhookDemo(url, sender, landing)
        finally:
            server.unsubscribe_webhook(drain_s=30)


def webhook_lines(demo: WebhookDemo) -> list[str]:
    """The summary a demo prints: deliveries, retries, duplicates, status lines landed."""
    attempts = demo.sender.attempts
    landed = sum(
        path.read_bytes().count(b"\n")
        for path in (demo.landing / "tracking" / "yalidine" / "webhooks").glob("*.jsonl")
    )
    return [
        "  Yalidine webhooks (contract server → signed receiver):",
        f"    deliveries accepted {sum(a.status == 200 for a in attempts)}, "
        f"retried {sum(a.number > 1 for a in attempts)}, "
        f"sent twice on purpose {sum(a.duplicate for a in attempts)}; "
        f"status events landed in tracking/yalidine/webhooks/: {landed}",
    ]
