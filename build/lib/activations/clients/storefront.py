"""Storefront write-back: the adapter interface, its result, and the platform registry.

Every scored order gets a decision (SPEC §5): confirm, hold, agent review or
cancel. An adapter pushes that decision to the order's storefront through the
platform's own API and answers with a :class:`WriteBackResult` the caller
records. Adapters are *idempotent per (order, decision, decision_version)*:
calling one twice leaves the store as calling it once did (Shopify hold
handles, WooCommerce note markers), so a retried or resumed run is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, Field

from activations.clients.errors import (
    InvalidOrderRefError,
    UnsupportedPlatformError,
    VendorAccountError,
    VendorAuthError,
    WriteBackNotConfiguredError,
)
from common.transport import RetryableError, parse_retry_after

SUPPORTED_PLATFORMS = ("shopify", "woocommerce", "youcan")
# Platforms cod360 ingests orders from but cannot write back to yet.
NOT_YET_SUPPORTED = ("prestashop", "lightfunnels", "tiktok")


class Decision(StrEnum):
    CONFIRM = "confirm"
    HOLD = "hold"
    REVIEW = "review"  # agent review: held until a person decides
    CANCEL = "cancel"


class WriteBackStatus(StrEnum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"  # the store already showed this decision: nothing changed
    FAILED_PERMANENT = "failed_permanent"
    FAILED_TRANSIENT_EXHAUSTED = "failed_transient_exhausted"


class WriteBackResult(BaseModel):
    """What one write-back did, for the caller to record with the decision."""

    model_config = ConfigDict(frozen=True)

    order_ref: str
    platform: str
    decision: Decision
    decision_version: int
    status: WriteBackStatus
    operations: list[str] = Field(default_factory=list)  # what was done, in order, in words
    error_code: str | None = None
    error_message: str | None = None
    requests: int = 0  # HTTP requests sent, retries included
    notes: list[str] = Field(default_factory=list)  # caveats (e.g. a documented API gap)

    @property
    def ok(self) -> bool:
        return self.status in (WriteBackStatus.APPLIED, WriteBackStatus.ALREADY_APPLIED)


class DecisionRequest(BaseModel):
    """One decision to push (the batch form of :meth:`StorefrontWriteBack.apply_decision`)."""

    order_ref: str
    decision: Decision
    reason: str
    decision_version: int = Field(ge=1)


@runtime_checkable
class StorefrontWriteBack(Protocol):
    """Pushes one decision to one storefront platform.

    ``order_ref`` is ``"<platform>:<platform order id>"``; ``decision_version``
    increases each time the decision for an order changes, and makes the
    write-back idempotent: the same (order, decision, version) twice does
    nothing the second time. Per-order failures come back as results;
    credential and account failures raise a ``RunStoppingError``.
    """

    platform: str

    def apply_decision(
        self, order_ref: str, decision: Decision | str, reason: str, decision_version: int
    ) -> WriteBackResult: ...


def parse_order_ref(order_ref: str) -> tuple[str, str]:
    """``"shopify:5123456789"`` -> ``("shopify", "5123456789")``."""
    platform, sep, order_id = order_ref.partition(":")
    if not sep or not platform or not order_id.strip():
        raise InvalidOrderRefError(
            f"order reference {order_ref!r} is not '<platform>:<platform order id>'"
        )
    return platform.strip().lower(), order_id.strip()


class WriteBackRegistry:
    """Finds the adapter for an order's platform, with a clear error when there is none."""

    def __init__(self, adapters: Mapping[str, StorefrontWriteBack] | Iterable[StorefrontWriteBack]):
        items = adapters.values() if isinstance(adapters, Mapping) else adapters
        self._adapters = {adapter.platform: adapter for adapter in items}

    def adapters(self) -> list[StorefrontWriteBack]:
        return list(self._adapters.values())

    def close(self) -> None:
        """Close the adapters that hold connections."""
        for adapter in self._adapters.values():
            close = getattr(adapter, "close", None)
            if close:
                close()

    def for_platform(self, platform: str) -> StorefrontWriteBack:
        name = platform.strip().lower()
        if name not in SUPPORTED_PLATFORMS:
            raise UnsupportedPlatformError(
                f"platform {name!r} is not supported yet for write-back "
                f"(supported: {', '.join(SUPPORTED_PLATFORMS)})"
            )
        adapter = self._adapters.get(name)
        if adapter is None:
            raise WriteBackNotConfiguredError(
                f"platform {name!r} has no write-back client configured in this deployment"
            )
        return adapter

    def apply_decision(
        self, order_ref: str, decision: Decision | str, reason: str, decision_version: int
    ) -> WriteBackResult:
        platform, _ = parse_order_ref(order_ref)
        return self.for_platform(platform).apply_decision(
            order_ref, decision, reason, decision_version
        )


def checked_order_id(order_ref: str, platform: str) -> str:
    found, order_id = parse_order_ref(order_ref)
    if found != platform:
        raise InvalidOrderRefError(f"order reference {order_ref!r} is not a {platform} order")
    return order_id


def rest_verdict(vendor: str, response: httpx.Response, message: str) -> httpx.Response:
    """The shared reading of a REST storefront response.

    2xx and per-order 4xx (404, 400…) are returned for the adapter to interpret;
    429, 408 and 5xx raise :class:`RetryableError` (honouring ``Retry-After``);
    401 / 403 raise: they would fail every order the same way.
    """
    status = response.status_code
    if status == 401:
        raise VendorAuthError(vendor, f"credentials rejected: {message}", code=status)
    if status == 403:
        raise VendorAccountError(vendor, f"credentials lack permission: {message}", code=status)
    if status in (408, 429) or status >= 500:
        raise RetryableError(
            f"HTTP {status}",
            retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
            detail=(status, message),
        )
    return response
