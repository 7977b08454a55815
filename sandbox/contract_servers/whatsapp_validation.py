"""What the WhatsApp contract server accepts: approved templates and message validation.

The checks follow the Cloud API: required fields (131008), invalid values
(100), unsupported message types (131051), unknown template or language
(132001), paused / disabled templates (132015 / 132016), parameter count
(132000) and format (132012) against the approved template, quick-reply buttons
by index.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

VERSION = re.compile(r"^v\d+\.\d+$")
PHONE = re.compile(r"^\+?\d{8,15}$")
# Cloud API message types this server does not model: answered with 131051.
NOT_HERE = (
    "image",
    "audio",
    "document",
    "video",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "reaction",
)


@dataclass(frozen=True)
class ApprovedTemplate:
    """A template as approved in WhatsApp Manager: languages, ``{{n}}`` count, quick replies."""

    name: str
    languages: tuple[str, ...] = ("fr",)
    body_params: int = 0
    quick_replies: tuple[str, ...] = ()  # button labels, by index
    category: Literal["MARKETING", "UTILITY", "AUTHENTICATION"] = "UTILITY"
    status: Literal["APPROVED", "PAUSED", "DISABLED"] = "APPROVED"


DEFAULT_TEMPLATES = (
    ApprovedTemplate("cod_order_confirmation", ("fr", "ar"), 3, ("Confirmer", "Annuler")),
    ApprovedTemplate("out_for_delivery", ("fr", "ar"), 2),
    ApprovedTemplate("delivery_otp", ("fr", "ar"), 1, category="AUTHENTICATION"),
    ApprovedTemplate("vip_offer", ("fr",), 1, ("Ça m'intéresse", "STOP"), "MARKETING"),
)


class Rejected(Exception):
    """A request Meta would refuse: the Graph error ``code`` and its ``details``."""

    def __init__(self, code: int, details: str, subcode: int | None = None):
        super().__init__(details)
        self.code, self.details, self.subcode = code, details, subcode


def validate_message(body: Any, templates: Mapping[str, ApprovedTemplate]) -> dict[str, Any]:
    """The message ``body`` if Meta would accept it; raises :class:`Rejected` otherwise."""
    if not isinstance(body, dict):
        raise Rejected(100, "The request body must be a JSON object.")
    for name in ("messaging_product", "to", "type"):
        if not body.get(name):
            raise Rejected(131008, f"The parameter {name} is required.")
    if body["messaging_product"] != "whatsapp":
        raise Rejected(100, "Param messaging_product must be 'whatsapp'.")
    if body.get("recipient_type", "individual") != "individual":
        raise Rejected(100, "Param recipient_type must be 'individual'.")
    if not isinstance(body["to"], str) or not PHONE.match(body["to"]):
        raise Rejected(100, "Param to must be a phone number in international format.")
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and (not isinstance(callback, str) or len(callback) > 512):
        raise Rejected(
            100, "Param biz_opaque_callback_data must be a string of at most 512 characters."
        )
    kind = body["type"]
    if kind == "text":
        text = body.get("text")
        if not isinstance(text, dict) or not text.get("body"):
            raise Rejected(131008, "The parameter text['body'] is required.")
        if len(text["body"]) > 4096:
            raise Rejected(100, "Param text['body'] must be at most 4096 characters.")
        return body
    if kind == "template":
        _validate_template(body.get("template"), templates)
        return body
    if kind in NOT_HERE:
        raise Rejected(131051, f"Message type {kind} is not supported by this contract server.")
    raise Rejected(100, f"Param type must be one of text, template, {', '.join(NOT_HERE)}.")


def _validate_template(template: Any, templates: Mapping[str, ApprovedTemplate]) -> None:
    if not isinstance(template, dict) or not template.get("name"):
        raise Rejected(131008, "The parameter template['name'] is required.")
    language = (template.get("language") or {}).get("code")
    if not language:
        raise Rejected(131008, "The parameter template['language']['code'] is required.")
    approved = templates.get(template["name"])
    if approved is None or language not in approved.languages:
        raise Rejected(132001, f"template name ({template['name']}) does not exist in {language}")
    if approved.status == "PAUSED":
        raise Rejected(132015, f"Template {approved.name} is paused due to low quality.")
    if approved.status == "DISABLED":
        raise Rejected(132016, f"Template {approved.name} is disabled.")
    components = template.get("components") or []
    body_params: list[Any] = []
    buttons: dict[int, Any] = {}
    for component in components:
        kind = component.get("type")
        if kind == "body":
            body_params = component.get("parameters") or []
        elif kind == "button":
            if component.get("sub_type") != "quick_reply":
                raise Rejected(
                    100, "Only quick_reply buttons are supported by this contract server."
                )
            try:
                index = int(component.get("index"))
            except (TypeError, ValueError):
                raise Rejected(131008, "The parameter components['index'] is required.") from None
            buttons[index] = component.get("parameters") or []
        else:
            raise Rejected(100, f"Invalid component type {kind!r}.")
    if len(body_params) != approved.body_params:
        raise Rejected(
            132000,
            f"body: number of localizable_params ({len(body_params)}) does not match the "
            f"expected number of params ({approved.body_params})",
        )
    for param in body_params:
        if param.get("type") != "text":
            raise Rejected(
                132012, "body: parameter format does not match format in the created template"
            )
        if not param.get("text"):
            raise Rejected(131008, "body: param text is required and cannot be empty")
    for index, params in buttons.items():
        if not 0 <= index < len(approved.quick_replies):
            raise Rejected(
                132000, f"button at index {index} does not exist in template {approved.name}"
            )
        if len(params) != 1 or params[0].get("type") != "payload" or not params[0].get("payload"):
            raise Rejected(132012, f"button {index}: expected one parameter of type payload")
