"""Deliverers: send one claimed outbox row on a channel and say what the outbox must record.

The decisive point is what a failure *means*:

* the vendor refused the request (throttling, a 4xx with an error code) → the
  message was not accepted: ``retry`` is safe (throttling is retried here first,
  with backoff);
* a timeout, a dropped connection or a 5xx → Meta may have accepted it: the row
  becomes ``unknown`` and is settled by webhook reconciliation, never resent blind.
  That is why :class:`WhatsAppDeliverer` insists on a client without retries of its
  own: a client retrying a timed-out POST is exactly how duplicates happen.

SMS is simpler: the gateway dedupes on ``client_ref`` (the outbox key), so every
transient failure is a safe ``retry``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from activations.clients.sms import SmsClient, SmsStatus
from activations.clients.whatsapp import THROTTLING_CODES, SendStatus, WhatsAppClient
from activations.outbox import OutboxRow, OutboxStatus
from common.privacy import mask_phone

logger = logging.getLogger("cod360.activations.delivery")


@dataclass(frozen=True)
class DeliveryOutcome:
    status: OutboxStatus
    message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    suppress_reason: str | None = None  # set: add the phone to the suppression list
    retry_not_before: datetime | None = None


class Deliverer(Protocol):
    channel: str
    concurrency: int  # sends in flight at once (``deliver`` must then be thread-safe)

    def deliver(self, row: OutboxRow, body_params: tuple[str, ...]) -> DeliveryOutcome: ...

    def close(self) -> None: ...


class WhatsAppDeliverer:
    """Sends a template or text for one row; the client must not retry on its own."""

    channel = "whatsapp"

    def __init__(
        self,
        client: WhatsAppClient,
        *,
        throttle_retries: int = 5,
        backoff_s: float = 1.0,
        backoff_max_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        concurrency: int = 1,
    ) -> None:
        if client.retry_policy.max_retries != 0:
            raise ValueError(
                "WhatsAppDeliverer needs a WhatsAppClient with max_retries=0: a client that "
                "retries a timed-out send can deliver the message twice"
            )
        self.client = client
        # httpx.Client and the client's token bucket are thread-safe; deliver keeps no state.
        self.concurrency = concurrency
        self.throttle_retries = throttle_retries
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self._sleep = sleep

    def deliver(self, row: OutboxRow, body_params: tuple[str, ...]) -> DeliveryOutcome:
        for attempt in range(self.throttle_retries + 1):
            if row.message_kind == "text":
                result = self.client.send_text(
                    row.customer_phone, row.text_body or "", callback_data=row.callback_data
                )
            else:
                result = self.client.send_template(
                    row.customer_phone,
                    row.template_name or "",
                    row.language or "fr",
                    body_params=body_params,
                    button_payloads=row.buttons,
                    callback_data=row.callback_data,
                )
            throttled = result.status is SendStatus.FAILED_TRANSIENT_EXHAUSTED and (
                result.error_code in THROTTLING_CODES or result.http_status == 429
            )
            if not throttled or attempt == self.throttle_retries:
                break
            self._sleep(min(self.backoff_s * 2**attempt, self.backoff_max_s))
        code = str(result.error_code) if result.error_code is not None else None
        message = result.error_title or (
            f"HTTP {result.http_status}" if result.http_status else None
        )
        if result.status is SendStatus.SENT:
            return DeliveryOutcome(OutboxStatus.SENT, message_id=result.message_id)
        if result.status is SendStatus.SUPPRESSED_OPT_OUT:
            return DeliveryOutcome(
                OutboxStatus.FAILED, None, code, message, suppress_reason="whatsapp_131050"
            )
        if result.status is SendStatus.DEFERRED_24H:
            return DeliveryOutcome(
                OutboxStatus.RETRY, None, code, message, retry_not_before=result.retry_not_before
            )
        if result.status is SendStatus.FAILED_PERMANENT:
            return DeliveryOutcome(OutboxStatus.FAILED, None, code, message)
        if throttled:
            return DeliveryOutcome(
                OutboxStatus.RETRY,
                None,
                code,
                "still throttled after retries",
                retry_not_before=datetime.now(UTC) + timedelta(minutes=1),
            )
        logger.warning(
            "whatsapp: outcome of %s to %s unknown (%s): settled by webhook reconciliation",
            row.outbox_key,
            mask_phone(row.customer_phone),
            message or "no response",
        )
        return DeliveryOutcome(OutboxStatus.UNKNOWN, None, code, message or "no response")

    def close(self) -> None:
        self.client.close()


class SmsDeliverer:
    """Sends ``row.text_body`` by SMS with ``client_ref`` = the outbox key."""

    channel = "sms"
    concurrency = 1

    def __init__(self, client: SmsClient) -> None:
        self.client = client

    def deliver(self, row: OutboxRow, body_params: tuple[str, ...]) -> DeliveryOutcome:
        result = self.client.send(row.customer_phone, row.text_body or "", row.outbox_key)
        if result.status is SmsStatus.SENT:
            return DeliveryOutcome(OutboxStatus.SENT, message_id=result.message_id)
        if result.status is SmsStatus.SUPPRESSED_OPT_OUT:
            return DeliveryOutcome(
                OutboxStatus.FAILED,
                None,
                result.error_code,
                result.error_message,
                suppress_reason="sms_opted_out",
            )
        if result.status is SmsStatus.FAILED_PERMANENT:
            return DeliveryOutcome(
                OutboxStatus.FAILED, None, result.error_code, result.error_message
            )
        return DeliveryOutcome(OutboxStatus.RETRY, None, result.error_code, result.error_message)

    def close(self) -> None:
        self.client.close()
