"""YouCan write-back through the Store Admin API (``Authorization: Bearer <token>``).

What YouCan documents (developer.youcan.shop, "Update Order Status"), and what
this adapter uses:

- ``GET {base_url}/orders/{id}``: the order entity, its general status in
  ``status_object.slug``; 404 is ``{"status": 0 | 404, "detail": "order not found", "meta": []}``;
- ``PUT {base_url}/orders/{id}/status`` with ``{"status": "<slug>"}`` (general
  status; documented slugs ``open``, ``closed``, ``processed``,
  ``canceled-by-seller``; "if the provided slug does not exist in the statuses
  list, it will be used as-is as the status label").

Gaps, named: YouCan documents **no hold / fulfillment-hold endpoint, no
endpoint to set ``confirmation_status``, and no order note or tag write
endpoint**. So hold and review are written as custom general-status slugs
(``cod-hold``, ``cod-review``, relying on the documented "used as-is" rule),
confirm as ``processed``, cancel as ``canceled-by-seller`` (all configurable
through ``status_slugs``), and the *reason is not written to the store*: the
result says so in ``notes``. The shapes of 401, 422 and 429 responses and any
rate limit are not documented either; this client treats them like every REST
storefront (401/403 stop the run, 429/5xx are retried).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from activations.clients.storefront import (
    Decision,
    WriteBackResult,
    WriteBackStatus,
    checked_order_id,
    rest_verdict,
)
from common.transport import (
    RetryableError,
    TransportSettings,
    VendorHttpClient,
    bearer_auth,
    run_with_retries,
)

logger = logging.getLogger("cod360.activations.youcan")

DEFAULT_BASE_URL = "https://api.youcan.shop"
DEFAULT_STATUS_SLUGS: Mapping[Decision, str] = {
    Decision.CONFIRM: "processed",
    Decision.HOLD: "cod-hold",
    Decision.REVIEW: "cod-review",
    Decision.CANCEL: "canceled-by-seller",
}
CLOSED_SLUGS = frozenset({"closed", "canceled-by-seller"})
REASON_NOT_WRITTEN = "reason not written: YouCan documents no order note or tag write endpoint"


class YouCanWriteBack(VendorHttpClient):
    """:class:`StorefrontWriteBack` for YouCan (general order status only; see module docs)."""

    vendor = "youcan"
    platform = "youcan"

    default_transport = TransportSettings(rate_limit_per_s=2.0)

    def __init__(
        self,
        *,
        access_token: SecretStr | str,
        base_url: str = DEFAULT_BASE_URL,
        status_slugs: Mapping[Decision | str, str] | None = None,
        settings: TransportSettings | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth=bearer_auth(access_token),
            settings=settings,
            **overrides,
        )
        slugs = dict(DEFAULT_STATUS_SLUGS)
        slugs.update({Decision(k): v for k, v in (status_slugs or {}).items()})
        self.status_slugs = slugs
        self._local = threading.local()

    def apply_decision(
        self, order_ref: str, decision: Decision | str, reason: str, decision_version: int
    ) -> WriteBackResult:
        decision = Decision(decision)
        order_id = checked_order_id(order_ref, self.platform)
        target = self.status_slugs[decision]
        self._local.requests = 0
        ops: list[str] = []

        def result(
            status: WriteBackStatus, error: tuple[str, str] | None = None
        ) -> WriteBackResult:
            return WriteBackResult(
                order_ref=order_ref,
                platform=self.platform,
                decision=decision,
                decision_version=decision_version,
                status=status,
                operations=ops,
                error_code=error[0] if error else None,
                error_message=error[1] if error else None,
                requests=self._local.requests,
                notes=[REASON_NOT_WRITTEN],
            )

        try:
            found = self.call("GET", f"/orders/{order_id}")
            if found.status_code >= 400:
                return result(WriteBackStatus.FAILED_PERMANENT, _error(found))
            current = ((found.json().get("status_object") or {}).get("slug")) or None
            if current == target:
                ops.append(f"status already {target}")
                return result(WriteBackStatus.ALREADY_APPLIED)
            if current in CLOSED_SLUGS:
                message = f"order is already {current} on the store; not changed"
                return result(WriteBackStatus.FAILED_PERMANENT, ("ORDER_CLOSED", message))
            updated = self.call("PUT", f"/orders/{order_id}/status", json={"status": target})
            if updated.status_code >= 400:
                return result(WriteBackStatus.FAILED_PERMANENT, _error(updated))
        except RetryableError as exc:
            return result(WriteBackStatus.FAILED_TRANSIENT_EXHAUSTED, ("TRANSIENT", exc.reason))
        ops.append(f"status {current} -> {target}")
        logger.info("youcan: %s %s -> %s", order_ref, decision.value, target)
        return result(WriteBackStatus.APPLIED)

    def call(self, method: str, path: str, *, json: Any = None) -> httpx.Response:
        def attempt(number: int) -> httpx.Response:
            self._local.requests = getattr(self._local, "requests", 0) + 1
            response = self.send_once(method, path, json=json)
            return rest_verdict(self.vendor, response, _error(response)[1])

        return run_with_retries(
            attempt,
            self.retry_policy,
            sleep=self._sleep,
            on_retry=self.log_retry(f"{method} {path}"),
        )


def _error(response: httpx.Response) -> tuple[str, str]:
    """``(code, message)`` from YouCan's ``{"status", "detail", "meta"}`` error body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("detail" in body or "message" in body):
        return f"http_{response.status_code}", str(body.get("detail") or body.get("message"))
    return f"http_{response.status_code}", f"HTTP {response.status_code}"
