"""Storefront order pulls: each platform's order API → the landing folder, incrementally.

One puller per platform (:class:`~connectors.storefronts.base.StorefrontPuller`:
pages of raw orders, oldest update first) and one engine for all
(:func:`~connectors.storefronts.engine.pull_store`: per-store high-water mark
with an overlap window, atomic commits, exactly-once landing). Stores are
configured in ``stores.yml`` (:mod:`connectors.storefronts.config`); Dagster
reaches them through :mod:`connectors.storefronts.resources`.
"""

from connectors.storefronts.base import (
    HighWaterMark,
    Page,
    SnapshotKey,
    StorefrontAuthError,
    StorefrontOrderingError,
    StorefrontPuller,
    StorefrontPullError,
    StorefrontUnavailableError,
)
from connectors.storefronts.config import StoreConfig, load_stores
from connectors.storefronts.engine import DEFAULT_OVERLAP, PullReport, pull_store
from connectors.storefronts.http import HttpSettings, StoreRef
from connectors.storefronts.lightfunnels import LightFunnelsOrdersPuller
from connectors.storefronts.prestashop import PrestaShopOrdersPuller
from connectors.storefronts.shopify import ShopifyOrdersPuller
from connectors.storefronts.woocommerce import WooCommerceOrdersPuller
from connectors.storefronts.youcan import YouCanOrdersPuller

__all__ = [
    "DEFAULT_OVERLAP",
    "HighWaterMark",
    "HttpSettings",
    "LightFunnelsOrdersPuller",
    "Page",
    "PrestaShopOrdersPuller",
    "PullReport",
    "ShopifyOrdersPuller",
    "SnapshotKey",
    "StoreConfig",
    "StoreRef",
    "StorefrontAuthError",
    "StorefrontOrderingError",
    "StorefrontPullError",
    "StorefrontPuller",
    "StorefrontUnavailableError",
    "WooCommerceOrdersPuller",
    "YouCanOrdersPuller",
    "load_stores",
    "pull_store",
]
