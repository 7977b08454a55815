"""Request bodies: strict JSON parsing, the landing line, and the carrier envelope.

A landing line is the body exactly as it was sent whenever the body is one
line. Only a body with CR/LF in it (pretty-printed JSON) is compacted: the
whitespace between tokens is removed and nothing else changes (key order,
number spelling, escapes stay as sent), so the line still parses to the same
value.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator


class BadPayload(ValueError):
    """The body is not acceptable; the message is safe to return and to log (no values)."""

    def __init__(self, message: str, *, field: str | None = None, record: int | None = None):
        super().__init__(message)
        self.field = field
        self.record = record

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": str(self)}
        if self.record is not None:
            body["record"] = self.record
        if self.field is not None:
            body["field"] = self.field
        return body


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> Any:
    """Parse a UTF-8 JSON body strictly (no NaN / Infinity, no BOM)."""
    if not body.strip():
        raise BadPayload("empty body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPayload("body is not UTF-8") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        position = f" at byte {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        raise BadPayload(f"body is not valid JSON{position}") from None


def parse_json_object(body: bytes) -> dict[str, Any]:
    value = parse_json(body)
    if not isinstance(value, dict):
        raise BadPayload("body must be a JSON object")
    return value


# A JSON string token, or a run of insignificant whitespace.
_TOKEN_OR_SPACE = re.compile(rb'"(?:[^"\\]+|\\.)*"|[ \t\r\n]+', re.DOTALL)


def landing_line(body: bytes) -> bytes:
    """The line to land for an already-parsed JSON ``body``: the raw bytes if single-line.

    Raw CR/LF cannot occur inside a JSON string, so every CR/LF in a valid body
    is whitespace between tokens; a multi-line body is compacted by dropping
    that whitespace (string tokens are copied untouched).
    """
    body = body.strip()
    if b"\n" not in body and b"\r" not in body:
        return body
    return _TOKEN_OR_SPACE.sub(lambda m: m.group(0) if m.group(0)[:1] == b'"' else b"", body)


def compact_json(value: Any) -> bytes:
    """One JSON value on one line (for records split out of an array)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


# --- carrier envelope (docs/landing.md) -------------------------------------------

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class CarrierEnvelope(BaseModel):
    """One tracking update in the cod360 carrier envelope.

    Mirrors the loader's rules (``connectors.ingestion.records``) so the
    receiver refuses, with a 400 the carrier can act on, what the ingestion
    would otherwise quarantine. Strict types: ``"tracking_number": 123`` is
    refused, not coerced. Unknown fields are kept.
    """

    model_config = ConfigDict(extra="allow", strict=True)

    carrier: NonEmpty
    tracking_number: NonEmpty
    order_ref: Annotated[str, StringConstraints(pattern=r"^[a-z_]+:.+$")]
    raw_status: NonEmpty
    event_time: str
    city: str | None = None
    comment: str | None = None
    event_id: str | None = None

    @field_validator("event_time")
    @classmethod
    def _iso_with_offset(cls, value: str) -> str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise ValueError("must carry a UTC offset (e.g. +01:00 or Z)")
        return value


def _reason(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "string_type":
        return "must be a string"
    if kind in ("string_too_short",):
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return 'must be an order reference "<platform>:<id>"'
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def carrier_records(body: bytes, carrier: str) -> list[dict[str, Any]]:
    """The envelope records in a carrier POST: one object or a non-empty array of them.

    All-or-nothing: the first bad record gets a ``BadPayload`` naming its index
    (0-based, for arrays) and field, and nothing of the body is landed, so the
    carrier can fix it and resend the whole body without duplicating the rest.
    """
    value = parse_json(body)
    is_array = isinstance(value, list)
    records = value if is_array else [value]
    if is_array and not records:
        raise BadPayload("body is an empty array")
    for index, record in enumerate(records):
        where = index if is_array else None
        prefix = f"record {index}: " if is_array else ""
        if not isinstance(record, dict):
            raise BadPayload(f"{prefix}must be a JSON object", record=where)
        try:
            CarrierEnvelope.model_validate(record)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"]) or None
            raise BadPayload(
                f"{prefix}field '{field}' {_reason(error)}", field=field, record=where
            ) from None
        if record["carrier"].strip().lower() != carrier:
            raise BadPayload(
                f"{prefix}field 'carrier' does not match the endpoint's carrier {carrier!r}",
                field="carrier",
                record=where,
            )
    return records
