"""Brevo's transactional email webhook sender, as its documentation describes it, for tests and the demo.

developers.brevo.com, "Transactional webhooks", "Secure webhook calls", "Batched
webhooks", "Retry mechanism":

- A webhook has a URL, the event types it receives and how it authenticates: basic auth
  (``https://user:password@host/…``: the credentials in the URL, sent as
  ``Authorization: Basic``) or a bearer token (``"auth": {"type": "bearer", "token"}``,
  sent as ``Authorization: Bearer <token>``). Brevo signs nothing.
- Each event is one POST of a JSON object; a ``batched`` webhook POSTs a JSON array of
  the events accumulated (up to 500 a batch; the 5-minute window is :meth:`flush` here).
- Event fields (the "Sent" table, common to the email events): ``event``, ``email``,
  ``id`` (the webhook's id), ``date`` (``YYYY-MM-DD HH:MM:SS``, CET/CEST), ``ts``,
  ``message-id``, ``ts_event`` (seconds, UTC), ``subject``, ``X-Mailin-custom``,
  ``sending_ip``, ``ts_epoch`` (milliseconds, UTC), ``template_id``, ``tags``,
  ``contact_id``; ``link`` on a click, ``reason`` on bounces, deferrals, blocks, errors.
- A timeout, an unresponsive server or a 429 is retried after 10 min, 1 h, 2 h and 8 h
  (5 attempts in all); any other 4xx and every 5xx discard the event at once.
- The same event may arrive twice (a retry after a timeout the receiver did answer): with
  ``duplicate_probability`` a delivered body is sent again right away (seeded).

Strict: an event type Brevo does not document, or an event missing what its type carries
(``link``, ``reason``), is refused here with ``ValueError`` rather than sent. Tests shrink
the schedule (``retry_delays_s``); deliveries run on one background thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import httpx

from sandbox.contract_servers.delivery_queue import DeliveryQueue, Due

EVENT_TYPES = (
    "request",
    "click",
    "deferred",
    "delivered",
    "soft_bounce",
    "spam",
    "unique_opened",
    "hard_bounce",
    "opened",
    "invalid_email",
    "blocked",
    "error",
    "unsubscribed",
    "proxy_open",
    "unique_proxy_open",
)
WITH_REASON = ("soft_bounce", "hard_bounce", "deferred", "blocked", "invalid_email", "error")
# Delay before each attempt, from the previous one: the original, then 10 min, 1 h, 2 h, 8 h.
RETRY_DELAYS_S = (0.0, 600.0, 3600.0, 7200.0, 28800.0)
TIMEOUT_S = 10.0
BATCH_SIZE = 500
PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Attempt:
    """One POST the sender made."""

    body: bytes
    number: int  # 1-based attempt of this delivery
    status: int | None  # None: no answer (connection refused, timeout)
    error: str | None
    duplicate: bool  # a deliberate second delivery of a body already accepted
    outcome: Literal["delivered", "retry", "discarded"]


class BrevoWebhookSender(DeliveryQueue):
    """One transactional webhook: URL, authentication, event types, batched or not."""

    def __init__(
        self,
        url: str,
        *,
        bearer_token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        events: Sequence[str] = EVENT_TYPES,
        batched: bool = False,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
        duplicate_probability: float = 0.0,
        seed: int = 0,
        webhook_id: int = 1234567,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        unknown = set(events) - set(EVENT_TYPES)
        if unknown:
            raise ValueError(f"unknown Brevo transactional event types: {sorted(unknown)}")
        if bearer_token and basic_auth:
            raise ValueError("a Brevo webhook authenticates one way: bearer or basic")
        self.url = url
        self._post_url = url
        headers = {"Content-Type": "application/json"}
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        if basic_auth:
            # As the webhook is configured: the credentials in its URL; the HTTP client
            # sends them as Authorization: Basic (RFC 7617), never in the request line.
            user, password = basic_auth
            parts = urlsplit(url)
            netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"
            self._post_url = urlunsplit(parts._replace(netloc=netloc))
        super().__init__(
            thread_name="brevo-webhooks",
            http=httpx.Client(timeout=timeout_s, headers=headers),
            duplicate_probability=duplicate_probability,
            seed=seed,
            timeout_s=timeout_s,
        )
        self.events = tuple(events)
        self.batched = batched
        self.retry_delays_s = tuple(retry_delays_s)
        self.webhook_id = webhook_id
        self.attempts: list[Attempt] = []
        self._batch: list[dict[str, Any]] = []

    # --- events --------------------------------------------------------------------------

    def event(
        self,
        kind: str,
        *,
        email: str,
        message_id: str,
        at: datetime,
        subject: str = "Confirmez votre commande",
        tags: Sequence[str] = (),
        custom: str | None = None,
        template_id: int | None = None,
        link: str | None = None,
        reason: str | None = None,
        contact_id: int = 0,
    ) -> dict[str, Any]:
        """One event as Brevo sends it; refuses what Brevo would not send."""
        if kind not in EVENT_TYPES:
            raise ValueError(f"{kind!r} is not a Brevo transactional email event")
        if not email or "@" not in email or not message_id:
            raise ValueError("a Brevo event names its recipient and its message-id")
        if kind == "click" and not link:
            raise ValueError("a click event carries the link clicked")
        if kind in WITH_REASON and not reason:
            raise ValueError(f"a {kind} event carries its reason")
        if at.tzinfo is None:
            raise ValueError("event times must be aware datetimes")
        seconds = int(at.timestamp())
        event: dict[str, Any] = {
            "event": kind,
            "email": email,
            "id": self.webhook_id,
            "date": at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S"),
            "ts": seconds,
            "message-id": message_id,
            "ts_event": seconds,
            "subject": subject,
            "sending_ip": "185.41.28.109",
            "ts_epoch": int(at.timestamp() * 1000),
            "tags": list(tags),
            "contact_id": contact_id,
        }
        if custom is not None:
            event["X-Mailin-custom"] = custom
        if template_id is not None:
            event["template_id"] = template_id
        if link:
            event["link"] = link
        if reason:
            event["reason"] = reason
        return event

    def send(self, event: dict[str, Any]) -> bytes | None:
        """Queue ``event`` (a batched webhook holds it until :meth:`flush`); the body
        queued, or ``None`` when the webhook does not receive that event type."""
        if event.get("event") not in self.events:
            return None
        if self.batched:
            with self._cond:
                self._batch.append(event)
                full = len(self._batch) >= BATCH_SIZE
            return self.flush() if full else None
        body = json.dumps(event, ensure_ascii=False).encode()
        self._schedule(body, attempt=1, delay=self.retry_delays_s[0])
        return body

    def flush(self) -> bytes | None:
        """The end of a batching window: POST what accumulated (at most 500 per body)."""
        with self._cond:
            batch, self._batch = self._batch[:BATCH_SIZE], self._batch[BATCH_SIZE:]
        if not batch:
            return None
        body = json.dumps(batch, ensure_ascii=False).encode()
        self._schedule(body, attempt=1, delay=self.retry_delays_s[0])
        return body

    # --- the delivery thread -------------------------------------------------------------

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Flush a batch, then block until nothing is queued or in flight."""
        self.flush()
        return super().wait_idle(timeout_s)

    def _deliver(self, due: Due) -> None:
        status: int | None = None
        error: str | None = None
        try:
            status = self._http.post(self._post_url, content=due.body).status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        retry = status is None or status == 429
        if status is not None and 200 <= status < 300:
            outcome: Literal["delivered", "retry", "discarded"] = "delivered"
        elif retry and due.attempt < len(self.retry_delays_s):
            outcome = "retry"
        else:
            outcome = "discarded"  # "4xx except 429, and any 5xx, stop all retry attempts"
        self.attempts.append(Attempt(due.body, due.attempt, status, error, due.duplicate, outcome))
        if outcome == "delivered":
            self._maybe_deliver_again(due)
        elif outcome == "retry":
            self._schedule(
                due.body,
                attempt=due.attempt + 1,
                delay=self.retry_delays_s[due.attempt],
                duplicate=due.duplicate,
            )
