"""A generic SMS gateway client: the fallback channel when WhatsApp cannot reach a customer.

Moroccan SMS gateways each have their own API; cod360 speaks one documented
contract and expects a thin adapter (or the gateway itself) to honour it:

``POST {base_url}/v1/messages`` with ``Authorization: Bearer <api key>`` and
``{"to": "+212612345678", "body": "…", "client_ref": "<idempotency key>"}``

- ``201 {"id": "sms_…", "status": "queued"}``: accepted;
- ``200 {"id", "status", "duplicate": true}``: a message with this
  ``client_ref`` was accepted before; the gateway did not send it again;
- errors ``{"error": {"code", "message"}}``: ``400/422 invalid_number |
  invalid_body | missing_client_ref`` (permanent), ``403 opted_out``
  (suppress), ``401 unauthorized`` (stop the run), ``429 rate_limited``
  (retry, ``Retry-After``), ``5xx`` (retry).

``client_ref`` makes a retry after a lost response safe, which is why the
client always sends one.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from activations.clients.errors import VendorAccountError, VendorAuthError
from common.privacy import mask_phone
from common.transport import (
    RetryableError,
    TransportSettings,
    VendorHttpClient,
    bearer_auth,
    parse_retry_after,
    run_with_retries,
)

logger = logging.getLogger("cod360.activations.sms")


class SmsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(pattern=r"^\+\d{8,15}$")
    body: str = Field(min_length=1, max_length=1600)
    client_ref: str = Field(min_length=1, max_length=64)


class SmsAccepted(BaseModel):
    id: str
    status: str
    duplicate: bool = False


class SmsStatus(StrEnum):
    SENT = "sent"
    FAILED_PERMANENT = "failed_permanent"
    FAILED_TRANSIENT_EXHAUSTED = "failed_transient_exhausted"
    SUPPRESSED_OPT_OUT = "suppressed_opt_out"


class SmsResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: SmsStatus
    message_id: str | None = None
    gateway_status: str | None = None
    duplicate: bool = False  # the gateway had this client_ref already and did not resend
    error_code: str | None = None
    error_message: str | None = None
    http_status: int | None = None
    attempts: int = 1


class SmsClient(VendorHttpClient):
    """Sends one SMS per call and returns an :class:`SmsResult`."""

    vendor = "sms"

    default_transport = TransportSettings(rate_limit_per_s=10.0)

    def __init__(
        self,
        *,
        base_url: str,
        api_key: SecretStr | str,
        settings: TransportSettings | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth=bearer_auth(api_key),
            settings=settings,
            **overrides,
        )

    def send(self, to: str, body: str, client_ref: str) -> SmsResult:
        """Send ``body`` to ``to`` (E.164); ``client_ref`` is the idempotency key."""
        payload = SmsRequest(to=to, body=body, client_ref=client_ref).model_dump()
        who = mask_phone(to)

        def attempt(number: int) -> SmsResult:
            response = self.send_once("POST", "/v1/messages", json=payload)
            return self._outcome(response, number, who)

        try:
            return run_with_retries(
                attempt,
                self.retry_policy,
                sleep=self._sleep,
                on_retry=self.log_retry(f"send to {who}"),
            )
        except RetryableError as exc:
            status, code, message = exc.detail or (None, "transient", exc.reason)
            logger.error(
                "sms: send to %s failed after %d attempts (%s)", who, exc.attempt, exc.reason
            )
            return SmsResult(
                status=SmsStatus.FAILED_TRANSIENT_EXHAUSTED,
                error_code=code,
                error_message=message,
                http_status=status,
                attempts=exc.attempt,
            )

    def _outcome(self, response: httpx.Response, attempt: int, who: str) -> SmsResult:
        status = response.status_code
        if response.is_success:
            try:
                accepted = SmsAccepted.model_validate(response.json())
            except (ValueError, ValidationError):
                return SmsResult(status=SmsStatus.SENT, http_status=status, attempts=attempt)
            logger.info("sms: sent to %s (%s, attempt %d)", who, accepted.id, attempt)
            return SmsResult(
                status=SmsStatus.SENT,
                message_id=accepted.id,
                gateway_status=accepted.status,
                duplicate=accepted.duplicate,
                http_status=status,
                attempts=attempt,
            )
        code, message = _error(response)
        if status in (408, 429) or status >= 500:
            raise RetryableError(
                f"HTTP {status} {code}",
                retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
                detail=(status, code, message),
            )
        if status == 401:
            raise VendorAuthError(self.vendor, "API key rejected", code=code)
        if status == 403 and code != "opted_out":
            raise VendorAccountError(self.vendor, message, code=code)
        result_status = (
            SmsStatus.SUPPRESSED_OPT_OUT if code == "opted_out" else SmsStatus.FAILED_PERMANENT
        )
        logger.warning("sms: not sent to %s: %s (%s)", who, code, result_status.value)
        return SmsResult(
            status=result_status,
            error_code=code,
            error_message=message,
            http_status=status,
            attempts=attempt,
        )


def _error(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}", f"HTTP {response.status_code}"
