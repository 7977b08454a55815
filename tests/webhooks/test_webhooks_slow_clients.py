"""Slow clients over real sockets on 127.0.0.1: a half-sent body is answered 408 and its
connection closed; connections beyond the cap get 503 at once; nothing stays open."""

from __future__ import annotations

import socket
import time

import httpx
from webhook_helpers import closed_lines, live_server, whatsapp_body, whatsapp_headers

SLOW_CLIENTS = 50
BODY_TIMEOUT = 1.0
MAX_CONNECTIONS = 20


def _half_sent_post(port: int) -> socket.socket:
    """Headers announcing 1000 bytes, then 10 of them, then nothing."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    body = whatsapp_body("wamid.SLOW")
    head = (
        "POST /webhooks/whatsapp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in whatsapp_headers(body).items())
        + "\r\n"
    )
    sock.sendall(head.encode() + b'{"object":')
    return sock


def _answer_then_close(sock: socket.socket) -> int:
    """The status the server answered; returns only once the server closed the connection
    (recv gives b""), else the socket's 10 s timeout fails the test."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    return int(received.split(b" ", 2)[1]) if received else 0


def test_half_sent_bodies_time_out_and_slow_connections_are_capped(settings, landing):
    with live_server(
        settings, body_timeout_seconds=BODY_TIMEOUT, max_connections=MAX_CONNECTIONS
    ) as url:
        port = int(url.rsplit(":", 1)[1])
        started = time.monotonic()
        sockets = [_half_sent_post(port) for _ in range(SLOW_CLIENTS)]
        # every connection gets an answer and is closed by the server, in bounded time
        statuses = [_answer_then_close(sock) for sock in sockets]
        elapsed = time.monotonic() - started
        assert set(statuses) <= {408, 503}, statuses
        assert 0 < statuses.count(408) <= MAX_CONNECTIONS
        assert statuses.count(503) >= SLOW_CLIENTS - MAX_CONNECTIONS
        assert elapsed < BODY_TIMEOUT + 5
        # the receiver still serves, and an acknowledged body is in the landing files
        body = whatsapp_body("wamid.AFTER")
        with httpx.Client(base_url=url, timeout=10) as client:
            response = client.post(
                "/webhooks/whatsapp", content=body, headers=whatsapp_headers(body)
            )
        assert response.status_code == 200
    assert closed_lines(landing) == [body]  # nothing of the half-sent bodies was landed
