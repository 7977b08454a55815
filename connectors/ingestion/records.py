"""The minimum each landing record must carry to be loaded.

Vendors send far more than this; the raw payload is kept whole. These models
check the *shape* a record must have (required ids, lists, literals); the
plausible *values* (timestamps in their documented format and window, money,
quantities) are ``domain_rules.py``'s, checked after these. When a record is
quarantined the reason names the field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _not_a_boolean(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("a boolean is not an id")
    return value


# An integer id, as a JSON number or a string of digits (PrestaShop), never true / false.
WholeNumber = Annotated[int, BeforeValidator(_not_a_boolean)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class ShopifyOrder(_Record):
    """Admin GraphQL ``Order`` node."""

    id: Annotated[str, StringConstraints(pattern=r"^gid://shopify/Order/\d+$")]


class ShopifyWebhookOrder(_Record):
    """REST ``Order`` resource, the body of an ``orders/*`` webhook (``id`` a number)."""

    id: WholeNumber
    updated_at: NonEmpty


class WooCommerceOrder(_Record):
    """REST v3 order object (dates are the ``*_gmt`` fields, naive UTC)."""

    id: WholeNumber
    status: NonEmpty


class YouCanOrder(_Record):
    """Store Admin API order entity."""

    id: NonEmpty


class LightFunnelsOrder(_Record):
    """GraphQL ``Order`` node (``created_at`` / ``updated_at`` as ``YYYY-MM-DD HH:MM:SS`` UTC, or ISO)."""

    id_: WholeNumber = Field(alias="_id")


class PrestaShopOrder(_Record):
    """Webservice ``order`` (``date_add`` / ``date_upd`` naive, the shop's wall-clock time),
    with ``cod360_related`` (delivery address, customer) added by the pull."""

    id: WholeNumber
    current_state: WholeNumber


class TikTokLeadField(_Record):
    name: NonEmpty
    values: list[str]


class TikTokLead(_Record):
    """Lead Generation lead with its form answers."""

    lead_id: NonEmpty
    field_data: list[TikTokLeadField] = Field(min_length=1)


class CarrierTrackingEvent(_Record):
    """One update in the carrier envelope (docs/landing.md)."""

    carrier: NonEmpty
    tracking_number: NonEmpty
    order_ref: Annotated[str, StringConstraints(pattern=r"^[a-z_]+:.+$")]
    raw_status: NonEmpty


class WhatsAppChange(_Record):
    field: NonEmpty
    value: dict


class WhatsAppEntry(_Record):
    id: NonEmpty
    changes: list[WhatsAppChange] = Field(min_length=1)


class WhatsAppWebhook(_Record):
    """A WhatsApp Cloud API webhook POST body, as Meta sends it."""

    object: Literal["whatsapp_business_account"]
    entry: list[WhatsAppEntry] = Field(min_length=1)


class SmsEvent(_Record):
    """One event in the SMS envelope."""

    provider: NonEmpty
    message_id: NonEmpty
    direction: Literal["outbound", "inbound"]
    phone: NonEmpty
    status: Literal["sent", "delivered", "failed", "received"]


class EmailEvent(_Record):
    """One event in the email envelope (an email provider's delivery / engagement event)."""

    provider: NonEmpty
    message_id: NonEmpty
    event: Literal["sent", "delivered", "opened", "clicked", "bounced"]
    recipient: NonEmpty


class LeadSignal(_Record):
    """One landing-page session in the lead-signals envelope."""

    order_ref: Annotated[str, StringConstraints(pattern=r"^[a-z_]+:.+$")]
    session_id: NonEmpty


class CarrierRemittanceLine(_Record):
    """One line of a carrier's COD remittance statement, in the remittance envelope
    (docs/landing.md): the statement's fields repeated on each of its lines."""

    carrier: NonEmpty
    statement_id: NonEmpty
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    tracking_number: NonEmpty | None = None
    order_ref: Annotated[
        Annotated[str, StringConstraints(pattern=r"^[a-z_]+:.+$")] | None,
        Field(validate_default=True),
    ] = None

    @field_validator("order_ref", mode="after")
    @classmethod
    def _names_a_parcel(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Said on order_ref (the field a reason names), after tracking_number is read.
        if value is None and info.data.get("tracking_number") is None:
            raise ValueError("a remittance line needs a tracking_number or an order_ref")
        return value
