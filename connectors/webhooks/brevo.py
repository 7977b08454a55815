"""Brevo's transactional email webhooks, as its documentation describes them (developers.brevo.com:
"Transactional webhooks", "Secure webhook calls", "Batched webhooks", "Retry mechanism").

- One POST per event, a JSON object; a webhook created with ``batched: true`` POSTs a JSON
  array of such objects instead (up to 500, every 5 minutes). Both are accepted.
- An event has ``event`` (``request`` for "sent", ``delivered``, ``opened``,
  ``unique_opened`` for "first opening", ``click``, ``hard_bounce``, ``soft_bounce``,
  ``deferred``, ``spam``, ``invalid_email``, ``blocked``, ``error``, ``unsubscribed``,
  ``proxy_open``, ``unique_proxy_open``), ``email`` (the recipient), ``message-id``,
  ``ts_event`` (seconds, UTC), ``date`` (``YYYY-MM-DD HH:MM:SS``, CET/CEST), ``tags``
  (array of strings; older payloads: ``tag``, one string), ``X-Mailin-custom`` (the
  custom header the sender set on the email, echoed back), ``template_id``, ``subject``,
  ``reason`` (bounces), ``link`` (clicks).
- Brevo signs nothing. A webhook is secured with HTTP basic auth (the credentials in the
  webhook URL, ``https://user:password@host/…``, sent as ``Authorization: Basic``) or a
  bearer token (``"auth": {"type": "bearer", "token": …}`` on the webhook, sent as
  ``Authorization: Bearer <token>``), besides Brevo's IP ranges. The receiver accepts
  either, as configured; anything else is a 401 and nothing is written.
- Retries (after 10 min, 1 h, 2 h, 8 h) follow a timeout, an unresponsive server or a 429;
  any other 4xx and every 5xx **discard** the event. So a delivery the receiver could not
  store is answered 429 (``Retry-After``), never 503.

What becomes of an event (:func:`map_event`): the five the email envelope knows are mapped
to it (``request`` → ``sent``, ``unique_opened`` and ``opened`` → ``opened``, ``click`` →
``clicked``, ``hard_bounce`` / ``soft_bounce`` → ``bounced`` with ``bounce_type``) and land
in ``messages/email/webhooks/``; every other event (proxy opens are a mail client's privacy
proxy fetching the images, not the customer opening the email) is kept whole in
``other/brevo_webhooks/<event>/``, read by no ingestion, and counted.

``order_ref`` comes from ``X-Mailin-custom`` (``order_ref=shopify:123``, pairs separated by
``;`` or ``&``, or a bare order reference): a value the sender sets per message for exactly
this, echoed on every event. ``template`` is the first tag: tags are Brevo's categories
(one per kind of email, e.g. ``order_confirmation``); an order reference per tag would
make one category per order in Brevo's statistics.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.webhooks.payloads import BadPayload

PROVIDER = "brevo"
# Brevo's event name -> the email envelope's event (docs/landing.md), bounce type.
MAPPED: dict[str, tuple[str, str | None]] = {
    "request": ("sent", None),
    "delivered": ("delivered", None),
    "opened": ("opened", None),
    "unique_opened": ("opened", None),
    "click": ("clicked", None),
    "hard_bounce": ("bounced", "hard"),
    "soft_bounce": ("bounced", "soft"),
}
# Documented, but not an envelope event: kept aside and counted.
KEPT = (
    "deferred",
    "spam",
    "invalid_email",
    "blocked",
    "error",
    "unsubscribed",
    "proxy_open",
    "unique_proxy_open",
)
EVENT_TYPES = (*MAPPED, *KEPT)
# `date` is "CET/CEST" in Brevo's docs: Paris time.
BREVO_DATE_TZ = ZoneInfo("Europe/Paris")
ORDER_REF = re.compile(r"^[a-z_]+:.+$")
UNKNOWN_FOLDER = "_unknown_event"
INVALID_FOLDER = "_not_an_object"


# --- authentication ---------------------------------------------------------------------


def check_authorization(
    header: str | None, *, token: str | None, basic: str | None
) -> tuple[bool, str]:
    """Whether ``Authorization`` carries the configured bearer token or ``user:password``;
    with the reason when it does not (for the log: never the header's value)."""
    if not header:
        return False, "missing Authorization header"
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    scheme = scheme.lower()
    if scheme == "bearer" and token:
        ok = hmac.compare_digest(credentials.encode("utf-8"), token.encode("utf-8"))
        return ok, "" if ok else "bearer token mismatch"
    if scheme == "basic" and basic:
        try:
            decoded = base64.b64decode(credentials, validate=True)
        except (binascii.Error, ValueError):
            return False, "malformed basic credentials"
        ok = hmac.compare_digest(decoded, basic.encode("utf-8"))
        return ok, "" if ok else "basic credentials mismatch"
    return False, f"authorization scheme {scheme or '?'!r} is not configured"


# --- the body ---------------------------------------------------------------------------


def parse_events(body: bytes) -> list[Any]:
    """The events of one POST: an object (one event) or an array (batched)."""
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadPayload(f"body is not JSON: {exc}") from None
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        if not value:
            raise BadPayload("a batched body must hold at least one event")
        return value
    raise BadPayload("body must be a JSON object (one event) or an array (batched events)")


def _text(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def event_key(event: Any) -> str:
    """An event's identity, to land each once: Brevo gives events no id, so the message,
    the event, its time, the recipient and the link clicked (the same message clicked on
    two links at one second is two events)."""
    if not isinstance(event, dict):
        material: Any = event
    else:
        material = [
            _text(event.get(name))
            for name in ("message-id", "event", "ts_event", "date", "email", "link")
        ]
    text = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def order_ref_of(custom: Any) -> str | None:
    """The order reference in an ``X-Mailin-custom`` value, else ``None``."""
    text = _text(custom)
    if text is None:
        return None
    if ORDER_REF.match(text) and "=" not in text:
        return text
    for pair in re.split(r"[;&]", text):
        name, sep, value = pair.partition("=")
        if sep and name.strip().lower() == "order_ref" and ORDER_REF.match(value.strip()):
            return value.strip()
    return None


def template_of(event: dict[str, Any]) -> str | None:
    tags = event.get("tags")
    if isinstance(tags, list):
        first = next((t for t in (_text(x) for x in tags) if t), None)
        if first:
            return first
    return _text(event.get("tag"))


def event_time(event: dict[str, Any]) -> str | None:
    """ISO 8601 with offset: ``ts_event`` (seconds, UTC), else ``date`` (Paris time)."""
    stamp = event.get("ts_event")
    if isinstance(stamp, str) and stamp.strip().isdigit():
        stamp = int(stamp.strip())
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp > 0:
        try:
            return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            pass
    date = _text(event.get("date"))
    if date:
        try:
            moment = datetime.fromisoformat(date.replace(" ", "T", 1))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=BREVO_DATE_TZ)
        return moment.isoformat(timespec="seconds")
    return None


@dataclass(frozen=True)
class Mapped:
    """What one event becomes: an envelope line, or kept aside (``folder``)."""

    key: str
    line: dict[str, Any] | None  # the email-envelope line, or None when kept aside
    folder: str | None  # other/brevo_webhooks/<folder>/ when kept aside
    problems: tuple[str, ...] = ()


def map_event(event: Any) -> Mapped:
    """One Brevo event as an email-envelope line, or kept aside.

    A mapped event missing a required field lands without it (named in ``problems``):
    ingestion quarantines it naming the field, with Brevo's event beside it
    (``vendor``) — never dropped here."""
    key = event_key(event)
    if not isinstance(event, dict):
        return Mapped(key, None, INVALID_FOLDER, ("event is not a JSON object",))
    name = _text(event.get("event"))
    if name is None or name not in MAPPED:
        folder = name if name in KEPT else UNKNOWN_FOLDER
        return Mapped(key, None, folder)
    envelope_event, bounce_type = MAPPED[name]
    problems: list[str] = []
    line: dict[str, Any] = {"provider": PROVIDER, "event": envelope_event}
    fields = {
        "message_id": ("message-id", _text(event.get("message-id"))),
        "recipient": ("email", _text(event.get("email"))),
        "event_time": ("ts_event", event_time(event)),
    }
    for target, (source, value) in fields.items():
        if value is None:
            problems.append(f"field {source!r} is missing or unusable")
        else:
            line[target] = value
    template = template_of(event)
    if template:
        line["template"] = template
    order_ref = order_ref_of(event.get("X-Mailin-custom"))
    if order_ref:
        line["order_ref"] = order_ref
    if bounce_type:
        line["bounce_type"] = bounce_type
    line["brevo_event"] = name
    line["event_key"] = key
    if problems:
        line["vendor"] = event
    return Mapped(key, line, None, tuple(problems))
