"""The write-back registry, the Dagster resources, and the shared client plumbing."""

from __future__ import annotations

import dagster as dg
import pytest
from activation_helpers import PHONE, WHATSAPP_TOKEN, WOO_KEY, WOO_SECRET

from activations.clients.errors import (
    InvalidOrderRefError,
    UnsupportedPlatformError,
    WriteBackNotConfiguredError,
)
from activations.clients.resources import (
    ShopifyAdminResource,
    SmsGatewayResource,
    WhatsAppCloudResource,
    WooCommerceResource,
    YouCanResource,
    writeback_registry,
)
from activations.clients.storefront import (
    StorefrontWriteBack,
    WriteBackRegistry,
    WriteBackStatus,
    parse_order_ref,
)
from common.privacy import mask_phone, redact
from common.transport import TokenBucket, bearer_auth, parse_retry_after
from sandbox.contract_servers import WhatsAppContractServer, WooCommerceContractServer


@pytest.mark.parametrize("platform", ["prestashop", "lightfunnels", "tiktok"])
def test_unsupported_platforms_get_a_clear_error(platform):
    registry = WriteBackRegistry([])
    with pytest.raises(
        UnsupportedPlatformError, match=f"platform '{platform}' is not supported yet for write-back"
    ):
        registry.apply_decision(f"{platform}:123", "hold", "x", 1)


def test_supported_but_unconfigured_platform_is_named():
    with pytest.raises(
        WriteBackNotConfiguredError, match="'youcan' has no write-back client configured"
    ):
        WriteBackRegistry([]).for_platform("youcan")


@pytest.mark.parametrize("ref", ["1042", "shopify:", ":1042", ""])
def test_malformed_order_refs_are_rejected(ref):
    with pytest.raises(InvalidOrderRefError):
        parse_order_ref(ref)


def test_registry_dispatches_by_order_ref_through_resources(start, monkeypatch):
    store = WooCommerceContractServer(
        consumer_key=WOO_KEY, consumer_secret=WOO_SECRET, orders=[{"id": 5}]
    )
    base_url = start(store)
    monkeypatch.setenv("WOO_KEY", WOO_KEY)
    monkeypatch.setenv("WOO_SECRET", WOO_SECRET)
    woo = WooCommerceResource(
        base_url=base_url,
        consumer_key=dg.EnvVar("WOO_KEY"),
        consumer_secret=dg.EnvVar("WOO_SECRET"),
    )
    registry = writeback_registry(woo.process_config_and_initialize(), None)  # resolves EnvVar
    try:
        assert isinstance(registry.for_platform("woocommerce"), StorefrontWriteBack)
        result = registry.apply_decision("woocommerce:5", "hold", "x", 1)
    finally:
        registry.close()
    assert result.status is WriteBackStatus.APPLIED and store.orders[5]["status"] == "on-hold"


def test_whatsapp_resource_builds_a_working_client_from_env(start, monkeypatch):
    wa_server = WhatsAppContractServer(access_token=WHATSAPP_TOKEN, open_windows=[PHONE])
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", WHATSAPP_TOKEN)
    resource = WhatsAppCloudResource(
        base_url=start(wa_server),
        phone_number_id="106540352242922",
        access_token=dg.EnvVar("WHATSAPP_ACCESS_TOKEN"),
    )

    @dg.asset
    def whatsapp_probe(whatsapp: WhatsAppCloudResource) -> str:
        with whatsapp.get_client() as client:
            return client.send_text(PHONE, "ping").status.value

    run = dg.materialize([whatsapp_probe], resources={"whatsapp": resource})
    assert run.success and run.output_for_node("whatsapp_probe") == "sent"
    assert len(wa_server.messages) == 1


def test_resource_and_client_reprs_hide_credentials():
    resources = [
        WhatsAppCloudResource(phone_number_id="1", access_token=WHATSAPP_TOKEN),
        ShopifyAdminResource(base_url="https://x.myshopify.com", access_token="shpat_secret"),
        WooCommerceResource(base_url="https://x", consumer_key=WOO_KEY, consumer_secret=WOO_SECRET),
        YouCanResource(access_token="yc_secret"),
        SmsGatewayResource(base_url="https://sms", api_key="sms_secret"),
    ]
    for resource in resources:
        with resource.get_client() as client:
            text = repr(resource) + str(resource) + repr(client) + repr(client._http.auth)
        for secret in (
            WHATSAPP_TOKEN,
            "shpat_secret",
            WOO_KEY,
            WOO_SECRET,
            "yc_secret",
            "sms_secret",
        ):
            assert secret not in text
    assert "secret" not in repr(bearer_auth("secret-token").__dict__.get("_secret"))


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+212612345678", "+2126****5678"),
        ("212612345678", "2126****5678"),
        ("+33 6 12 34 56 78", "+3361***5678"),
        ("0612", "**12"),
        (None, "<none>"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_redact_removes_every_secret():
    assert redact("token abc rejected: abc", ["abc", None, ""]) == "token *** rejected: ***"


def test_token_bucket_paces_requests():
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    bucket = TokenBucket(10.0, burst=2, clock=lambda: now[0], sleep=sleep)
    for _ in range(6):
        bucket.acquire()
    assert waits == pytest.approx([0.1, 0.1, 0.1, 0.1])  # a burst of 2, then 10 per second
    assert TokenBucket(None).acquire() == 0.0


def test_parse_retry_after():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    assert parse_retry_after("soon") is None
