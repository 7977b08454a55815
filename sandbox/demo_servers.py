"""All the local contract servers the activations need, for the demo and end-to-end tests.

:func:`demo_servers` starts WhatsApp (approving every template the campaign files
and flows use, emitting webhooks into the landing folder), the SMS gateway (events
into the landing folder), and Shopify / WooCommerce / YouCan seeded with the
warehouse's open orders; it yields a :class:`DemoServers` whose ``env`` points the
Dagster resources at them (``os.environ.update(servers.env)`` before loading the
definitions). Credentials are random per start and never printed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from activations.campaign_config import Campaign, load_campaigns
from activations.confirmation import CANCEL, CONFIRM, ORDER_CONFIRMATION
from activations.delivery_codes import DELIVERY_CODE, DELIVERY_REATTEMPT
from activations.warehouse_tables import ORDERS_MODEL, relation_exists
from common.marts import mart
from common.warehouse import connect
from sandbox.contract_servers import (
    ApprovedTemplate,
    ScriptedReply,
    ShopifyContractServer,
    SmsContractServer,
    WhatsAppContractServer,
    WooCommerceContractServer,
    YouCanContractServer,
    serve,
)

PHONE_NUMBER_ID = "106540352242922"
_LANGUAGES = ("fr", "ar")


def flow_templates() -> list[ApprovedTemplate]:
    """The templates of the built-in flows, as approved in WhatsApp Manager."""
    return [
        ApprovedTemplate(ORDER_CONFIRMATION, _LANGUAGES, 3, (CONFIRM, CANCEL), "UTILITY"),
        ApprovedTemplate(DELIVERY_CODE, _LANGUAGES, 1, (), "UTILITY"),
        ApprovedTemplate(DELIVERY_REATTEMPT, _LANGUAGES, 3, (), "UTILITY"),
    ]


def campaign_templates(campaigns: Iterable[Campaign]) -> list[ApprovedTemplate]:
    """One approved template per template a campaign file (or one of its variants) sends."""
    found: dict[str, ApprovedTemplate] = {}
    for campaign in campaigns:
        for template in campaign.variant_templates().values():
            found[template.name] = ApprovedTemplate(
                template.name,
                tuple(sorted({template.language, *_LANGUAGES})),
                len(template.variables),
                tuple(template.buttons),
                campaign.category.value.upper(),  # type: ignore[arg-type]
            )
    return list(found.values())


def simulated_now(warehouse: Path) -> float | None:
    """The sample store's clock: the latest order placement in the warehouse (unix
    seconds), or None before the first build. The servers stamp the events they emit
    with it, not with the wall clock: a demo re-run days later must not move the
    warehouse's run date to today (every window and segment would shift with it)."""
    if not warehouse.exists():
        return None
    with connect(warehouse, read_only=True) as conn:
        orders = mart(ORDERS_MODEL)
        if not relation_exists(conn, orders):
            return None
        (latest,) = conn.execute(f"select max(placed_at) from {orders}").fetchone()
    return latest.replace(tzinfo=UTC).timestamp() if latest is not None else None


def open_orders(warehouse: Path) -> dict[str, list[dict]]:
    """The warehouse's open orders, in each storefront server's seed format."""
    seeds: dict[str, list[dict]] = {"shopify": [], "woocommerce": [], "youcan": []}
    if not warehouse.exists():
        return seeds
    with connect(warehouse, read_only=True) as conn:
        orders = mart(ORDERS_MODEL)
        if not relation_exists(conn, orders):
            return seeds
        rows = conn.execute(
            f"select platform, platform_order_id, order_number from {orders} "
            "where outcome = 'open' and platform in ('shopify', 'woocommerce', 'youcan')"
        ).fetchall()
    for platform, order_id, number in rows:
        if platform == "youcan":
            seeds["youcan"].append({"id": order_id, "ref": number or "000", "status": "open"})
        elif str(order_id).isdigit():
            entry = {"id": int(order_id), "name": number or f"#{order_id}"}
            if platform == "woocommerce":
                entry = {"id": int(order_id), "status": "pending"}
            seeds[platform].append(entry)
    return seeds


def _frozen_clock(start: float) -> Callable[[], float]:
    """The simulated clock: always ``start`` (the servers add their own offsets, e.g.
    delivered 5 s after sent), so that the same run gives the same times."""
    return lambda: start


@dataclass
class DemoServers:
    env: dict[str, str]
    whatsapp: WhatsAppContractServer
    sms: SmsContractServer
    shopify: ShopifyContractServer
    woocommerce: WooCommerceContractServer
    youcan: YouCanContractServer
    urls: dict[str, str] = field(default_factory=dict)

    def flush(self) -> list[Path]:
        """Write the queued WhatsApp webhooks and SMS events to the landing folder."""
        return [p for p in (self.whatsapp.flush_webhooks(), self.sms.flush_events()) if p]


@contextmanager
def demo_servers(
    warehouse: Path,
    landing_dir: Path,
    *,
    campaigns: Iterable[Campaign] | None = None,
    replies: Mapping[str, ScriptedReply] | None = None,
    sms_replies: Mapping[str, str] | None = None,
    otp_secret: str | None = None,
    now: float | None = None,
) -> Iterator[DemoServers]:
    """Start every contract server on 127.0.0.1; yield them with the env that points at them.

    ``now`` (unix seconds) is the clock the servers stamp their webhooks and events
    with; by default the simulated store's (:func:`simulated_now`), else the wall clock.
    """
    start = now if now is not None else simulated_now(warehouse)
    clock = time.time if start is None else _frozen_clock(start)
    token = {name: secrets.token_urlsafe(24) for name in ("wa", "sms", "shop", "ck", "cs", "yc")}
    campaign_list = list(campaigns) if campaigns is not None else load_campaigns()
    seeds = open_orders(warehouse)
    servers = DemoServers(
        env={},
        whatsapp=WhatsAppContractServer(
            access_token=token["wa"],
            phone_number_id=PHONE_NUMBER_ID,
            templates=[*flow_templates(), *campaign_templates(campaign_list)],
            replies=dict(replies or {}),
            landing_dir=landing_dir,
            read_probability=0.6,
            # A fresh seed per start: message ids must not repeat across demo runs that
            # share a landing folder.
            seed=secrets.randbits(32),
            clock=clock,
        ),
        sms=SmsContractServer(
            api_key=token["sms"],
            replies=dict(sms_replies or {}),
            landing_dir=landing_dir,
            clock=clock,
        ),
        shopify=ShopifyContractServer(access_token=token["shop"], orders=seeds["shopify"]),
        woocommerce=WooCommerceContractServer(
            consumer_key=token["ck"], consumer_secret=token["cs"], orders=seeds["woocommerce"]
        ),
        youcan=YouCanContractServer(access_token=token["yc"], orders=seeds["youcan"]),
    )
    with ExitStack() as stack:
        for name in ("whatsapp", "sms", "shopify", "woocommerce", "youcan"):
            servers.urls[name] = stack.enter_context(serve(getattr(servers, name)))
        servers.env = {
            "WHATSAPP_ACCESS_TOKEN": token["wa"],
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "COD360_WHATSAPP_BASE_URL": servers.urls["whatsapp"],
            "SMS_API_KEY": token["sms"],
            "COD360_SMS_BASE_URL": servers.urls["sms"],
            "SHOPIFY_ACCESS_TOKEN": token["shop"],
            "COD360_SHOPIFY_BASE_URL": servers.urls["shopify"],
            "WOOCOMMERCE_CONSUMER_KEY": token["ck"],
            "WOOCOMMERCE_CONSUMER_SECRET": token["cs"],
            "COD360_WOOCOMMERCE_BASE_URL": servers.urls["woocommerce"],
            "YOUCAN_ACCESS_TOKEN": token["yc"],
            "COD360_YOUCAN_BASE_URL": servers.urls["youcan"],
            "COD360_OTP_SECRET": otp_secret or secrets.token_urlsafe(32),
        }
        yield servers
