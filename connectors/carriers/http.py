"""The carrier clients' HTTP layer: the storefront pulls' client, plus quota headers.

401 / 403 stop with an error naming the account and the env vars to fix (the
storefront client's behaviour, reused); 408 / 5xx / timeouts are retried with
backoff. A 429 waits as long as the vendor's quota headers say: Yalidine sends
``x-second-quota-left``, ``x-minute-quota-left``, ``x-hour-quota-left`` and
``x-day-quota-left`` after each call, so a 429 with the second quota at 0 waits
a second, with the minute quota at 0 waits a minute; an exhausted hour or day
quota stops the pull at once (retrying would only burn the next window), and
the next run resumes from the committed mark. A response that leaves the
second quota at 0 makes the next request wait a second instead of taking a 429.

EcoTrack (Laravel's throttle) says the same in its own headers:
``X-RateLimit-Remaining`` (the minute window), ``X-RateLimit-Remaining-Hour``,
``X-RateLimit-Remaining-Day``, and ``Retry-After`` on a 429 (ECOTRACK API, Postman
documenter 14517169/Tz5je15g, "Rate limit"); they fill the same :class:`Quota`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from common.transport import RetryableError, parse_retry_after, run_with_retries
from connectors.storefronts.base import StorefrontUnavailableError
from connectors.storefronts.http import StorefrontHttp

QUOTA_HEADERS = {
    "second": ("x-second-quota-left", 1.0),
    "minute": ("x-minute-quota-left", 60.0),
    "hour": ("x-hour-quota-left", 3600.0),
    "day": ("x-day-quota-left", 86400.0),
}
# EcoTrack's names for the same windows (it has no per-second window).
ECOTRACK_QUOTA_HEADERS = {
    "minute": "x-ratelimit-remaining",
    "hour": "x-ratelimit-remaining-hour",
    "day": "x-ratelimit-remaining-day",
}
# Windows too long to wait inside a run: the pull stops and the next run resumes.
_STOP_WINDOWS = ("day", "hour")


class CarrierQuotaExhausted(StorefrontUnavailableError):
    """The account's hourly or daily quota is used up: nothing to do until it refills."""


@dataclass(frozen=True)
class Quota:
    """What is left of each window after the last call (``None``: header absent)."""

    second: int | None = None
    minute: int | None = None
    hour: int | None = None
    day: int | None = None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> Quota:
        values: dict[str, int | None] = {}
        for window, (header, _) in QUOTA_HEADERS.items():
            raw = headers.get(header)
            if raw is None and window in ECOTRACK_QUOTA_HEADERS:
                raw = headers.get(ECOTRACK_QUOTA_HEADERS[window])
            try:
                values[window] = int(raw) if raw is not None else None
            except ValueError:
                values[window] = None
        return cls(**values)

    def exhausted(self) -> str | None:
        """The longest window at 0, if any."""
        for window in ("day", "hour", "minute", "second"):
            if getattr(self, window) == 0:
                return window
        return None


class CarrierHttp(StorefrontHttp):
    """One carrier account's client: retries, auth errors, quota-aware 429 handling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.quota = Quota()
        self._pause_s = 0.0
        self.waited_for_quota_s = 0.0

    def send_once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if self._pause_s > 0:
            self._sleep(self._pause_s)
            self.waited_for_quota_s += self._pause_s
            self._pause_s = 0.0
        return super().send_once(method, url, **kwargs)

    def _check_status(self, response: httpx.Response) -> None:
        quota = Quota.from_headers(response.headers)
        if quota != Quota():
            self.quota = quota
        if response.status_code == 429:
            window = quota.exhausted()
            if window in _STOP_WINDOWS:
                raise CarrierQuotaExhausted(
                    f"{self.store.label()}: the {window} quota of this API account is used up "
                    f"(x-{window}-quota-left: 0); stopping, the next run resumes from the "
                    "committed high-water mark"
                )
            # The vendor's own Retry-After wins (EcoTrack sends the seconds left in
            # the minute); else the length of the window at 0 (Yalidine sends none).
            hint = parse_retry_after(response.headers.get("Retry-After"))
            wait = QUOTA_HEADERS[window][1] if window else None
            raise RetryableError(
                f"HTTP 429 ({window or 'rate'} quota)",
                retry_after_s=hint if hint is not None else wait,
            )
        super()._check_status(response)
        if 200 <= response.status_code < 300:
            if quota.minute == 0:
                self._pause_s = QUOTA_HEADERS["minute"][1]
            elif quota.second == 0:
                self._pause_s = QUOTA_HEADERS["second"][1]


def post_without_duplicates(
    http: CarrierHttp,
    path: str,
    body: Any,
    what: str,
    *,
    params: dict[str, Any] | None = None,
) -> Any:
    """POST ``body`` (JSON; ``None`` for none) and/or ``params`` (the query string, for
    APIs such as EcoTrack's that take the fields there); retry only answers that prove
    nothing was done (429), never a 5xx or a timeout (the carrier may have created the
    parcel). Returns the JSON answer of a 2xx or a 4xx validation error (the caller reads
    the vendor's error shape)."""
    sent: dict[str, Any] = {}
    if body is not None:
        sent["json"] = body
    if params is not None:
        sent["params"] = params

    def attempt(number: int) -> Any:
        try:
            response = http.send_once("POST", path, **sent)
        except RetryableError as exc:
            raise CarrierWriteUncertain(
                f"{http.store.label()}: {what}: {exc.reason}; not retried (the carrier may "
                "have done it), check the parcel before sending again"
            ) from None
        if response.status_code >= 500:
            raise CarrierWriteUncertain(
                f"{http.store.label()}: {what}: HTTP {response.status_code}; not retried "
                "(the carrier may have done it), check the parcel before sending again"
            )
        http._check_status(response)  # 401/403 → auth error naming the env vars; 429 → retry
        try:
            return response.json()
        except ValueError:
            return {"message": response.text[:200], "status": response.status_code}

    try:
        return run_with_retries(attempt, http.retry_policy, sleep=http._sleep)
    except RetryableError as exc:
        raise StorefrontUnavailableError(
            f"{http.store.label()}: {what} throttled {exc.attempt} times; giving up for this run"
        ) from None


class CarrierWriteUncertain(StorefrontUnavailableError):
    """A write whose outcome is unknown (5xx, timeout): never retried blindly."""
