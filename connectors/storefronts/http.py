"""The pullers' HTTP layer: the activation clients' transport, plus what a pull needs.

Auth objects that hide secrets, client-side pacing and tenacity retries with
backoff and ``Retry-After`` come from :mod:`common.transport`
(one implementation for reading and writing). This adds the pull's reading of
a response: 401 / 403 stop the pull with an error naming the store and the
setting to fix; 408 / 429 / 5xx / timeouts are retried, and when the retries
run out the pull stops with :class:`StorefrontUnavailableError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from common.privacy import redact
from common.transport import (
    RetryableError,
    TransportSettings,
    VendorHttpClient,
    parse_retry_after,
    run_with_retries,
)
from connectors.storefronts.base import StorefrontAuthError, StorefrontUnavailableError

logger = logging.getLogger("cod360.storefronts")
T = TypeVar("T")
USER_AGENT = "cod360-storefront-pulls/0.1"


@dataclass(frozen=True)
class StoreRef:
    """Which store a client reads, and the settings (env vars) that configure it."""

    name: str
    platform: str
    credential_settings: tuple[str, ...] = ()  # env var names, e.g. COD360_STORE_CASA_ACCESS_TOKEN
    permission_hint: str = ""  # what the credential needs, e.g. "the read_orders scope"

    def label(self) -> str:
        return f"store '{self.name}' ({self.platform})"


@dataclass(frozen=True)
class HttpSettings(TransportSettings):
    """:class:`TransportSettings` with a store pull's defaults (30 s timeout, 5 retries,
    4 requests/s) and the pulls' User-Agent."""

    timeout_s: float = 30.0
    max_retries: int = 5
    rate_limit_per_s: float | None = 4.0
    user_agent: str = USER_AGENT


class StorefrontHttp(VendorHttpClient):
    """One store's HTTP client for pulls."""

    def __init__(
        self,
        *,
        store: StoreRef,
        base_url: str,
        auth: httpx.Auth | None,
        settings: HttpSettings,
        secrets: Sequence[str] = (),
        describe_error: Callable[[httpx.Response], str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url=base_url, auth=auth, settings=settings, transport=transport)
        self.store = store
        self.vendor = store.platform
        self._secrets = [s for s in secrets if s]
        self._describe = describe_error or _body_excerpt

    def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        interpret: Callable[[httpx.Response], T] | None = None,
    ) -> T | httpx.Response:
        """Send with retries; ``interpret`` reads a 2xx/4xx response (and may ask for a retry
        by raising :class:`RetryableError`). Returns its result, or the response."""

        def attempt(number: int) -> Any:
            response = self.send_once(method, path, json=json, params=params)
            self._check_status(response)
            return interpret(response) if interpret else response

        try:
            return run_with_retries(
                attempt, self.retry_policy, sleep=self._sleep, on_retry=self._log_retry(what)
            )
        except RetryableError as exc:
            raise StorefrontUnavailableError(
                f"{self.store.label()}: {what} failed {exc.attempt} times "
                f"(last: {exc.reason}); giving up for this run, nothing half-written"
            ) from None

    def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status in (401, 403):
            detail = redact(self._describe(response), self._secrets)
            problem = "credentials rejected" if status == 401 else "credentials lack permission"
            settings = ", ".join(self.store.credential_settings) or "the store's credentials"
            need = (
                f" (it needs {self.store.permission_hint})"
                if status == 403 and self.store.permission_hint
                else ""
            )
            raise StorefrontAuthError(
                f"{self.store.label()}: {problem} (HTTP {status}: {detail}). "
                f"Fix {settings}{need} and run the pull again."
            )
        if status in (408, 429) or status >= 500:
            raise RetryableError(
                f"HTTP {status}",
                retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
            )

    def _log_retry(self, what: str) -> Callable[[RetryableError, float], None]:
        def log(exc: RetryableError, wait_s: float) -> None:
            logger.warning(
                "%s: %s failed on attempt %d/%d (%s); retrying in %.2fs",
                self.store.label(),
                what,
                exc.attempt,
                self.retry_policy.max_attempts,
                exc.reason,
                wait_s,
            )

        return log


def _body_excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200] if text else response.reason_phrase
