"""WhatsApp Cloud API payloads: the messages cod360 sends and the bodies Meta answers.

Pydantic models with Meta's field names, so ``model_dump(exclude_none=True)``
is the exact request body and ``model_validate`` checks a response's shape.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# --- request payloads -----------------------------------------------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextParameter(_Payload):
    type: Literal["text"] = "text"
    text: str


class PayloadParameter(_Payload):
    type: Literal["payload"] = "payload"
    payload: str


class BodyComponent(_Payload):
    type: Literal["body"] = "body"
    parameters: list[TextParameter]


class QuickReplyButton(_Payload):
    """The payload Meta echoes back in the customer's button reply (``button.payload``)."""

    type: Literal["button"] = "button"
    sub_type: Literal["quick_reply"] = "quick_reply"
    index: str
    parameters: list[PayloadParameter]


class TemplateLanguage(_Payload):
    code: str


class Template(_Payload):
    name: str
    language: TemplateLanguage
    components: list[BodyComponent | QuickReplyButton] | None = None


class TextContent(_Payload):
    body: str = Field(max_length=4096)
    preview_url: bool = False


class TemplateMessage(_Payload):
    messaging_product: Literal["whatsapp"] = "whatsapp"
    recipient_type: Literal["individual"] = "individual"
    to: str
    type: Literal["template"] = "template"
    template: Template
    biz_opaque_callback_data: str | None = Field(default=None, max_length=512)


class TextMessage(_Payload):
    """Free-form text: only delivered inside the 24-hour customer-service window."""

    messaging_product: Literal["whatsapp"] = "whatsapp"
    recipient_type: Literal["individual"] = "individual"
    to: str
    type: Literal["text"] = "text"
    text: TextContent
    biz_opaque_callback_data: str | None = Field(default=None, max_length=512)


def template_message(
    to: str,
    name: str,
    language_code: str,
    *,
    body_params: tuple[str, ...] | list[str] = (),
    button_payloads: tuple[str, ...] | list[str] = (),
    callback_data: str | None = None,
) -> TemplateMessage:
    """A template message with body variables ``{{1}}…`` and quick-reply payloads by index."""
    components: list[BodyComponent | QuickReplyButton] = []
    if body_params:
        components.append(BodyComponent(parameters=[TextParameter(text=p) for p in body_params]))
    for index, payload in enumerate(button_payloads):
        components.append(
            QuickReplyButton(index=str(index), parameters=[PayloadParameter(payload=payload)])
        )
    return TemplateMessage(
        to=to,
        template=Template(
            name=name, language=TemplateLanguage(code=language_code), components=components or None
        ),
        biz_opaque_callback_data=callback_data,
    )


# --- responses --------------------------------------------------------------------------


class SendContact(BaseModel):
    input: str
    wa_id: str


class SentMessage(BaseModel):
    id: str
    message_status: str | None = None


class SendResponse(BaseModel):
    messaging_product: str
    contacts: list[SendContact] = Field(default_factory=list)
    messages: list[SentMessage] = Field(min_length=1)


class GraphErrorData(BaseModel):
    messaging_product: str | None = None
    details: str | None = None


class GraphError(BaseModel):
    message: str = ""
    type: str | None = None
    code: int
    error_subcode: int | None = None
    error_data: GraphErrorData | None = None
    fbtrace_id: str | None = None

    @property
    def title(self) -> str:
        """The message without Meta's ``(#code)`` prefix."""
        return re.sub(r"^\(#\d+\)\s*", "", self.message)


class GraphErrorEnvelope(BaseModel):
    error: GraphError
