"""Yalidine's webhooks for a demo: the signed receiver on loopback, the contract server subscribed.

``make demo`` (``sandbox.activation_demo``, pass 1) wraps its Yalidine work in it::

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

import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from connectors.webhooks import Settings, create_app
from connectors.webhooks.metrics import ReceiverMetrics
from sandbox.contract_servers.yalidine import YalidineContractServer
from sandbox.contract_servers.yalidine_webhooks import YalidineWebhookSender

# The demo is minutes long, so Yalidine's 5 min … 1 day schedule is shrunk to seconds.
DEMO_RETRIES_S = (0.0, 0.5, 1.0, 2.0, 2.0, 2.0, 2.0)


@dataclass
class WebhookDemo:
    receiver_url: str
    sender: YalidineWebhookSender
    landing: Path
    metrics: ReceiverMetrics  # the receiver's own counters (what it landed, what it dropped)


@contextmanager
def receiver_on_loopback(settings: Settings, app: Starlette | None = None) -> Iterator[str]:
    """The product's receiver (``app``, else one made from ``settings``) under uvicorn on
    127.0.0.1 in a thread; yields its URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app or create_app(settings), log_level="warning", access_log=False, lifespan="on"
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
    app = create_app(settings)
    with receiver_on_loopback(settings, app) as url:
        sender = YalidineWebhookSender(
            f"{url}/webhooks/carriers/yalidine/events",
            secret,
            retry_delays_s=DEMO_RETRIES_S,
            duplicate_probability=duplicate_probability,
        )
        server.subscribe_webhook(sender)
        try:
            yield WebhookDemo(url, sender, landing, app.state.receiver.metrics)
        finally:
            server.unsubscribe_webhook(drain_s=30)


def _events_in(body: bytes) -> int:
    events = json.loads(body).get("events")
    return len(events) if isinstance(events, list) else 0


def webhook_counts(demo: WebhookDemo) -> dict[str, int]:
    """This run's figures: events the receiver accepted (duplicates included), status
    events it landed in ``tracking/`` (at once or after a hold), events it recognised as
    already landed and dropped, events still held, parcel events kept aside."""
    accepted = [a for a in demo.sender.attempts if a.status == 200]
    events = {
        outcome: count
        for (name, source, outcome), count in demo.metrics.counters.items()
        if name == "events" and source == "carrier_events/yalidine"
    }
    landed_after_hold = events.get("landed_after_hold", 0)
    return {
        "deliveries": len(accepted),
        "received": sum(_events_in(a.body) for a in accepted),
        "landed": events.get("landed", 0) + events.get("invalid", 0) + landed_after_hold,
        "duplicates_dropped": events.get("duplicate", 0),
        "held": events.get("held", 0) - landed_after_hold,
        "kept": sum(n for outcome, n in events.items() if outcome.startswith("kept_")),
        "retried": sum(a.number > 1 for a in demo.sender.attempts),
        "sent_twice": sum(a.duplicate for a in demo.sender.attempts),
    }


def webhook_lines(demo: WebhookDemo) -> list[str]:
    """The summary a demo prints: deliveries, events received / landed / dropped as
    duplicates, and the status lines the landing folder holds from every run."""
    counts = webhook_counts(demo)
    in_folder = sum(
        path.read_bytes().count(b"\n")
        for path in (demo.landing / "tracking" / "yalidine" / "webhooks").glob("*.jsonl")
    )
    return [
        "  Yalidine webhooks (contract server → signed receiver):",
        f"    deliveries accepted {counts['deliveries']}, retried {counts['retried']}, "
        f"sent twice on purpose {counts['sent_twice']}",
        f"    events received {counts['received']}: status events landed {counts['landed']}, "
        f"parcel events kept {counts['kept']}, duplicates dropped "
        f"{counts['duplicates_dropped']}, held (order unknown) {counts['held']}",
        f"    status events in tracking/yalidine/webhooks/ (every run): {in_folder}",
    ]
