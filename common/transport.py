"""HTTP plumbing shared by the vendor clients.

- credentials live in :class:`httpx.Auth` objects that hold a ``SecretStr`` and
  add the header per request, so no client, request or exception repr shows them;
- a token bucket paces requests on the client side (requests / second);
- :func:`run_with_retries` retries what an attempt marks as retryable, with
  tenacity's full-jitter exponential backoff, capped, honouring a vendor's
  ``Retry-After`` (or computed wait) when one is given.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import httpx
import tenacity
from pydantic import SecretStr

logger = logging.getLogger("cod360.activations.http")

T = TypeVar("T")
USER_AGENT = "cod360-activations/0.1"
Sleep = Callable[[float], None]


# --- credentials -----------------------------------------------------------------


def as_secret(value: SecretStr | str) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(value)


class SecretHeaderAuth(httpx.Auth):
    """Sets ``<header>: <prefix><secret>`` on each request; its repr shows no secret."""

    def __init__(self, header: str, secret: SecretStr | str, prefix: str = "") -> None:
        self._header = header
        self._prefix = prefix
        self._secret = as_secret(secret)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._prefix + self._secret.get_secret_value()
        yield request

    def __repr__(self) -> str:
        return f"{type(self).__name__}(header={self._header!r}, secret='**********')"


def bearer_auth(token: SecretStr | str) -> SecretHeaderAuth:
    return SecretHeaderAuth("Authorization", token, prefix="Bearer ")


def basic_auth(user: SecretStr | str, password: SecretStr | str) -> SecretHeaderAuth:
    pair = f"{as_secret(user).get_secret_value()}:{as_secret(password).get_secret_value()}"
    return SecretHeaderAuth("Authorization", base64.b64encode(pair.encode()).decode(), "Basic ")


# --- pacing -----------------------------------------------------------------------


class TokenBucket:
    """At most ``rate_per_s`` requests per second on average, bursts up to ``burst``.

    Thread-safe: a caller reserves its token under the lock and sleeps outside
    it, so concurrent senders queue fairly. ``rate_per_s`` of ``None`` or ``0``
    disables pacing.
    """

    def __init__(
        self,
        rate_per_s: float | None,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.rate = rate_per_s if rate_per_s and rate_per_s > 0 else None
        self.capacity = burst if burst else max(1.0, self.rate or 1.0)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; returns the seconds waited."""
        if self.rate is None:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


# --- retries ----------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``max_retries`` after the first attempt, backoff between them."""

    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1


@dataclass(frozen=True)
class TransportSettings:
    """How a client talks HTTP: timeout, retries and their backoff, pacing, and the seams
    tests use (``sleep``, ``transport``). One definition for every vendor client, the
    resources that configure them and the deliverers that wrap them."""

    timeout_s: float = 10.0
    max_retries: int = 4
    rate_limit_per_s: float | None = None  # requests / second; None or 0: no pacing
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    sleep: Sleep = field(default=time.sleep, compare=False)
    transport: httpx.BaseTransport | None = field(default=None, compare=False)
    user_agent: str = USER_AGENT

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.max_retries, self.backoff_base_s, self.backoff_max_s)


class RetryableError(Exception):
    """Raised by an attempt to ask for another one.

    ``retry_after_s`` is the vendor's own hint (``Retry-After`` header, a
    throttle bucket's refill time); ``detail`` carries whatever the caller needs
    to describe the failure if the attempts run out. ``attempt`` is set by
    :func:`run_with_retries`.
    """

    def __init__(self, reason: str, *, retry_after_s: float | None = None, detail: Any = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s
        self.detail = detail
        self.attempt = 0


def _wait_strategy(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    jittered = tenacity.wait_random_exponential(
        multiplier=policy.backoff_base_s, max=policy.backoff_max_s
    )

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after_s", None)
        if hint is not None:
            # The vendor said how long; a cap keeps one bad header from stalling a run.
            return min(max(float(hint), 0.0), policy.backoff_max_s)
        return float(jittered(state))

    return wait


def run_with_retries(
    attempt: Callable[[int], T],
    policy: RetryPolicy,
    *,
    sleep: Sleep = time.sleep,
    on_retry: Callable[[RetryableError, float], None] | None = None,
) -> T:
    """Call ``attempt(n)`` (n = 1, 2, …) until it returns or the attempts run out.

    Only :class:`RetryableError` is retried; anything else propagates at once.
    When the attempts run out the last ``RetryableError`` propagates, with
    ``.attempt`` telling how many were made.
    """

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_retry and state.outcome and state.next_action:
            exc = state.outcome.exception()
            if isinstance(exc, RetryableError):
                on_retry(exc, state.next_action.sleep)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts),
        wait=_wait_strategy(policy),
        retry=tenacity.retry_if_exception_type(RetryableError),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    for try_ in retrying:
        with try_:
            number = try_.retry_state.attempt_number
            try:
                return attempt(number)
            except RetryableError as exc:
                exc.attempt = number
                raise
    raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); ``None`` if absent."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


# --- the client base ----------------------------------------------------------------


class VendorHttpClient:
    """An ``httpx.Client`` with auth, pacing and a retry policy; one per vendor client.

    Subclasses decide what a response means; this class only sends. Use it as a
    context manager (or call :meth:`close`) to release connections.
    """

    vendor = "vendor"
    # A subclass sets its vendor's defaults here (e.g. the documented rate limit).
    default_transport = TransportSettings()

    def __init__(
        self,
        *,
        base_url: str,
        auth: httpx.Auth | None,
        settings: TransportSettings | None = None,
        **overrides: Any,
    ) -> None:
        """``settings`` (else the class's ``default_transport``) with single fields
        replaced by ``overrides`` (``max_retries=0``); an unknown name is a TypeError."""
        settings = replace(settings or self.default_transport, **overrides)
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.retry_policy = settings.retry_policy
        self._sleep = settings.sleep
        self._bucket = TokenBucket(settings.rate_limit_per_s, sleep=settings.sleep)
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            timeout=settings.timeout_s,
            transport=settings.transport,
            headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
        )

    def send_once(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One paced request. Network failures and timeouts become :class:`RetryableError`."""
        self._bucket.acquire()
        try:
            return self._http.request(method, url, json=json, params=params)
        except httpx.UnsupportedProtocol:
            raise  # a misconfigured base URL: retrying cannot help
        except httpx.TimeoutException as exc:
            raise RetryableError(f"timeout ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise RetryableError(f"connection error ({type(exc).__name__})") from None

    def log_retry(self, what: str) -> Callable[[RetryableError, float], None]:
        def log(exc: RetryableError, wait_s: float) -> None:
            logger.warning(
                "%s: %s failed on attempt %d/%d (%s); retrying in %.2fs",
                self.vendor,
                what,
                exc.attempt,
                self.retry_policy.max_attempts,
                exc.reason,
                wait_s,
            )

        return log

    def close(self) -> None:
        self._http.close()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"
