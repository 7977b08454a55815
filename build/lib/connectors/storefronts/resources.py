"""Dagster resources for the storefront pulls: configuration only, fed by ``dg.EnvVar``.

One resource per configured store (``storefront_<store name>``), of the class of
its platform. :meth:`StorefrontPullResource.pull` builds the puller and runs
one pull of the store into a landing folder. Pointing a deployment, a test or
the demo at a local contract server is a change of ``base_url``, never of code.
Credential fields are excluded from reprs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dagster as dg
from pydantic import Field

from connectors.storefronts import lightfunnels, shopify, youcan
from connectors.storefronts.base import StorefrontPuller
from connectors.storefronts.config import StoreConfig
from connectors.storefronts.engine import PullReport, pull_store
from connectors.storefronts.http import HttpSettings, StoreRef
from connectors.storefronts.lightfunnels import LightFunnelsOrdersPuller
from connectors.storefronts.prestashop import PrestaShopOrdersPuller
from connectors.storefronts.shopify import ShopifyOrdersPuller
from connectors.storefronts.woocommerce import WooCommerceOrdersPuller
from connectors.storefronts.youcan import YouCanOrdersPuller


class StorefrontPullResource(dg.ConfigurableResource):
    """What every store's pull shares: HTTP behaviour and the incremental window."""

    timeout_s: float = Field(default=30.0, description="Per-request timeout, seconds.")
    max_retries: int = Field(
        default=5, description="Retries after the first attempt (429/5xx/timeouts)."
    )
    rate_limit_per_s: float = Field(
        default=4.0, description="Client-side pacing, requests/second (0: off)."
    )
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    overlap_minutes: float = Field(
        default=10.0, description="Each pull starts this far below the high-water mark."
    )
    pages_per_commit: int = Field(default=10, description="Pages per committed landing file.")

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            rate_limit_per_s=self.rate_limit_per_s or None,
            backoff_base_s=self.backoff_base_s,
            backoff_max_s=self.backoff_max_s,
        )

    def build_puller(self, store: StoreRef) -> StorefrontPuller:
        raise NotImplementedError

    def pull(
        self, store: StoreRef, landing_dir: Path, log: Callable[[str], None] | None = None
    ) -> PullReport:
        """One pull of ``store`` into ``landing_dir`` (see :func:`connectors.storefronts.engine.pull_store`)."""
        with self.build_puller(store) as puller:
            return pull_store(
                puller,
                store=store.name,
                landing_dir=landing_dir,
                overlap=timedelta(minutes=self.overlap_minutes),
                pages_per_commit=self.pages_per_commit,
                log=log,
            )


class ShopifyPullResource(StorefrontPullResource):
    """A Shopify shop's Admin GraphQL API."""

    base_url: str = Field(description="https://<shop>.myshopify.com")
    access_token: str = Field(repr=False, description="Admin API access token (secret).")
    api_version: str = shopify.DEFAULT_API_VERSION
    page_size: int = Field(
        default=50, description="Orders per query (at most 250; shrunk on MAX_COST_EXCEEDED)."
    )
    line_items_per_order: int = 10
    rate_limit_per_s: float = 2.0

    def build_puller(self, store: StoreRef) -> StorefrontPuller:
        return ShopifyOrdersPuller(
            store=store,
            base_url=self.base_url,
            access_token=self.access_token,
            api_version=self.api_version,
            page_size=self.page_size,
            line_items_per_order=self.line_items_per_order,
            http=self.http_settings(),
        )


class WooCommercePullResource(StorefrontPullResource):
    """A WooCommerce store's REST API v3."""

    base_url: str = Field(description="The WordPress site URL (https://…).")
    consumer_key: str = Field(repr=False, description="REST API consumer key (secret).")
    consumer_secret: str = Field(repr=False, description="REST API consumer secret (secret).")
    per_page: int = 100

    def build_puller(self, store: StoreRef) -> StorefrontPuller:
        return WooCommerceOrdersPuller(
            store=store,
            base_url=self.base_url,
            consumer_key=self.consumer_key,
            consumer_secret=self.consumer_secret,
            per_page=self.per_page,
            http=self.http_settings(),
        )


class YouCanPullResource(StorefrontPullResource):
    """A YouCan store's Store Admin API."""

    base_url: str = youcan.DEFAULT_BASE_URL
    access_token: str = Field(repr=False, description="OAuth access token (secret).")
    limit: int = 50
    rate_limit_per_s: float = 2.0

    def build_puller(self, store: StoreRef) -> StorefrontPuller:
        return YouCanOrdersPuller(
            store=store,
            base_url=self.base_url,
            access_token=self.access_token,
            limit=self.limit,
            http=self.http_settings(),
        )


class LightFunnelsPullResource(StorefrontPullResource):
    """A LightFunnels account's GraphQL API."""

    base_url: str = lightfunnels.DEFAULT_BASE_URL
    access_token: str = Field(repr=False, description="App access token (secret).")
    page_size: int = 50
    orders_query: str = lightfunnels.DEFAULT_ORDERS_QUERY
    since_filter: str = lightfunnels.DEFAULT_SINCE_FILTER
    rate_limit_per_s: float = 2.0

    def build_puller(self, store: StoreRef) -> StorefrontPuller:
        return LightFunnelsOrdersPuller(
            store=store,
            base_url=self.base_url,
            access_token=self.access_token,
            page_size=self.page_size,
            orders_query=self.orders_query,
            since_filter=self.since_filter,
            http=self.http_settings(),
        )


class PrestaShopPullResource(StorefrontPullResource):
    """A PrestaShop shop's webservice."""

    base_url: str = Field(description="The shop URL; the webservice is under /api.")
    api_key: str = Field(repr=False, description="Webservice key, 32 characters (secret).")
    shop_timezone: str = Field(default="Africa/Casablanca", description="PS_TIMEZONE of the shop.")
    page_size: int = 100
    with_related: bool = True

    def build_puller(self, store: StoreRef) -> StorefrontPuller:
        return PrestaShopOrdersPuller(
            store=store,
            base_url=self.base_url,
            api_key=self.api_key,
            shop_timezone=self.shop_timezone,
            page_size=self.page_size,
            with_related=self.with_related,
            http=self.http_settings(),
        )


RESOURCE_CLASSES: dict[str, type[StorefrontPullResource]] = {
    "shopify": ShopifyPullResource,
    "woocommerce": WooCommercePullResource,
    "youcan": YouCanPullResource,
    "lightfunnels": LightFunnelsPullResource,
    "prestashop": PrestaShopPullResource,
}


def resource_key(store: StoreConfig | StoreRef) -> str:
    return f"storefront_{store.name}"


def resource_for_store(store: StoreConfig) -> StorefrontPullResource:
    """The store's resource, every setting read from its env var with ``dg.EnvVar``.

    A setting with a default (a public API host) uses it when its variable is
    unset; any other unset variable fails the run with Dagster's error naming it.
    """
    values: dict[str, object] = {}
    for setting, _secret, default in store.settings():
        name = store.env_var(setting)
        if default is not None and not os.environ.get(name):
            values[setting] = default
        else:
            values[setting] = dg.EnvVar(name)
    return RESOURCE_CLASSES[store.platform](
        overlap_minutes=store.overlap_minutes,
        pages_per_commit=store.pages_per_commit,
        **store.options,
        **values,
    )
