"""Yalidine / Guepex webhooks: the delivery's shape, and its status events as envelope lines.

The contract (Yalidine's developer documentation, "Webhooks"; Guepex serves the same):

- subscription check: ``GET <url>?subscribe&crc_token=X`` on creation, on edit and
  from time to time; the answer must be 200 with JSON ``{"crc_token": "X"}`` within
  10 s, else the webhook is not created (or is disabled);
- a delivery: ``POST`` JSON ``{"type": "<event type>", "events": [{"event_id",
  "occurred_at", "data": {…}}]}``, one type per delivery, one or more events; types
  ``parcel_created``, ``parcel_edited``, ``parcel_deleted``, ``parcel_status_updated``,
  ``parcel_payment_updated``; ``parcel_status_updated`` data has ``tracking``,
  ``status``, ``reason``;
- ``X-YALIDINE-SIGNATURE``: hex HMAC-SHA256 of the raw body with the webhook's secret key;
- anything but a 200 within 10 s is retried (7 attempts over about 40 hours, then the
  webhook is disabled); an event may be delivered more than once, and out of order.

Unverified (not in the documentation we could read): ``occurred_at`` is Algerian
wall-clock time like the API's other stamps (UTC+01:00); status data may carry
``date_status``, ``commune_name`` / ``wilaya_name`` and ``order_id`` — used when present
(``date_status`` first, so a webhook event and the same event pulled from
``histories/`` have the same time and staging keeps one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from connectors.webhooks.payloads import BadPayload, parse_json_object
from connectors.webhooks.tracking_index import order_ref_of

STATUS_UPDATED = "parcel_status_updated"
EVENT_TYPES = (
    "parcel_created",
    "parcel_edited",
    "parcel_deleted",
    STATUS_UPDATED,
    "parcel_payment_updated",
)
SIGNATURE_HEADER = "x-yalidine-signature"
# Algeria keeps UTC+01:00 all year. The same rule as the pulls'
# (connectors.carriers.envelope.naive_local), not imported from there: the storefront
# engine imports this package's files module, and carriers import the engine.
ALGERIA_TZ = timezone(timedelta(hours=1))


def naive_local(text: str) -> datetime:
    """``2026-03-01 14:05:00`` in Algerian time → an aware datetime at +01:00."""
    moment = datetime.fromisoformat(str(text).strip().replace(" ", "T", 1))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ALGERIA_TZ)
    return moment.astimezone(ALGERIA_TZ)


@dataclass(frozen=True)
class Delivery:
    """One POST: its type and its events (each checked on its own, never the whole batch)."""

    type: str
    events: list[Any]


@dataclass(frozen=True)
class StatusEvent:
    """What a ``parcel_status_updated`` event says, and what is wrong with it."""

    event_id: str | None
    tracking: str | None
    line: dict[str, Any]  # the envelope line, without ``order_ref`` until resolved
    problems: tuple[str, ...]
    order_id: str | None  # ``data.order_id`` when it is already an order reference


def parse_delivery(body: bytes) -> Delivery:
    """The delivery's ``type`` and ``events``; a body without them is a 400."""
    value = parse_json_object(body)
    kind = value.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise BadPayload("field 'type' must be a non-empty string", field="type")
    events = value.get("events")
    if not isinstance(events, list):
        raise BadPayload("field 'events' must be an array", field="events")
    return Delivery(kind.strip(), events)


def event_id_of(event: Any) -> str | None:
    value = event.get("event_id") if isinstance(event, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def status_event(carrier: str, event: Any) -> StatusEvent:
    """A ``parcel_status_updated`` event as a carrier-envelope line.

    A field that is missing or unusable is left out of the line and named in
    ``problems``: the line still lands, and ingestion quarantines it naming that
    field, with the vendor's event kept beside it (``vendor``) — never dropped."""
    problems: list[str] = []
    event_id = event_id_of(event)
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(event, dict):
        problems.append("event is not a JSON object")
    elif not isinstance(data, dict):
        problems.append("field 'data' must be an object")
    data = data if isinstance(data, dict) else {}
    tracking = _text(data.get("tracking"))
    status = _text(data.get("status"))
    line: dict[str, Any] = {"carrier": carrier}
    if tracking:
        line["tracking_number"] = tracking
    elif not problems:
        problems.append("field 'data.tracking' must be a non-empty string")
    if status:
        line["raw_status"] = status
    elif not problems:
        problems.append("field 'data.status' must be a non-empty string")
    stamp = _text(data.get("date_status")) or (
        _text(event.get("occurred_at")) if isinstance(event, dict) else None
    )
    try:
        when = naive_local(stamp) if stamp else None
    except ValueError:
        when = None
    if when is not None:
        line["event_time"] = when.isoformat(timespec="seconds")
    elif not problems:
        problems.append("field 'occurred_at' must be a date-time 'YYYY-MM-DD HH:MM:SS'")
    if event_id:
        line["event_id"] = event_id
    city = _text(data.get("commune_name")) or _text(data.get("wilaya_name"))
    if city:
        line["city"] = city
    comment = _text(data.get("reason"))
    if comment:
        line["comment"] = comment
    if problems:
        line["vendor"] = event
    return StatusEvent(
        event_id, tracking, line, tuple(problems), order_ref_of(data.get("order_id"))
    )
