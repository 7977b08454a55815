"""Over real HTTP on loopback: uvicorn in a thread, and the receiver as a killed subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from webhook_helpers import (
    CARRIER_SECRETS,
    VERIFY_TOKEN,
    WHATSAPP_SECRET,
    closed_lines,
    free_port,
    live_server,
    open_files,
    whatsapp_body,
    whatsapp_headers,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def _message_id(line: bytes) -> str:
    return json.loads(line)["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]


def test_200_concurrent_posts_give_200_complete_lines(settings, landing):
    bodies = [whatsapp_body(f"wamid.C{i:03d}") for i in range(200)]
    start = threading.Barrier(200)
    # small files so rotation happens while requests are in flight
    with (
        live_server(settings, rotate_bytes=20_000) as url,
        httpx.Client(base_url=url, limits=httpx.Limits(max_connections=200), timeout=30) as client,
    ):

        def post(body: bytes) -> int:
            start.wait()
            return client.post(
                "/webhooks/whatsapp", content=body, headers=whatsapp_headers(body)
            ).status_code

        with ThreadPoolExecutor(max_workers=200) as pool:
            statuses = list(pool.map(post, bodies))
        handshake = client.get(
            "/webhooks/whatsapp",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "42",
            },
        )
        assert handshake.status_code == 200 and handshake.text == "42"
    assert statuses == [200] * 200
    lines = closed_lines(landing)
    assert len(lines) == 200
    assert sorted(lines) == sorted(bodies)  # every line complete, byte-for-byte, once
    assert len(list(landing.rglob("*.jsonl"))) > 1


def test_raw_bytes_on_the_wire_decide_the_signature(settings, landing):
    body = whatsapp_body("wamid.W")
    with live_server(settings) as url, httpx.Client(base_url=url) as client:
        # a proxy or framework that re-serialises: same value, different bytes → 401
        reserialised = json.dumps(json.loads(body)).encode()
        assert reserialised != body and json.loads(reserialised) == json.loads(body)
        resent = client.post(
            "/webhooks/whatsapp", content=reserialised, headers=whatsapp_headers(body)
        )
        assert resent.status_code == 401
        assert (
            client.post(
                "/webhooks/whatsapp", content=body, headers=whatsapp_headers(body)
            ).status_code
            == 200
        )
    assert closed_lines(landing) == [body]


def _start_receiver(landing: Path, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "COD360_WHATSAPP_APP_SECRET": WHATSAPP_SECRET,
        "COD360_CARRIER_SECRETS": ",".join(f"{k}={v}" for k, v in CARRIER_SECRETS.items()),
        "COD360_WEBHOOK_ROTATE_SECONDS": "600",  # nothing rotates on its own during the test
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connectors.webhooks",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--landing",
            str(landing),
            "--log-level",
            "warning",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("receiver did not become healthy")


def test_sigkill_during_writes_then_restart_keeps_every_acknowledged_event_once(landing, tmp_path):
    port = free_port()
    log = tmp_path / "receiver.log"
    receiver = _start_receiver(landing, port, log)
    acknowledged: list[str] = []
    stop = threading.Event()

    def keep_posting(worker: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            for n in range(1_000_000):
                if stop.is_set():
                    return
                message_id = f"wamid.K{worker}-{n}"
                body = whatsapp_body(message_id)
                try:
                    response = client.post(
                        "/webhooks/whatsapp", content=body, headers=whatsapp_headers(body)
                    )
                except httpx.TransportError:
                    return  # the server died mid-request: not acknowledged
                if response.status_code == 200:
                    acknowledged.append(message_id)

    posters = [threading.Thread(target=keep_posting, args=(w,)) for w in range(8)]
    for thread in posters:
        thread.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    receiver.send_signal(signal.SIGKILL)
    receiver.wait(10)
    stop.set()
    for thread in posters:
        thread.join(10)
    assert len(acknowledged) >= 300

    [left_open] = open_files(landing)  # the file being written when the process died
    with left_open.open("ab") as handle:  # and a torn write at the very end of it
        handle.write(whatsapp_body("wamid.TORN")[:57])

    restarted = _start_receiver(landing, port, log)
    try:
        assert open_files(landing) == []  # recovery closed it before serving
        body = whatsapp_body("wamid.AFTER-RESTART")
        response = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/whatsapp",
            content=body,
            headers=whatsapp_headers(body),
        )
        assert response.status_code == 200
    finally:
        restarted.send_signal(signal.SIGTERM)  # graceful: closes the open file
        assert restarted.wait(15) in (
            0,
            -signal.SIGTERM,
        )  # uvicorn re-raises SIGTERM after a clean shutdown

    assert open_files(landing) == []
    assert "recovered 1 landing file" in log.read_text()
    landed = Counter(_message_id(line) for line in closed_lines(landing))  # every line parses
    assert "wamid.TORN" not in landed
    assert landed["wamid.AFTER-RESTART"] == 1
    assert all(landed[message_id] == 1 for message_id in acknowledged)
    assert max(landed.values()) == 1  # never twice; unacknowledged ones at most once
