"""Yalidine's webhook sender, as its documentation describes it, for the local contract server.

- Subscription check first (:meth:`YalidineWebhookSender.validate`): ``GET
  <url>?subscribe&crc_token=<random>``; the webhook is only created when the answer is
  200 with JSON ``{"crc_token": <the same token>}`` within 10 s.
- A delivery is ``POST <url>`` with the JSON ``{"type", "events": [{"event_id",
  "occurred_at", "data"}]}`` and ``X-YALIDINE-SIGNATURE`` = hex HMAC-SHA256 of the body
  bytes with the webhook's secret key.
- Anything but a 200 within 10 s is a failure, tried again after 5 min, 15 min, 1 h,
  3 h, 12 h and 1 day (7 attempts; the intervals are counted from the previous
  attempt); after the 7th the webhook is disabled and sends nothing more.
- The same event may be delivered more than once: with ``duplicate_probability`` a
  delivered body is sent again right away (seeded, so a test is repeatable).

Tests shrink the schedule (``retry_delays_s``); the order of attempts, the signature
and the disabling are the vendor's. Deliveries run on one background thread, oldest
due first, so the server's request handlers never wait on the receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from sandbox.contract_servers.delivery_queue import DeliveryQueue, Due

# Delay before each attempt, from the previous one (Yalidine's docs: 7 attempts).
RETRY_DELAYS_S = (0.0, 300.0, 900.0, 3600.0, 10800.0, 43200.0, 86400.0)
TIMEOUT_S = 10.0  # "respond in less than 10 seconds"
EVENT_TYPES = (
    "parcel_created",
    "parcel_edited",
    "parcel_deleted",
    "parcel_status_updated",
    "parcel_payment_updated",
)
ALGERIA = timezone(timedelta(hours=1))


def algerian_now() -> str:
    """``occurred_at`` as Yalidine writes its stamps: Algerian wall-clock time, no offset."""
    return datetime.now(ALGERIA).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Attempt:
    """One POST the sender made."""

    body: bytes
    number: int  # 1-based attempt of this delivery
    status: int | None  # None: no answer (connection refused, timeout)
    error: str | None
    duplicate: bool  # a deliberate second delivery of a body already accepted


class YalidineWebhookSender(DeliveryQueue):
    """One webhook subscription: a URL, a secret key, the event types it receives."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        events: Sequence[str] = EVENT_TYPES,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
        duplicate_probability: float = 0.0,
        seed: int = 0,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        unknown = set(events) - set(EVENT_TYPES)
        if unknown:
            raise ValueError(f"unknown Yalidine event types: {sorted(unknown)}")
        super().__init__(
            thread_name="yalidine-webhooks",
            http=httpx.Client(timeout=timeout_s),
            duplicate_probability=duplicate_probability,
            seed=seed,
            timeout_s=timeout_s,
        )
        self.url = url
        self._secret = secret.encode("utf-8")
        self.events = tuple(events)
        self.retry_delays_s = tuple(retry_delays_s)
        self.attempts: list[Attempt] = []
        self.active = False  # created only once validate() passed
        self.disabled = False  # the last attempt of a delivery failed
        self._ids = itertools.count(1)

    # --- subscription --------------------------------------------------------------------

    def validate(self) -> bool:
        """The challenge-response check; ``active`` only when it passes."""
        token = secrets.token_urlsafe(24)
        try:
            response = self._http.get(self.url, params={"subscribe": "", "crc_token": token})
            ok = response.status_code == 200 and response.json() == {"crc_token": token}
        except (httpx.HTTPError, ValueError):
            ok = False
        self.active = ok and not self.disabled
        return ok

    # --- events --------------------------------------------------------------------------

    def event(self, data: dict[str, Any], occurred_at: str | None = None) -> dict[str, Any]:
        """One event object with a fresh ``event_id``."""
        return {
            "event_id": f"evt_{next(self._ids):08d}_{secrets.token_hex(4)}",
            "occurred_at": occurred_at or algerian_now(),
            "data": data,
        }

    def send(self, kind: str, events: Sequence[dict[str, Any]]) -> bytes | None:
        """Queue one delivery of ``events`` (all of type ``kind``); the body, or ``None``
        when the webhook is not subscribed to ``kind``, not active, or disabled."""
        if kind not in self.events or not self.active or self.disabled or not events:
            return None
        body = json.dumps({"type": kind, "events": list(events)}, ensure_ascii=False).encode()
        self._schedule(body, attempt=1, delay=self.retry_delays_s[0])
        return body

    def signature(self, body: bytes) -> str:
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    # --- the delivery thread -------------------------------------------------------------

    def delivered(self) -> list[bytes]:
        """Bodies answered 200, duplicates included, in the order they were accepted."""
        return [a.body for a in self.attempts if a.status == 200]

    def _deliver(self, due: Due) -> None:
        status: int | None = None
        error: str | None = None
        try:
            response = self._http.post(
                self.url,
                content=due.body,
                headers={
                    "Content-Type": "application/json",
                    "X-YALIDINE-SIGNATURE": self.signature(due.body),
                },
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        self.attempts.append(Attempt(due.body, due.attempt, status, error, due.duplicate))
        if status == 200:
            self._maybe_deliver_again(due)
            return
        if due.attempt >= len(self.retry_delays_s):
            self.disabled = True  # "If the final attempt fails, the webhook is disabled"
            self.active = False
            with self._cond:
                self._due.clear()  # its queued events are deleted with it
            return
        self._schedule(
            due.body,
            attempt=due.attempt + 1,
            delay=self.retry_delays_s[due.attempt],
            duplicate=due.duplicate,
        )


@contextmanager
def subscribed(sender: YalidineWebhookSender) -> Iterator[YalidineWebhookSender]:
    """Validate, start, and on exit drain and stop ``sender``; raises if validation fails."""
    if not sender.validate():
        sender.stop()
        raise RuntimeError(f"the webhook URL {sender.url} failed Yalidine's crc_token check")
    sender.start()
    try:
        yield sender
    finally:
        sender.wait_idle()
        sender.stop()
