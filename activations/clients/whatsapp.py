"""WhatsApp Cloud API client: send template and text messages, classify every outcome.

Contract (Meta Graph API, ``POST {base_url}/{version}/{phone_number_id}/messages``,
``Authorization: Bearer <token>``):

- success: ``{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}],
  "messages": [{"id": "wamid…", "message_status": "accepted"}]}``
  (``message_status`` only for template messages);
- failure: ``{"error": {"message", "type", "code", "error_subcode",
  "error_data": {"messaging_product", "details"}, "fbtrace_id"}}``.

Meta asks integrators to decide on ``error.code``, not on the HTTP status (the
same code comes back as 400 or 429, and ``error_subcode`` is deprecated since
v16). :func:`classify_error` is that decision. Meta often reports
delivery-policy failures (131026, 131047, 131049, 131050) asynchronously, in a
``failed`` status webhook, rather than in the send response: this client
classifies them wherever a response carries them, and the webhook ingestion
must handle the rest. The payload models live in ``whatsapp_messages``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from activations.clients.errors import VendorAccountError, VendorAuthError, VendorTemplateError
from activations.clients.whatsapp_messages import (
    GraphError,
    GraphErrorEnvelope,
    SendResponse,
    TemplateMessage,
    TextContent,
    TextMessage,
    template_message,
)
from common.privacy import mask_phone, redact
from common.transport import (
    RetryableError,
    TransportSettings,
    VendorHttpClient,
    as_secret,
    bearer_auth,
    parse_retry_after,
    run_with_retries,
)

logger = logging.getLogger("cod360.activations.whatsapp")

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v23.0"

# --- outcomes ------------------------------------------------------------------------------


class ErrorClass(StrEnum):
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    OPT_OUT = "opt_out"
    ECOSYSTEM_LIMIT = "ecosystem_limit"
    AUTH = "auth"
    ACCOUNT = "account"
    TEMPLATE = "template"


THROTTLING_CODES = frozenset({4, 80007, 130429, 131056})
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016})
AUTH_CODES = frozenset({0, 190})
# Codes that fail every send of the account the same way: stop, don't record per row.
ACCOUNT_CODES = frozenset({3, 10, 368, 131031, 131042, 131045, 133010, *range(200, 300)})
# Codes about the template itself (does not exist in that language 132001, parameter count
# 132000 or format 132012, paused 132015, disabled 132016): every send of it fails alike, so
# the run stops after the first one and the rows stay retryable until the template is fixed.
TEMPLATE_CODES = frozenset({132000, 132001, 132012, 132015, 132016})
OPT_OUT_CODE = 131050
ECOSYSTEM_CODE = 131049
REENGAGEMENT_CODE = 131047


def classify_error(code: int | None, http_status: int) -> ErrorClass:
    """What to do about a failed send, from Meta's ``error.code`` first, HTTP status second.

    Unknown codes are permanent on a 4xx (retrying a request Meta rejected will
    not change its mind) and transient on a 5xx.
    """
    if code is not None:
        if code in THROTTLING_CODES:
            return ErrorClass.THROTTLED
        if code in TRANSIENT_CODES:
            return ErrorClass.TRANSIENT
        if code in AUTH_CODES:
            return ErrorClass.AUTH
        if code in ACCOUNT_CODES:
            return ErrorClass.ACCOUNT
        if code in TEMPLATE_CODES:
            return ErrorClass.TEMPLATE
        if code == OPT_OUT_CODE:
            return ErrorClass.OPT_OUT
        if code == ECOSYSTEM_CODE:
            return ErrorClass.ECOSYSTEM_LIMIT
        return ErrorClass.TRANSIENT if http_status >= 500 else ErrorClass.PERMANENT
    if http_status == 429:
        return ErrorClass.THROTTLED
    if http_status >= 500 or http_status == 408:
        return ErrorClass.TRANSIENT
    return ErrorClass.PERMANENT


class SendStatus(StrEnum):
    SENT = "sent"
    FAILED_PERMANENT = "failed_permanent"
    FAILED_TRANSIENT_EXHAUSTED = "failed_transient_exhausted"
    SUPPRESSED_OPT_OUT = "suppressed_opt_out"
    DEFERRED_24H = "deferred_24h"


class SendResult(BaseModel):
    """The outcome of one send, for the outbox to record per row."""

    model_config = ConfigDict(frozen=True)

    status: SendStatus
    message_id: str | None = None
    message_status: str | None = None
    wa_id: str | None = Field(default=None, repr=False)  # a phone number: kept out of reprs
    error_code: int | None = None
    error_title: str | None = None
    error_details: str | None = None
    fbtrace_id: str | None = None
    http_status: int | None = None
    attempts: int = 1
    action: str | None = None  # what the caller must do next, in words
    retry_not_before: datetime | None = None

    @property
    def sent(self) -> bool:
        return self.status is SendStatus.SENT


ACTION_OPT_OUT = "opted out: add to suppression"
ACTION_ECOSYSTEM = "do not resend within 24h"
ACTION_REENGAGEMENT = "outside the 24h customer-service window: send an approved template instead"


# --- the client ------------------------------------------------------------------------------


class WhatsAppClient(VendorHttpClient):
    """Sends WhatsApp messages through the Cloud API and returns a :class:`SendResult`.

    Throttling and transient errors are retried (backoff, ``Retry-After``);
    permanent errors, opt-outs and ecosystem limits come back as results; a
    rejected token (190) or a blocked account raises a :class:`RunStoppingError`
    whose message never contains the token.
    """

    vendor = "whatsapp"

    default_transport = TransportSettings(rate_limit_per_s=20.0)

    def __init__(
        self,
        *,
        phone_number_id: str,
        access_token: SecretStr | str,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        settings: TransportSettings | None = None,
        **overrides: Any,
    ) -> None:
        self._token = as_secret(access_token)
        super().__init__(
            base_url=base_url,
            auth=bearer_auth(self._token),
            settings=settings,
            **overrides,
        )
        self.messages_path = f"/{api_version}/{phone_number_id}/messages"

    def send_template(
        self,
        to: str,
        name: str,
        language_code: str,
        *,
        body_params: tuple[str, ...] | list[str] = (),
        button_payloads: tuple[str, ...] | list[str] = (),
        callback_data: str | None = None,
    ) -> SendResult:
        """Send an approved template (the only kind allowed outside the 24h window)."""
        message = template_message(
            to,
            name,
            language_code,
            body_params=body_params,
            button_payloads=button_payloads,
            callback_data=callback_data,
        )
        return self.send(message)

    def send_text(self, to: str, body: str, *, callback_data: str | None = None) -> SendResult:
        """Send free-form text (delivered only inside the 24h customer-service window)."""
        return self.send(
            TextMessage(to=to, text=TextContent(body=body), biz_opaque_callback_data=callback_data)
        )

    def send(self, message: TemplateMessage | TextMessage) -> SendResult:
        payload = message.model_dump(mode="json", exclude_none=True)
        template = message.template.name if isinstance(message, TemplateMessage) else ""
        what = f"template {template}" if template else "text"
        who = mask_phone(message.to)

        def attempt(number: int) -> SendResult:
            response = self.send_once("POST", self.messages_path, json=payload)
            return self._outcome(response, number, what, who, template)

        try:
            return run_with_retries(
                attempt,
                self.retry_policy,
                sleep=self._sleep,
                on_retry=self.log_retry(f"send {what} to {who}"),
            )
        except RetryableError as exc:
            logger.error(
                "whatsapp: %s to %s failed after %d attempts (%s)",
                what,
                who,
                exc.attempt,
                exc.reason,
            )
            status, error = exc.detail if exc.detail else (None, None)
            return self._failure(SendStatus.FAILED_TRANSIENT_EXHAUSTED, error, status, exc.attempt)

    # -- response handling --------------------------------------------------------------

    def _outcome(
        self, response: httpx.Response, attempt: int, what: str, who: str, template: str = ""
    ) -> SendResult:
        if response.is_success:
            return self._sent(response, attempt, what, who)
        error = _parse_error(response)
        code = error.code if error else None
        klass = classify_error(code, response.status_code)
        reason = f"HTTP {response.status_code}" + (f", code {code}" if code is not None else "")
        if klass in (ErrorClass.THROTTLED, ErrorClass.TRANSIENT):
            raise RetryableError(
                f"{klass.value}: {reason}",
                retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
                detail=(response.status_code, error),
            )
        message = self._safe(error.title if error else f"HTTP {response.status_code}")
        if klass is ErrorClass.AUTH:
            raise VendorAuthError(
                self.vendor, f"access token rejected: {message}; renew it", code=code
            )
        if klass is ErrorClass.ACCOUNT:
            raise VendorAccountError(self.vendor, f"account cannot send: {message}", code=code)
        if klass is ErrorClass.TEMPLATE:
            details = error.error_data.details if error and error.error_data else None
            raise VendorTemplateError(
                self.vendor,
                f"template {template!r} refused: {message}"
                + (f" ({self._safe(details)})" if details else "")
                + "; fix it in WhatsApp Manager or the campaign file, then re-run",
                code=code,
                template=template,
            )
        status = {
            ErrorClass.OPT_OUT: SendStatus.SUPPRESSED_OPT_OUT,
            ErrorClass.ECOSYSTEM_LIMIT: SendStatus.DEFERRED_24H,
        }.get(klass, SendStatus.FAILED_PERMANENT)
        logger.warning("whatsapp: %s to %s not sent: %s (%s)", what, who, message, status.value)
        return self._failure(status, error, response.status_code, attempt)

    def _sent(self, response: httpx.Response, attempt: int, what: str, who: str) -> SendResult:
        try:
            body = SendResponse.model_validate(response.json())
        except (ValueError, ValidationError):
            # Meta accepted the message but the body is unreadable: never resend blindly.
            logger.error("whatsapp: %s to %s accepted with an unreadable body", what, who)
            return SendResult(
                status=SendStatus.SENT,
                http_status=response.status_code,
                attempts=attempt,
                action="accepted but the response was unreadable: reconcile from webhooks",
            )
        message = body.messages[0]
        logger.info("whatsapp: sent %s to %s (%s, attempt %d)", what, who, message.id, attempt)
        return SendResult(
            status=SendStatus.SENT,
            message_id=message.id,
            message_status=message.message_status,
            wa_id=body.contacts[0].wa_id if body.contacts else None,
            http_status=response.status_code,
            attempts=attempt,
        )

    def _failure(
        self, status: SendStatus, error: GraphError | None, http_status: int | None, attempts: int
    ) -> SendResult:
        action = {
            SendStatus.SUPPRESSED_OPT_OUT: ACTION_OPT_OUT,
            SendStatus.DEFERRED_24H: ACTION_ECOSYSTEM,
        }.get(status)
        if error and error.code == REENGAGEMENT_CODE:
            action = ACTION_REENGAGEMENT
        details = error.error_data.details if error and error.error_data else None
        return SendResult(
            status=status,
            error_code=error.code if error else None,
            error_title=self._safe(error.title) if error else None,
            error_details=self._safe(details) if details else None,
            fbtrace_id=error.fbtrace_id if error else None,
            http_status=http_status,
            attempts=attempts,
            action=action,
            retry_not_before=(
                datetime.now(UTC) + timedelta(hours=24)
                if status is SendStatus.DEFERRED_24H
                else None
            ),
        )

    def _safe(self, text: str) -> str:
        return redact(text, [self._token.get_secret_value()])


def _parse_error(response: httpx.Response) -> GraphError | None:
    try:
        return GraphErrorEnvelope.model_validate(response.json()).error
    except (ValueError, ValidationError):
        return None
