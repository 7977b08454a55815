"""The landing sources: where each one's files are and what a record must carry.

One entry per raw table. Adding a source is one entry here, one model in
``records.py`` and one dbt source table.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from connectors.ingestion import records

# The Shopify webhook topics whose body is a whole REST Order, as the receiver names
# their folders (`orders/updated` → `orders_updated`).
SHOPIFY_ORDER_WEBHOOK_TOPICS = (
    "orders_create",
    "orders_updated",
    "orders_cancelled",
    "orders_fulfilled",
    "orders_paid",
    "orders_partially_fulfilled",
)


@dataclass(frozen=True)
class LandingSource:
    """A kind of landing file and the raw table it loads into."""

    name: str
    description: str
    patterns: tuple[str, ...]
    record_model: type[BaseModel]

    @property
    def raw_table(self) -> str:
        return self.name


LANDING_SOURCES: tuple[LandingSource, ...] = (
    LandingSource(
        "shopify_orders",
        "Shopify Admin GraphQL Order nodes, one snapshot per line.",
        ("orders/shopify/**/*.jsonl",),
        records.ShopifyOrder,
    ),
    LandingSource(
        "shopify_webhook_orders",
        "Shopify REST Order resources from order webhooks (orders/create, updated, cancelled,"
        " fulfilled, paid, partially_fulfilled; the topic is the folder), one snapshot per line.",
        # Only the topics whose body is a whole order: orders/delete carries only the id,
        # orders/edited an order_edit (connectors/webhooks/README.md).
        tuple(
            f"orders/shopify_webhooks/*/{topic}/**/*.jsonl"
            for topic in SHOPIFY_ORDER_WEBHOOK_TOPICS
        ),
        records.ShopifyWebhookOrder,
    ),
    LandingSource(
        "woocommerce_orders",
        "WooCommerce REST v3 order objects, one snapshot per line.",
        ("orders/woocommerce/**/*.jsonl",),
        records.WooCommerceOrder,
    ),
    LandingSource(
        "youcan_orders",
        "YouCan Store Admin API order entities, one snapshot per line.",
        ("orders/youcan/**/*.jsonl",),
        records.YouCanOrder,
    ),
    LandingSource(
        "lightfunnels_orders",
        "LightFunnels GraphQL Order nodes (pulls and order webhooks), one snapshot per line.",
        ("orders/lightfunnels/**/*.jsonl",),
        records.LightFunnelsOrder,
    ),
    LandingSource(
        "prestashop_orders",
        "PrestaShop webservice orders with their delivery address and customer, one snapshot per line.",
        ("orders/prestashop/**/*.jsonl",),
        records.PrestaShopOrder,
    ),
    LandingSource(
        "tiktok_leads",
        "TikTok Lead Generation leads with their form answers.",
        ("leads/tiktok/**/*.jsonl",),
        records.TikTokLead,
    ),
    LandingSource(
        "carrier_tracking_events",
        "Carrier tracking updates in the cod360 carrier envelope (JSON lines or CSV).",
        ("tracking/**/*.jsonl", "tracking/**/*.csv"),
        records.CarrierTrackingEvent,
    ),
    LandingSource(
        "whatsapp_webhooks",
        "WhatsApp Cloud API webhook POST bodies, as Meta sends them.",
        ("messages/whatsapp/**/*.jsonl",),
        records.WhatsAppWebhook,
    ),
    LandingSource(
        "sms_events",
        "SMS gateway events in the cod360 SMS envelope.",
        ("messages/sms/**/*.jsonl",),
        records.SmsEvent,
    ),
    LandingSource(
        "email_events",
        "Email provider events (sent, delivered, opened, clicked, bounced) in the cod360 email envelope.",
        ("messages/email/**/*.jsonl",),
        records.EmailEvent,
    ),
    LandingSource(
        "lead_signals",
        "Landing-page sessions in the cod360 lead-signals envelope.",
        ("signals/**/*.jsonl",),
        records.LeadSignal,
    ),
    LandingSource(
        "carrier_remittances",
        "Carrier COD remittance statement lines in the cod360 remittance envelope (JSON lines"
        " or CSV): cash collected per parcel, fees, and the statement's payout.",
        ("remittances/**/*.jsonl", "remittances/**/*.csv"),
        records.CarrierRemittanceLine,
    ),
)

SOURCES_BY_NAME = {source.name: source for source in LANDING_SOURCES}
