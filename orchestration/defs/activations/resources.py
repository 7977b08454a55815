"""The activation resources: vendor clients and activation settings, from the environment.

Secrets are ``dg.EnvVar`` (resolved at run time, never in code or in the UI).
A vendor whose credential variable is unset is *not configured*: its activations
run as dry runs and say why, so a fresh clone (or ``python -m sandbox demo`` before the
contract servers start) never fails and never sends. Base URLs point the same
code at the real APIs, the contract servers of the demo, or a test server.

| variable | used for | default |
| --- | --- | --- |
| ``WHATSAPP_ACCESS_TOKEN`` (secret), ``WHATSAPP_PHONE_NUMBER_ID`` | WhatsApp Cloud API | unset: dry run |
| ``COD360_WHATSAPP_BASE_URL`` | Graph API host | ``https://graph.facebook.com`` |
| ``COD360_WHATSAPP_RATE_PER_S[_<PHONE_NUMBER_ID>]``, ``COD360_WHATSAPP_SEND_CONCURRENCY`` | send pace per number, sends in flight (``activations.clients.whatsapp_pacing``) | 20/s, 4 |
| ``SMS_API_KEY`` (secret), ``COD360_SMS_BASE_URL`` | SMS gateway (fallback) | unset: dry run |
| ``SHOPIFY_ACCESS_TOKEN`` (secret), ``COD360_SHOPIFY_BASE_URL`` | Shopify write-back | unset: skipped |
| ``WOOCOMMERCE_CONSUMER_KEY`` / ``_SECRET`` (secrets), ``COD360_WOOCOMMERCE_BASE_URL`` | WooCommerce write-back | unset: skipped |
| ``YOUCAN_ACCESS_TOKEN`` (secret), ``COD360_YOUCAN_BASE_URL`` | YouCan write-back | unset: skipped |
| ``COD360_OTP_SECRET`` (secret) | HMAC key of delivery codes | unset: delivery codes dry run |
| ``COD360_BRAND_NAME`` | sender name in SMS | ``Votre boutique`` |
"""

import os

import dagster as dg
from pydantic import Field

from activations.clients import shopify, whatsapp, youcan
from activations.clients.resources import (
    ShopifyAdminResource,
    SmsGatewayResource,
    WhatsAppCloudResource,
    WooCommerceResource,
    YouCanResource,
)
from activations.clients.whatsapp_pacing import send_pacing
from activations.delivery import SmsDeliverer, WhatsAppDeliverer


class ActivationSettings(dg.ConfigurableResource):
    """Settings shared by every activation asset."""

    otp_secret: str = Field(default="", repr=False, description="HMAC key of delivery codes.")
    brand_name: str = "Votre boutique"
    exports_dir: str = Field(default="", description="Where the agent-queue CSV is written.")


def _env(name: str, default: str = "") -> str | dg.EnvVar:
    """``dg.EnvVar(name)`` when the variable is set (resolved at run time), else ``default``."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def configured(*values: str) -> bool:
    return all(bool(v) for v in values)


def whatsapp_deliverer(resource: WhatsAppCloudResource) -> WhatsAppDeliverer | None:
    """A deliverer over a client that never retries on its own (see ``activations.delivery``)."""
    if not configured(resource.access_token, resource.phone_number_id):
        return None
    pacing = send_pacing(resource.phone_number_id, resource.rate_limit_per_s)
    client = resource.get_client(max_retries=0, rate_limit_per_s=pacing.rate_per_s)
    return WhatsAppDeliverer(client, concurrency=pacing.concurrency)


def sms_deliverer(resource: SmsGatewayResource) -> SmsDeliverer | None:
    if not configured(resource.api_key, resource.base_url):
        return None
    return SmsDeliverer(resource.get_client())


def storefront_resources(
    shopify_resource: ShopifyAdminResource,
    woocommerce_resource: WooCommerceResource,
    youcan_resource: YouCanResource,
) -> list:
    """The storefront resources whose credentials are set."""
    found = []
    if configured(shopify_resource.access_token, shopify_resource.base_url):
        found.append(shopify_resource)
    if configured(
        woocommerce_resource.consumer_key,
        woocommerce_resource.consumer_secret,
        woocommerce_resource.base_url,
    ):
        found.append(woocommerce_resource)
    if configured(youcan_resource.access_token, youcan_resource.base_url):
        found.append(youcan_resource)
    return found


@dg.definitions
def activation_resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "whatsapp": WhatsAppCloudResource(
                base_url=_env("COD360_WHATSAPP_BASE_URL", whatsapp.DEFAULT_BASE_URL),
                phone_number_id=_env("WHATSAPP_PHONE_NUMBER_ID"),
                access_token=_env("WHATSAPP_ACCESS_TOKEN"),
            ),
            "sms_gateway": SmsGatewayResource(
                base_url=_env("COD360_SMS_BASE_URL"), api_key=_env("SMS_API_KEY")
            ),
            "shopify": ShopifyAdminResource(
                base_url=_env("COD360_SHOPIFY_BASE_URL"),
                api_version=shopify.DEFAULT_API_VERSION,
                access_token=_env("SHOPIFY_ACCESS_TOKEN"),
            ),
            "woocommerce": WooCommerceResource(
                base_url=_env("COD360_WOOCOMMERCE_BASE_URL"),
                consumer_key=_env("WOOCOMMERCE_CONSUMER_KEY"),
                consumer_secret=_env("WOOCOMMERCE_CONSUMER_SECRET"),
            ),
            "youcan": YouCanResource(
                base_url=_env("COD360_YOUCAN_BASE_URL", youcan.DEFAULT_BASE_URL),
                access_token=_env("YOUCAN_ACCESS_TOKEN"),
            ),
            "activation_settings": ActivationSettings(
                otp_secret=_env("COD360_OTP_SECRET"),
                brand_name=_env("COD360_BRAND_NAME", "Votre boutique"),
                exports_dir=_env("COD360_EXPORTS_DIR"),
            ),
        }
    )
