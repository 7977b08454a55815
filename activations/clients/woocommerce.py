"""WooCommerce write-back through the REST API v3 (Basic auth, consumer key / secret).

- ``GET /wp-json/wc/v3/orders/{id}`` first: an order the store already closed
  (completed, cancelled, refunded, failed) is never reopened by a decision;
- ``PUT /wp-json/wc/v3/orders/{id}`` with the decision's status
  (confirm -> ``processing``, hold and review -> ``on-hold``, cancel -> ``cancelled``),
  skipped when the order already has it;
- ``POST /wp-json/wc/v3/orders/{id}/notes`` with the reason, prefixed by a
  marker ``[cod360 <decision> v<version>]``; an existing note with the same
  marker means it was written before, so notes are never doubled on a retry;
- :meth:`WooCommerceWriteBack.apply_decisions` updates statuses in chunks of
  at most 100 through ``POST /wp-json/wc/v3/orders/batch`` (WooCommerce refuses
  more with ``woocommerce_rest_request_entity_too_large``, HTTP 413).

Errors are ``{"code", "message", "data": {"status"}}``; 429 and 5xx are retried.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from activations.clients.storefront import (
    Decision,
    DecisionRequest,
    WriteBackResult,
    WriteBackStatus,
    checked_order_id,
    rest_verdict,
)
from common.transport import (
    RetryableError,
    TransportSettings,
    VendorHttpClient,
    basic_auth,
    run_with_retries,
)

logger = logging.getLogger("cod360.activations.woocommerce")

API_ROOT = "/wp-json/wc/v3"
BATCH_LIMIT = 100
TARGET_STATUS = {
    Decision.CONFIRM: "processing",
    Decision.HOLD: "on-hold",
    Decision.REVIEW: "on-hold",
    Decision.CANCEL: "cancelled",
}
# Statuses a decision must not move an order out of: the store has settled it.
CLOSED_STATUSES = frozenset({"completed", "cancelled", "refunded", "failed", "trash"})


class _NoteFailed(Exception):
    """WooCommerce refused the note (a 4xx): the status changed but the reason is missing."""

    def __init__(self, error: tuple[str, str]):
        super().__init__(error[1])
        self.error = error


def note_marker(decision: Decision, decision_version: int) -> str:
    return f"[cod360 {decision.value} v{decision_version}]"


class WooCommerceWriteBack(VendorHttpClient):
    """:class:`StorefrontWriteBack` for WooCommerce (order status + order note)."""

    vendor = "woocommerce"
    platform = "woocommerce"

    default_transport = TransportSettings(rate_limit_per_s=5.0)

    def __init__(
        self,
        *,
        base_url: str,
        consumer_key: SecretStr | str,
        consumer_secret: SecretStr | str,
        batch_size: int = BATCH_LIMIT,
        settings: TransportSettings | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth=basic_auth(consumer_key, consumer_secret),
            settings=settings,
            **overrides,
        )
        self.batch_size = min(batch_size, BATCH_LIMIT)
        self._local = threading.local()

    # -- one order ------------------------------------------------------------------

    def apply_decision(
        self, order_ref: str, decision: Decision | str, reason: str, decision_version: int
    ) -> WriteBackResult:
        request = DecisionRequest(
            order_ref=order_ref, decision=decision, reason=reason, decision_version=decision_version
        )
        self._local.requests = 0
        try:
            order_id = checked_order_id(order_ref, self.platform)
            response = self.call("GET", f"{API_ROOT}/orders/{order_id}")
            if response.status_code >= 400:
                return self._result(
                    request, WriteBackStatus.FAILED_PERMANENT, [], error=_error(response)
                )
            return self._apply(request, order_id, response.json(), batch_updated=None)
        except _NoteFailed as exc:
            return self._result(request, WriteBackStatus.FAILED_PERMANENT, [], error=exc.error)
        except RetryableError as exc:
            return self._result(
                request,
                WriteBackStatus.FAILED_TRANSIENT_EXHAUSTED,
                [],
                error=("TRANSIENT", exc.reason),
            )

    def _apply(
        self,
        request: DecisionRequest,
        order_id: str,
        order: dict[str, Any],
        batch_updated: bool | None,
    ) -> WriteBackResult:
        target = TARGET_STATUS[request.decision]
        current = order.get("status")
        ops: list[str] = []
        changed = False
        if current != target and current in CLOSED_STATUSES:
            return self._result(
                request,
                WriteBackStatus.FAILED_PERMANENT,
                ops,
                error=("ORDER_CLOSED", f"order is already {current} on the store; not changed"),
            )
        if batch_updated:
            ops.append(f"status {current} -> {target} (batch)")
            changed = True
        elif current != target:
            response = self.call("PUT", f"{API_ROOT}/orders/{order_id}", json={"status": target})
            if response.status_code >= 400:
                return self._result(
                    request, WriteBackStatus.FAILED_PERMANENT, ops, error=_error(response)
                )
            ops.append(f"status {current} -> {target}")
            changed = True
        else:
            ops.append(f"status already {target}")
        changed |= self._note(request, order_id, ops)
        status = WriteBackStatus.APPLIED if changed else WriteBackStatus.ALREADY_APPLIED
        logger.info(
            "woocommerce: %s %s -> %s", request.order_ref, request.decision.value, status.value
        )
        return self._result(request, status, ops)

    def _note(self, request: DecisionRequest, order_id: str, ops: list[str]) -> bool:
        marker = note_marker(request.decision, request.decision_version)
        existing = self.call("GET", f"{API_ROOT}/orders/{order_id}/notes")
        if existing.status_code < 400 and any(
            str(note.get("note", "")).startswith(marker) for note in existing.json()
        ):
            ops.append("note already written")
            return False
        note = {"note": f"{marker} {request.reason}", "customer_note": False}
        response = self.call("POST", f"{API_ROOT}/orders/{order_id}/notes", json=note)
        if response.status_code >= 400:
            raise _NoteFailed(_error(response))
        ops.append("note written")
        return True

    # -- many orders ---------------------------------------------------------------------

    def apply_decisions(self, requests: Sequence[DecisionRequest]) -> list[WriteBackResult]:
        """Push many decisions: statuses through ``/orders/batch`` (chunks of 100), then notes.

        Results come back in the order of ``requests``.
        """
        results: list[WriteBackResult] = []
        for start in range(0, len(requests), self.batch_size):
            results.extend(self._apply_chunk(requests[start : start + self.batch_size]))
        return results

    def _apply_chunk(self, chunk: Sequence[DecisionRequest]) -> list[WriteBackResult]:
        self._local.requests = 0
        ids = [checked_order_id(r.order_ref, self.platform) for r in chunk]
        try:
            listing = self.call(
                "GET",
                f"{API_ROOT}/orders",
                params={"include": ",".join(ids), "per_page": BATCH_LIMIT},
            )
            orders = {str(o["id"]): o for o in listing.json()} if listing.status_code < 400 else {}
            updates = [
                {"id": int(order_id), "status": TARGET_STATUS[r.decision]}
                for r, order_id in zip(chunk, ids, strict=True)
                if order_id in orders
                and orders[order_id].get("status") != TARGET_STATUS[r.decision]
                and orders[order_id].get("status") not in CLOSED_STATUSES
            ]
            outcome: dict[str, Any] = {}
            if updates:
                response = self.call("POST", f"{API_ROOT}/orders/batch", json={"update": updates})
                if response.status_code >= 400:
                    error = _error(response)
                    return [
                        self._result(r, WriteBackStatus.FAILED_PERMANENT, [], error=error)
                        for r in chunk
                    ]
                outcome = {str(item.get("id")): item for item in response.json().get("update", [])}
        except RetryableError as exc:
            return [
                self._result(
                    r,
                    WriteBackStatus.FAILED_TRANSIENT_EXHAUSTED,
                    [],
                    error=("TRANSIENT", exc.reason),
                )
                for r in chunk
            ]
        results = []
        for request, order_id in zip(chunk, ids, strict=True):
            item = outcome.get(order_id)
            if order_id not in orders:
                error = ("woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
                results.append(
                    self._result(request, WriteBackStatus.FAILED_PERMANENT, [], error=error)
                )
            elif item and "error" in item:
                error = (item["error"].get("code", "error"), item["error"].get("message", ""))
                results.append(
                    self._result(request, WriteBackStatus.FAILED_PERMANENT, [], error=error)
                )
            else:
                self._local.requests = 0  # from here on, count this order's own calls
                try:
                    results.append(
                        self._apply(
                            request, order_id, orders[order_id], batch_updated=item is not None
                        )
                    )
                except _NoteFailed as exc:
                    results.append(
                        self._result(request, WriteBackStatus.FAILED_PERMANENT, [], error=exc.error)
                    )
                except RetryableError as exc:
                    error = ("TRANSIENT", exc.reason)
                    results.append(
                        self._result(
                            request, WriteBackStatus.FAILED_TRANSIENT_EXHAUSTED, [], error=error
                        )
                    )
        return results

    # -- transport -------------------------------------------------------------------------

    def call(
        self, method: str, path: str, *, json: Any = None, params: dict | None = None
    ) -> httpx.Response:
        """One REST call with retries on 429 / 5xx / timeouts; 401 / 403 raise."""

        def attempt(number: int) -> httpx.Response:
            self._local.requests = getattr(self._local, "requests", 0) + 1
            response = self.send_once(method, path, json=json, params=params)
            return rest_verdict(self.vendor, response, _error(response)[1])

        return run_with_retries(
            attempt,
            self.retry_policy,
            sleep=self._sleep,
            on_retry=self.log_retry(f"{method} {path}"),
        )

    def _result(
        self,
        request: DecisionRequest,
        status: WriteBackStatus,
        ops: list[str],
        *,
        error: tuple[str, str] | None = None,
    ) -> WriteBackResult:
        return WriteBackResult(
            order_ref=request.order_ref,
            platform=self.platform,
            decision=request.decision,
            decision_version=request.decision_version,
            status=status,
            operations=ops,
            error_code=error[0] if error else None,
            error_message=error[1] if error else None,
            requests=getattr(self._local, "requests", 0),
        )


def _error(response: httpx.Response) -> tuple[str, str]:
    """``(code, message)`` from WooCommerce's ``{"code", "message", "data": {"status"}}``."""
    try:
        body = response.json()
    except ValueError:
        return f"http_{response.status_code}", f"HTTP {response.status_code}"
    if isinstance(body, dict) and "code" in body:
        return str(body["code"]), str(body.get("message", ""))
    return f"http_{response.status_code}", f"HTTP {response.status_code}"
