"""Meta's WhatsApp Cloud API shapes: the error catalogue and the webhook bodies.

Error bodies follow Graph API v16+: ``{"error": {"message": "(#<code>) <title>",
"type": "OAuthException", "code", "error_data": {"messaging_product", "details"},
"fbtrace_id"}}`` (``error_subcode`` only where Meta still sends one). Webhook
bodies are ``{"object": "whatsapp_business_account", "entry": [{"id": <WABA id>,
"changes": [{"field": "messages" | "user_preferences", "value": {...}}]}]}``,
with ``statuses`` (sent / delivered / read / failed with ``errors``),
inbound ``messages`` (``button`` replies carry ``context.id``) or
``user_preferences`` — the shapes ``stg_whatsapp__*`` read.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# code -> (title, HTTP status). Titles are Meta's; statuses as the Cloud API returns them.
ERRORS: dict[int, tuple[str, int]] = {
    0: ("AuthException", 401),
    1: ("API Unknown", 500),
    2: ("API Service", 503),
    4: ("Application request limit reached", 400),
    100: ("Invalid parameter", 400),
    190: ("Invalid OAuth access token - Cannot parse access token", 401),
    368: ("Temporarily blocked for policies violations", 403),
    80007: ("Rate limit issues", 400),
    130429: ("Rate limit hit", 400),
    131000: ("Something went wrong", 500),
    131008: ("Required parameter is missing", 400),
    131009: ("Parameter value is not valid", 400),
    131016: ("Service unavailable", 503),
    131026: ("Message undeliverable", 400),
    131047: ("Re-engagement message", 400),
    131049: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        400,
    ),
    131050: (
        "Unable to deliver the message. This recipient has chosen to stop receiving "
        "marketing messages on WhatsApp from your business.",
        400,
    ),
    131051: ("Unsupported message type", 400),
    131056: ("(Business Account, Consumer Account) pair rate limit hit", 400),
    132000: ("Number of parameters does not match the expected number of params", 400),
    132001: ("Template name does not exist in the translation", 404),
    132012: ("Parameter format does not match format in the created template", 400),
    132015: ("Template is Paused", 400),
    132016: ("Template is Disabled", 400),
}

DEFAULT_DETAILS: dict[int, str] = {
    130429: "Cloud API message throughput has been reached.",
    131026: "Message could not be delivered: the number may not be on WhatsApp.",
    131047: (
        "Message failed to send because more than 24 hours have passed since the "
        "customer last replied to this number."
    ),
    131049: "Meta chose not to deliver this marketing message; try again later.",
    131050: "The recipient stopped marketing messages from this business.",
    131056: "Too many messages sent from this phone number to the same recipient.",
}


def fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16)[:22]


def graph_error(
    code: int, details: str | None = None, *, subcode: int | None = None
) -> tuple[dict, int]:
    """``(body, http_status)`` of a Graph API error for ``code``."""
    title, status = ERRORS.get(code, ("Unknown error", 400))
    error: dict[str, Any] = {
        "message": f"(#{code}) {title}",
        "type": "OAuthException",
        "code": code,
        "error_data": {
            "messaging_product": "whatsapp",
            "details": details or DEFAULT_DETAILS.get(code, title),
        },
        "fbtrace_id": fbtrace_id(),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}, status


def webhook_error(code: int) -> dict[str, Any]:
    """The ``errors[]`` item of a failed status webhook."""
    title, _ = ERRORS.get(code, ("Unknown error", 400))
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": DEFAULT_DETAILS.get(code, title)},
        "href": ERROR_HREF,
    }


@dataclass(frozen=True)
class BusinessNumber:
    """The sending side of every webhook: the WABA and its phone number."""

    waba_id: str
    phone_number_id: str
    display_phone_number: str


def envelope(business: BusinessNumber, field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": business.waba_id,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": business.display_phone_number,
                                "phone_number_id": business.phone_number_id,
                            },
                            **value,
                        },
                        "field": field,
                    }
                ],
            }
        ],
    }


def status_webhook(
    business: BusinessNumber,
    *,
    message_id: str,
    recipient_id: str,
    status: str,
    timestamp: int,
    category: str,
    conversation_id: str,
    callback_data: str | None = None,
    error_code: int | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient_id,
    }
    if callback_data is not None:
        item["biz_opaque_callback_data"] = callback_data
    if status in ("sent", "delivered"):
        conversation: dict[str, Any] = {"id": conversation_id, "origin": {"type": category}}
        if status == "sent":
            conversation["expiration_timestamp"] = str(timestamp + 24 * 3600)
        item["conversation"] = conversation
        item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": category}
    if error_code is not None:
        item["errors"] = [webhook_error(error_code)]
    return envelope(business, "messages", {"statuses": [item]})


def inbound_webhook(
    business: BusinessNumber,
    *,
    wa_id: str,
    profile_name: str,
    message_id: str,
    timestamp: int,
    button: tuple[str, str] | None = None,
    text: str | None = None,
    context_id: str | None = None,
) -> dict[str, Any]:
    """A customer's message: a quick-reply ``button`` ``(payload, text)`` or a ``text``."""
    message: dict[str, Any] = {"from": wa_id, "id": message_id, "timestamp": str(timestamp)}
    if context_id:
        message["context"] = {"from": business.display_phone_number, "id": context_id}
    if button:
        message["type"] = "button"
        message["button"] = {"payload": button[0], "text": button[1]}
    else:
        message["type"] = "text"
        message["text"] = {"body": text or ""}
    contacts = [{"profile": {"name": profile_name}, "wa_id": wa_id}]
    return envelope(business, "messages", {"contacts": contacts, "messages": [message]})


def user_preferences_webhook(
    business: BusinessNumber, *, wa_id: str, value: str, timestamp: int, profile_name: str = ""
) -> dict[str, Any]:
    """A marketing opt-out (``value="stop"``) or opt-in (``"resume"``)."""
    detail = (
        "User requested to stop marketing messages"
        if value == "stop"
        else "User requested to resume marketing messages"
    )
    return envelope(
        business,
        "user_preferences",
        {
            "contacts": [{"profile": {"name": profile_name}, "wa_id": wa_id}],
            "user_preferences": [
                {
                    "wa_id": wa_id,
                    "detail": detail,
                    "category": "marketing_messages",
                    "value": value,
                    "timestamp": timestamp,
                }
            ],
        },
    )
