"""Exceptions the clients raise. Per-row outcomes are results, not exceptions.

A failure that would hit every row the same way (a rejected credential, a
blocked account) raises a :class:`RunStoppingError`: the caller stops the run
rather than recording thousands of identical failures. Messages never contain
credentials.
"""

from __future__ import annotations


class ActivationClientError(Exception):
    """Base class for the activation clients' errors."""


class RunStoppingError(ActivationClientError):
    """The vendor refused the account or credential itself: stop the run, fix the setup."""

    def __init__(self, vendor: str, message: str, *, code: int | str | None = None) -> None:
        self.vendor = vendor
        self.code = code
        suffix = f" (code {code})" if code is not None else ""
        super().__init__(f"{vendor}: {message}{suffix}")


class VendorAuthError(RunStoppingError):
    """The access token / API key was rejected (expired, revoked or wrong)."""


class VendorAccountError(RunStoppingError):
    """The credential works but the account may not do this (permission, block, billing)."""


class VendorTemplateError(RunStoppingError):
    """The vendor refused the message template itself (unknown, paused, disabled, wrong
    parameter count or format): every send of that template would fail the same way."""

    def __init__(
        self, vendor: str, message: str, *, code: int | str | None = None, template: str = ""
    ) -> None:
        self.template = template
        super().__init__(vendor, message, code=code)


class UnsupportedPlatformError(ActivationClientError):
    """Write-back was asked for a storefront platform cod360 cannot write to yet."""


class WriteBackNotConfiguredError(ActivationClientError):
    """The platform is supported but no client was configured for it in this deployment."""


class InvalidOrderRefError(ActivationClientError, ValueError):
    """An order reference is not ``"<platform>:<platform order id>"`` (docs/landing.md)."""
