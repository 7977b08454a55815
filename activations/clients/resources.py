"""Dagster resources for the activation clients: configuration only, fed by ``dg.EnvVar``.

Each resource builds a fresh client with :meth:`get_client` (use it in a
``with`` block). Pointing a deployment, a test or the demo at a local contract
server is a change of ``base_url``, never of code. Credential fields are
excluded from reprs (``repr=False``) so a logged resource shows no secret.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dagster as dg
from pydantic import Field

from activations.clients import shopify, whatsapp, youcan
from activations.clients.shopify import ShopifyWriteBack
from activations.clients.sms import SmsClient
from activations.clients.storefront import StorefrontWriteBack, WriteBackRegistry
from activations.clients.whatsapp import WhatsAppClient
from activations.clients.woocommerce import WooCommerceWriteBack
from activations.clients.youcan import YouCanWriteBack
from common.transport import TransportSettings


class _ClientSettings(dg.ConfigurableResource):
    timeout_s: float = Field(default=10.0, description="Per-request timeout, seconds.")
    max_retries: int = Field(default=4, description="Retries after the first attempt.")
    rate_limit_per_s: float = Field(
        default=5.0, description="Client-side pacing, requests/second (0: off)."
    )

    def transport_settings(self, **overrides: Any) -> TransportSettings:
        """The configured timeout, retries and pacing, with ``overrides`` (``max_retries=0``)."""
        configured = TransportSettings(
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            rate_limit_per_s=self.rate_limit_per_s,
        )
        return replace(configured, **overrides)


class WhatsAppCloudResource(_ClientSettings):
    """WhatsApp Cloud API (Meta Graph API) for template and text messages."""

    base_url: str = whatsapp.DEFAULT_BASE_URL
    api_version: str = whatsapp.DEFAULT_API_VERSION
    phone_number_id: str = Field(description="The sending business phone number's id.")
    access_token: str = Field(repr=False, description="System-user access token (secret).")
    rate_limit_per_s: float = 20.0

    def get_client(self, **overrides: Any) -> WhatsAppClient:
        return WhatsAppClient(
            base_url=self.base_url,
            api_version=self.api_version,
            phone_number_id=self.phone_number_id,
            access_token=self.access_token,
            settings=self.transport_settings(**overrides),
        )


class ShopifyAdminResource(_ClientSettings):
    """Shopify Admin GraphQL API of one shop, for decision write-back."""

    base_url: str = Field(description="https://<shop>.myshopify.com")
    api_version: str = shopify.DEFAULT_API_VERSION
    access_token: str = Field(repr=False, description="Admin API access token (secret).")
    rate_limit_per_s: float = 4.0

    def get_client(self, **overrides: Any) -> ShopifyWriteBack:
        return ShopifyWriteBack(
            base_url=self.base_url,
            api_version=self.api_version,
            access_token=self.access_token,
            settings=self.transport_settings(**overrides),
        )


class WooCommerceResource(_ClientSettings):
    """WooCommerce REST API v3 of one store, for decision write-back."""

    base_url: str = Field(description="The WordPress site URL (https://…).")
    consumer_key: str = Field(repr=False, description="REST API consumer key (secret).")
    consumer_secret: str = Field(repr=False, description="REST API consumer secret (secret).")

    def get_client(self, **overrides: Any) -> WooCommerceWriteBack:
        return WooCommerceWriteBack(
            base_url=self.base_url,
            consumer_key=self.consumer_key,
            consumer_secret=self.consumer_secret,
            settings=self.transport_settings(**overrides),
        )


class YouCanResource(_ClientSettings):
    """YouCan Store Admin API of one store, for decision write-back (status only)."""

    base_url: str = youcan.DEFAULT_BASE_URL
    access_token: str = Field(repr=False, description="OAuth access token (secret).")
    rate_limit_per_s: float = 2.0

    def get_client(self, **overrides: Any) -> YouCanWriteBack:
        return YouCanWriteBack(
            base_url=self.base_url,
            access_token=self.access_token,
            settings=self.transport_settings(**overrides),
        )


class SmsGatewayResource(_ClientSettings):
    """The SMS gateway used as fallback channel (contract in ``activations.clients.sms``)."""

    base_url: str = Field(description="The gateway's base URL.")
    api_key: str = Field(repr=False, description="Gateway API key (secret).")
    rate_limit_per_s: float = 10.0

    def get_client(self, **overrides: Any) -> SmsClient:
        return SmsClient(
            base_url=self.base_url,
            api_key=self.api_key,
            settings=self.transport_settings(**overrides),
        )


def writeback_registry(
    *resources: ShopifyAdminResource | WooCommerceResource | YouCanResource | None,
) -> WriteBackRegistry:
    """A registry with one adapter per configured storefront resource (``None`` skipped).

    The caller closes it (``registry.close()``) when done.
    """
    adapters: list[StorefrontWriteBack] = [r.get_client() for r in resources if r is not None]
    return WriteBackRegistry(adapters)
