"""Shopify write-back through the Admin GraphQL API.

``POST {base_url}/admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token``.

- hold / review / cancel: ``fulfillmentOrderHold`` on every open fulfillment
  order, reason ``OTHER``, ``reasonNotes`` = the reason, and a deterministic
  ``handle`` (``cod360-<decision>-v<version>``). Shopify refuses a second hold
  with the same handle (userError ``DUPLICATE_FULFILLMENT_HOLD_HANDLE``), which
  makes a retry harmless: it counts as done. Older cod360 holds are released
  *after* the new one is placed, so the order is never left unheld.
- confirm: ``fulfillmentOrderReleaseHold`` of cod360's own holds only (holds
  placed by the merchant or other apps stay).
- every decision: ``tagsAdd`` its tag (``cod-confirmed``, ``cod-hold``,
  ``cod-review``, ``cod-cancelled``) and ``tagsRemove`` the other cod360 tags.

Cancel does not call ``orderCancel``: cancelling on Shopify is irreversible
(refund, restock, customer e-mail), so cod360 holds the order and tags it
``cod-cancelled`` for the merchant to cancel. Throttling is cost based: a
``THROTTLED`` error waits ``(requestedQueryCost - currentlyAvailable) /
restoreRate`` seconds, and the client also waits before sending when the last
response showed the bucket too low.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx
from pydantic import SecretStr

from activations.clients.errors import VendorAccountError, VendorAuthError
from activations.clients.storefront import (
    Decision,
    WriteBackResult,
    WriteBackStatus,
    checked_order_id,
)
from common.transport import (
    RetryableError,
    SecretHeaderAuth,
    TransportSettings,
    VendorHttpClient,
    parse_retry_after,
    run_with_retries,
)

logger = logging.getLogger("cod360.activations.shopify")

DEFAULT_API_VERSION = "2025-07"
HOLD_HANDLE_PREFIX = "cod360-"
DECISION_TAGS = {
    Decision.CONFIRM: "cod-confirmed",
    Decision.HOLD: "cod-hold",
    Decision.REVIEW: "cod-review",
    Decision.CANCEL: "cod-cancelled",
}
HOLDABLE_STATUSES = ("OPEN", "ON_HOLD")
MUTATION_COST_ESTIMATE = 10.0

ORDER_QUERY = """
query CodOrderFulfillment($id: ID!) {
  order(id: $id) {
    id
    name
    tags
    fulfillmentOrders(first: 20) {
      nodes { id status fulfillmentHolds { id handle reason } }
    }
  }
}"""

HOLD_MUTATION = """
mutation CodHold($id: ID!, $hold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $hold) {
    fulfillmentHold { id handle }
    fulfillmentOrder { id status }
    userErrors { field message code }
  }
}"""

RELEASE_MUTATION = """
mutation CodRelease($id: ID!, $holdIds: [ID!]) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) {
    fulfillmentOrder { id status }
    userErrors { field message code }
  }
}"""

TAGS_ADD_MUTATION = """
mutation CodTagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } }
}"""

TAGS_REMOVE_MUTATION = """
mutation CodTagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } }
}"""


class ShopifyGraphQLError(Exception):
    """Top-level GraphQL errors that retrying will not fix (a bad id, a bad query)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class _Failed(Exception):
    """A userError that ends this order's write-back."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class ShopifyWriteBack(VendorHttpClient):
    """:class:`StorefrontWriteBack` for Shopify (fulfillment holds + order tags)."""

    vendor = "shopify"
    platform = "shopify"

    default_transport = TransportSettings(rate_limit_per_s=4.0)

    def __init__(
        self,
        *,
        base_url: str,
        access_token: SecretStr | str,
        api_version: str = DEFAULT_API_VERSION,
        settings: TransportSettings | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth=SecretHeaderAuth("X-Shopify-Access-Token", access_token),
            settings=settings,
            **overrides,
        )
        self.graphql_path = f"/admin/api/{api_version}/graphql.json"
        self._bucket_state: dict[str, float] | None = None
        self._state_lock = threading.Lock()
        self._local = threading.local()  # per-thread request count of the write-back in flight

    # -- the adapter ----------------------------------------------------------------

    def apply_decision(
        self, order_ref: str, decision: Decision | str, reason: str, decision_version: int
    ) -> WriteBackResult:
        decision = Decision(decision)
        order_gid = f"gid://shopify/Order/{checked_order_id(order_ref, self.platform)}"
        ops: list[str] = []
        notes: list[str] = []
        self._local.requests = 0

        def result(status: WriteBackStatus, **extra: Any) -> WriteBackResult:
            return WriteBackResult(
                order_ref=order_ref,
                platform=self.platform,
                decision=decision,
                decision_version=decision_version,
                status=status,
                operations=ops,
                notes=notes,
                requests=self._local.requests,
                **extra,
            )

        try:
            order = self.graphql(ORDER_QUERY, {"id": order_gid})["order"]
            if order is None:
                return result(
                    WriteBackStatus.FAILED_PERMANENT,
                    error_code="ORDER_NOT_FOUND",
                    error_message=f"no order {order_gid} on this shop",
                )
            fulfillment_orders = order["fulfillmentOrders"]["nodes"]
            if decision is Decision.CONFIRM:
                changed = self._release_our_holds(fulfillment_orders, None, ops, notes)
            else:
                handle = f"{HOLD_HANDLE_PREFIX}{decision.value}-v{decision_version}"
                changed = self._hold(fulfillment_orders, handle, reason, ops)
                changed |= self._release_our_holds(fulfillment_orders, handle, ops, notes)
                if decision is Decision.CANCEL:
                    notes.append("held and tagged only: cancel the order in Shopify admin")
            changed |= self._retag(order, DECISION_TAGS[decision], ops)
        except (_Failed, ShopifyGraphQLError) as exc:
            return result(
                WriteBackStatus.FAILED_PERMANENT, error_code=exc.code, error_message=str(exc)
            )
        except RetryableError as exc:
            return result(
                WriteBackStatus.FAILED_TRANSIENT_EXHAUSTED,
                error_code="TRANSIENT",
                error_message=exc.reason,
            )
        status = WriteBackStatus.APPLIED if changed else WriteBackStatus.ALREADY_APPLIED
        logger.info(
            "shopify: %s %s -> %s (%s)", order_ref, decision.value, status.value, "; ".join(ops)
        )
        return result(status)

    def _hold(
        self, fulfillment_orders: list[dict], handle: str, reason: str, ops: list[str]
    ) -> bool:
        holdable = [fo for fo in fulfillment_orders if fo["status"] in HOLDABLE_STATUSES]
        if not holdable:
            statuses = ", ".join(sorted({fo["status"] for fo in fulfillment_orders})) or "none"
            raise _Failed(
                "NO_HOLDABLE_FULFILLMENT_ORDER",
                f"no open fulfillment order to hold (statuses: {statuses})",
            )
        changed = False
        for fo in holdable:
            hold = {
                "reason": "OTHER",
                "reasonNotes": reason[:255],
                "handle": handle,
                "notifyMerchant": False,
            }
            payload = self.graphql(HOLD_MUTATION, {"id": fo["id"], "hold": hold})[
                "fulfillmentOrderHold"
            ]
            errors = payload["userErrors"]
            if any(e.get("code") == "DUPLICATE_FULFILLMENT_HOLD_HANDLE" for e in errors):
                ops.append(f"hold {handle} on {fo['id']}: already in place")
            elif errors:
                raise _Failed(errors[0].get("code") or "USER_ERROR", errors[0]["message"])
            else:
                held = payload["fulfillmentHold"]
                fo.setdefault("fulfillmentHolds", []).append(held)
                ops.append(f"hold {handle} on {fo['id']}: placed")
                changed = True
        return changed

    def _release_our_holds(
        self,
        fulfillment_orders: list[dict],
        keep_handle: str | None,
        ops: list[str],
        notes: list[str],
    ) -> bool:
        changed = False
        for fo in fulfillment_orders:
            holds = fo.get("fulfillmentHolds") or []
            ours = [
                h["id"]
                for h in holds
                if (h.get("handle") or "").startswith(HOLD_HANDLE_PREFIX)
                and h.get("handle") != keep_handle
            ]
            if ours:
                payload = self.graphql(RELEASE_MUTATION, {"id": fo["id"], "holdIds": ours})
                errors = payload["fulfillmentOrderReleaseHold"]["userErrors"]
                if errors and _not_on_hold(errors):
                    # A retried release whose first try succeeded (Shopify gives no code here).
                    ops.append(f"cod360 holds on {fo['id']}: already released")
                elif errors:
                    raise _Failed(errors[0].get("code") or "USER_ERROR", errors[0]["message"])
                else:
                    ops.append(f"released {len(ours)} cod360 hold(s) on {fo['id']}")
                    changed = True
            others = [
                h for h in holds if not (h.get("handle") or "").startswith(HOLD_HANDLE_PREFIX)
            ]
            if keep_handle is None and others:
                notes.append(
                    f"{fo['id']} keeps {len(others)} hold(s) placed by the merchant or another app"
                )
        return changed

    def _retag(self, order: dict, tag: str, ops: list[str]) -> bool:
        current = set(order.get("tags") or [])
        stale = sorted(t for t in DECISION_TAGS.values() if t != tag and t in current)
        changed = False
        if tag not in current:
            self._tags(TAGS_ADD_MUTATION, "tagsAdd", order["id"], [tag])
            ops.append(f"tagged {tag}")
            changed = True
        if stale:
            self._tags(TAGS_REMOVE_MUTATION, "tagsRemove", order["id"], stale)
            ops.append(f"untagged {', '.join(stale)}")
            changed = True
        return changed

    def _tags(self, mutation: str, field: str, gid: str, tags: list[str]) -> None:
        errors = self.graphql(mutation, {"id": gid, "tags": tags})[field]["userErrors"]
        if errors:
            raise _Failed("TAGS_USER_ERROR", errors[0]["message"])

    # -- GraphQL transport -------------------------------------------------------------

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run one query/mutation with throttling and retries; returns ``data``."""

        def attempt(number: int) -> dict[str, Any]:
            self._wait_for_bucket()
            self._local.requests = getattr(self._local, "requests", 0) + 1
            response = self.send_once(
                "POST", self.graphql_path, json={"query": query, "variables": variables}
            )
            return self._data(response)

        return run_with_retries(
            attempt, self.retry_policy, sleep=self._sleep, on_retry=self.log_retry("graphql")
        )

    def _data(self, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        if status == 401:
            raise VendorAuthError(
                self.vendor, "access token rejected (invalid API key or access token)", code=401
            )
        if status in (402, 403, 423):
            raise VendorAccountError(
                self.vendor, f"shop refuses API access (HTTP {status})", code=status
            )
        if status in (408, 429) or status >= 500:
            raise RetryableError(
                f"HTTP {status}",
                retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
            )
        try:
            body = response.json()
        except ValueError:
            raise ShopifyGraphQLError(
                f"HTTP_{status}", f"non-JSON response (HTTP {status})"
            ) from None
        cost = (body.get("extensions") or {}).get("cost") or {}
        self._remember_bucket(cost)
        errors = body.get("errors")
        if errors:
            if isinstance(errors, str):  # REST-style error string, e.g. on a 4xx
                raise ShopifyGraphQLError(f"HTTP_{status}", errors)
            codes = [((e.get("extensions") or {}).get("code") or "") for e in errors]
            if "THROTTLED" in codes:
                raise RetryableError("THROTTLED", retry_after_s=_refill_wait(cost))
            if "INTERNAL_SERVER_ERROR" in codes:
                raise RetryableError("INTERNAL_SERVER_ERROR")
            if "ACCESS_DENIED" in codes:
                raise VendorAccountError(
                    self.vendor, errors[0].get("message", "access denied"), code="ACCESS_DENIED"
                )
            raise ShopifyGraphQLError(
                codes[0] or "GRAPHQL_ERROR", errors[0].get("message", "GraphQL error")
            )
        if status >= 400 or body.get("data") is None:
            raise ShopifyGraphQLError(f"HTTP_{status}", f"unexpected response (HTTP {status})")
        return body["data"]

    def _remember_bucket(self, cost: dict[str, Any]) -> None:
        throttle = cost.get("throttleStatus")
        if throttle:
            with self._state_lock:
                self._bucket_state = {
                    "available": float(throttle["currentlyAvailable"]),
                    "restore": float(throttle["restoreRate"]),
                    "at": time.monotonic(),
                }

    def _wait_for_bucket(self) -> None:
        """Wait before sending when the last response showed too little left in the bucket."""
        with self._state_lock:
            state = self._bucket_state
        if not state or state["restore"] <= 0:
            return
        available = state["available"] + (time.monotonic() - state["at"]) * state["restore"]
        if available < MUTATION_COST_ESTIMATE:
            self._sleep((MUTATION_COST_ESTIMATE - available) / state["restore"])


def _not_on_hold(errors: list[dict[str, Any]]) -> bool:
    return all(not e.get("code") and "not on hold" in e.get("message", "") for e in errors)


def _refill_wait(cost: dict[str, Any]) -> float | None:
    """Seconds until the bucket holds the requested cost: (requested - available) / restoreRate."""
    throttle = cost.get("throttleStatus") or {}
    requested = cost.get("requestedQueryCost")
    available = throttle.get("currentlyAvailable")
    restore = throttle.get("restoreRate")
    if requested is None or available is None or not restore:
        return None
    return max(float(requested) - float(available), 0.0) / float(restore)
