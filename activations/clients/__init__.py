"""Typed HTTP clients for the vendor contracts activations depend on.

One module per vendor (``whatsapp`` with its payloads in ``whatsapp_messages``, ``shopify``, ``woocommerce``, ``youcan``,
``sms``), the shared plumbing (``transport``, ``privacy``, ``errors``), the
storefront write-back interface (``storefront``) and the Dagster resources
(``resources``).
"""

from activations.clients.errors import (
    RunStoppingError,
    UnsupportedPlatformError,
    VendorAccountError,
    VendorAuthError,
    WriteBackNotConfiguredError,
)
from activations.clients.shopify import ShopifyWriteBack
from activations.clients.sms import SmsClient, SmsResult, SmsStatus
from activations.clients.storefront import (
    Decision,
    DecisionRequest,
    StorefrontWriteBack,
    WriteBackRegistry,
    WriteBackResult,
    WriteBackStatus,
)
from activations.clients.whatsapp import SendResult, SendStatus, WhatsAppClient
from activations.clients.woocommerce import WooCommerceWriteBack
from activations.clients.youcan import YouCanWriteBack
from common.privacy import mask_phone

__all__ = [
    "Decision",
    "DecisionRequest",
    "RunStoppingError",
    "SendResult",
    "SendStatus",
    "ShopifyWriteBack",
    "SmsClient",
    "SmsResult",
    "SmsStatus",
    "StorefrontWriteBack",
    "UnsupportedPlatformError",
    "VendorAccountError",
    "VendorAuthError",
    "WhatsAppClient",
    "WooCommerceWriteBack",
    "WriteBackNotConfiguredError",
    "WriteBackRegistry",
    "WriteBackResult",
    "WriteBackStatus",
    "YouCanWriteBack",
    "mask_phone",
]
