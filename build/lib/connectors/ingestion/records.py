"""The minimum each landing record must carry to be loaded.

Vendors send far more than this; the raw payload is kept whole. These models
only decide *loaded or quarantined*, and when a record is quarantined the
pydantic error names the field, so the reason reads like
``field 'event_time': Input should have timezone info``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class ShopifyMoney(_Record):
    amount: Decimal


class ShopifyMoneySet(_Record):
    shopMoney: ShopifyMoney


class ShopifyOrder(_Record):
    """Admin GraphQL ``Order`` node."""

    id: Annotated[str, StringConstraints(pattern=r"^gid://shopify/Order/\d+$")]
    createdAt: AwareDatetime
    updatedAt: AwareDatetime
    totalPriceSet: ShopifyMoneySet


class WooCommerceOrder(_Record):
    """REST v3 order object (dates are the ``*_gmt`` fields, naive UTC)."""

    id: int
    status: NonEmpty
    date_created_gmt: datetime
    date_modified_gmt: datetime
    total: Decimal


class YouCanOrder(_Record):
    """Store Admin API order entity."""

    id: NonEmpty
    created_at: datetime
    updated_at: datetime
    total: Decimal


class LightFunnelsOrder(_Record):
    """GraphQL ``Order`` node (``created_at`` / ``updated_at`` as ``YYYY-MM-DD HH:MM:SS`` UTC, or ISO)."""

    id_: int = Field(alias="_id")
    created_at: datetime
    updated_at: datetime
    total: Decimal


class PrestaShopOrder(_Record):
    """Webservice ``order`` (``date_add`` / ``date_upd`` naive, the shop's wall-clock time),
    with ``cod360_related`` (delivery address, customer) added by the pull."""

    id: int
    date_add: datetime
    date_upd: datetime
    total_paid: Decimal
    current_state: int


class TikTokLeadField(_Record):
    name: NonEmpty
    values: list[str]


class TikTokLead(_Record):
    """Lead Generation lead with its form answers."""

    lead_id: NonEmpty
    create_time: datetime
    field_data: list[TikTokLeadField] = Field(min_length=1)


class CarrierTrackingEvent(_Record):
    """One update in the carrier envelope (docs/landing.md)."""

    carrier: NonEmpty
    tracking_number: NonEmpty
    order_ref: Annotated[str, StringConstraints(pattern=r"^[a-z_]+:.+$")]
    raw_status: NonEmpty
    event_time: AwareDatetime


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
    event_time: AwareDatetime


class LeadSignal(_Record):
    """One landing-page session in the lead-signals envelope."""

    order_ref: Annotated[str, StringConstraints(pattern=r"^[a-z_]+:.+$")]
    session_id: NonEmpty
    event_time: AwareDatetime
    time_on_page_s: float | None = Field(default=None, ge=0)
    scroll_depth_pct: float | None = Field(default=None, ge=0, le=100)
    products_viewed: int | None = Field(default=None, ge=0)
