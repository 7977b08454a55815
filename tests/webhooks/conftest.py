"""Fixtures for the webhook receiver tests (helpers live in ``webhook_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webhook_helpers import (
    CARRIER_SECRETS,
    LIGHTFUNNELS_SECRET,
    SHOPIFY_SECRET,
    VERIFY_TOKEN,
    WHATSAPP_SECRET,
)

from connectors.webhooks import Settings, create_app


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def settings(landing: Path) -> Settings:
    return Settings(
        landing_dir=landing,
        whatsapp_app_secret=WHATSAPP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
        shopify_webhook_secret=SHOPIFY_SECRET,
        lightfunnels_webhook_secret=LIGHTFUNNELS_SECRET,
        carrier_secrets=dict(CARRIER_SECRETS),
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
