"""A local WhatsApp Cloud API: ``POST /{version}/{phone_number_id}/messages``.

It validates what Meta validates (token, phone number id, message shape,
approved templates and their parameter counts, quick-reply buttons), answers
with Meta's success and error bodies, and for each accepted message queues the
webhooks Meta would send: ``sent`` -> ``delivered`` -> ``read`` statuses
(configurable probabilities), scripted customer replies (a ``CONFIRM`` button
with ``context.id``, a ``STOP`` text…), ``failed`` statuses, marketing
opt-outs. :meth:`WhatsAppContractServer.flush_webhooks` (or ``POST
/_admin/flush``) writes them, one webhook body per line, to
``<landing>/messages/whatsapp/`` for the next ingestion run.

Like Meta, delivery-policy failures (undeliverable 131026, outside the 24h
window 131047, ecosystem limit 131049, marketing opt-out 131050) are reported
by a ``failed`` status *webhook* by default; ``policy_errors_via="response"``
returns them as send errors instead (some BSPs do), which is how the client's
handling of those codes is tested.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sandbox.contract_servers.common import (
    ContractServer,
    Fault,
    parse_body,
    retry_after_header,
)
from sandbox.contract_servers.landing import write_jsonl_atomically
from sandbox.contract_servers.whatsapp_payloads import (
    BusinessNumber,
    graph_error,
    inbound_webhook,
    status_webhook,
    user_preferences_webhook,
)
from sandbox.contract_servers.whatsapp_validation import (
    DEFAULT_TEMPLATES,
    VERSION,
    ApprovedTemplate,
    Rejected,
    validate_message,
)

Via = Literal["response", "webhook"]
WINDOW_S = 24 * 3600  # the customer-service window


@dataclass(frozen=True)
class RecipientFailure:
    """Sends to this number fail with ``code`` (e.g. 131026), reported ``via``."""

    code: int
    via: Via | None = None  # None: the server's policy_errors_via


@dataclass(frozen=True)
class ScriptedReply:
    """The customer's answer to the next matching message: a button payload or a text."""

    button_payload: str | None = None
    text: str | None = None
    profile_name: str = "Client"


@dataclass
class AcceptedMessage:
    id: str
    wa_id: str
    type: str
    template: str | None
    category: str
    button_payloads: list[str]
    quick_replies: list[str]
    callback_data: str | None
    accepted_at: float
    failed_code: int | None = None


def digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


class WhatsAppContractServer(ContractServer):
    vendor = "whatsapp"

    def __init__(
        self,
        *,
        access_token: str,
        phone_number_id: str = "106540352242922",
        display_phone_number: str = "15550783881",
        waba_id: str = "102290129340398",
        templates: Iterable[ApprovedTemplate] = DEFAULT_TEMPLATES,
        failures: Mapping[str, RecipientFailure | int] | None = None,
        opted_out: Iterable[str] = (),
        replies: Mapping[str, ScriptedReply] | None = None,
        open_windows: Iterable[str] = (),
        policy_errors_via: Via = "webhook",
        delivered_probability: float = 1.0,
        read_probability: float = 0.5,
        landing_dir: Path | str | None = None,
        throttle_code: int = 130429,
        throttle_http_status: int = 400,
        throttle_retry_after: bool = False,
        faults: Any = None,
        rate_limit_per_s: float | None = None,
        rate_limit_burst: float | None = None,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            faults=faults, rate_limit_per_s=rate_limit_per_s, rate_limit_burst=rate_limit_burst
        )
        self._token = access_token
        self.business = BusinessNumber(waba_id, phone_number_id, display_phone_number)
        self.templates = {t.name: t for t in templates}
        self.failures = {
            digits(k): v if isinstance(v, RecipientFailure) else RecipientFailure(int(v))
            for k, v in (failures or {}).items()
        }
        self.opted_out = {digits(n) for n in opted_out}
        self.replies = {digits(k): v for k, v in (replies or {}).items()}
        self.policy_errors_via = policy_errors_via
        self.delivered_probability = delivered_probability
        self.read_probability = read_probability
        self.landing_dir = Path(landing_dir) if landing_dir else None
        self.throttle_code = throttle_code
        self.throttle_http_status = throttle_http_status
        self.throttle_retry_after = throttle_retry_after
        self.messages: list[AcceptedMessage] = []
        self._pending: list[dict[str, Any]] = []
        self._windows = {digits(n): clock() for n in open_windows}
        self._rng = random.Random(seed)
        self._clock = clock
        self._ids = 0

    # -- Python API ------------------------------------------------------------------

    def pending_webhooks(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._pending)

    def flush_webhooks(self) -> Path | None:
        """Write the queued webhook bodies to ``<landing>/messages/whatsapp/`` (atomically)."""
        if self.landing_dir is None:
            raise RuntimeError("this WhatsApp contract server has no landing_dir to flush to")
        with self.lock:
            batch, self._pending = self._pending, []
        return write_jsonl_atomically(
            self.landing_dir / "messages" / "whatsapp", "whatsapp-contract", batch
        )

    def add_reply(self, to: str, reply: ScriptedReply) -> None:
        with self.lock:
            self.replies[digits(to)] = reply

    def stop_marketing(self, to: str, profile_name: str = "Client") -> None:
        """The customer taps "Stop promotions": opted out, and a ``user_preferences`` webhook."""
        wa_id = digits(to)
        with self.lock:
            self.opted_out.add(wa_id)
            self._pending.append(
                user_preferences_webhook(
                    self.business,
                    wa_id=wa_id,
                    value="stop",
                    timestamp=int(self._clock()),
                    profile_name=profile_name,
                )
            )

    def customer_writes(self, sender: str, text: str, profile_name: str = "Client") -> None:
        """An inbound message: opens the 24h customer-service window and queues its webhook."""
        wa_id = digits(sender)
        with self.lock:
            now = self._clock()
            self._windows[wa_id] = now
            self._pending.append(
                inbound_webhook(
                    self.business,
                    wa_id=wa_id,
                    profile_name=profile_name,
                    message_id=self._new_id(wa_id),
                    timestamp=int(now),
                    text=text,
                )
            )

    # -- contract ----------------------------------------------------------------------

    def vendor_routes(self) -> list[Route]:
        return [self.route("/{version}/{phone_number_id}/messages", self._send, ["POST"])]

    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), self._token.encode()):
            return None
        return self._error(190, "Invalid OAuth 2.0 Access Token")

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "error":
            return self._error(int(fault.code or 131000))
        if fault.status in (500, 503):
            return self._error(
                1 if fault.status == 500 else 2,
                "An unexpected error has occurred.",
                status=fault.status,
            )
        return PlainTextResponse("upstream unavailable", status_code=fault.status)

    def throttled_response(self, retry_after_s: float) -> Response:
        headers = retry_after_header(retry_after_s) if self.throttle_retry_after else None
        return self._error(self.throttle_code, status=self.throttle_http_status, headers=headers)

    def _error(
        self,
        code: int,
        details: str | None = None,
        *,
        subcode: int | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        body, default_status = graph_error(code, details, subcode=subcode)
        return JSONResponse(body, status_code=status or default_status, headers=headers)

    def _send(self, request: Request, body: Any) -> Response:
        version = request.path_params["version"]
        phone_number_id = request.path_params["phone_number_id"]
        try:
            if not VERSION.match(version):
                raise Rejected(
                    100, f"Unknown path components: /{version}/{phone_number_id}/messages"
                )
            if phone_number_id != self.business.phone_number_id:
                raise Rejected(
                    100,
                    f"Unsupported post request. Object with ID '{phone_number_id}' does not exist, "
                    "cannot be loaded due to missing permissions, or does not support this operation.",
                    subcode=33,
                )
            message = validate_message(body, self.templates)
        except Rejected as reject:
            return self._error(reject.code, reject.details, subcode=reject.subcode)
        wa_id = digits(message["to"])
        failure = self._policy_failure(message, wa_id)
        if failure and failure[1] == "response":
            return self._error(failure[0])
        accepted = self._accept(message, wa_id, failure[0] if failure else None)
        messages: dict[str, Any] = {"id": accepted.id}
        if accepted.type == "template":
            messages["message_status"] = "accepted"
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": message["to"], "wa_id": wa_id}],
                "messages": [messages],
            }
        )

    def _policy_failure(self, message: dict[str, Any], wa_id: str) -> tuple[int, Via] | None:
        rule = self.failures.get(wa_id)
        if rule:
            return rule.code, rule.via or self.policy_errors_via
        if message["type"] == "template":
            template = self.templates[message["template"]["name"]]
            if template.category == "MARKETING" and wa_id in self.opted_out:
                return 131050, self.policy_errors_via
        elif self._clock() - self._windows.get(wa_id, float("-inf")) > WINDOW_S:
            return 131047, self.policy_errors_via
        return None

    # -- accepted messages and their webhooks -------------------------------------------

    def _new_id(self, wa_id: str) -> str:
        """A ``wamid.`` like Meta's: base64 of a small binary record holding the recipient."""
        self._ids += 1
        digest = hashlib.sha1(f"{wa_id}:{self._ids}:{self._rng.random()}".encode()).hexdigest()[:20]
        raw = bytes([0x1C, 0x18, len(wa_id)]) + wa_id.encode() + b"\x15\x02\x00\x11\x18\x12"
        return "wamid." + base64.b64encode(raw + digest.upper().encode() + b"\x00").decode()

    def _accept(
        self, message: dict[str, Any], wa_id: str, failed_code: int | None
    ) -> AcceptedMessage:
        template = message.get("template") or {}
        approved = self.templates.get(template.get("name", ""))
        payloads = [
            c["parameters"][0]["payload"]
            for c in sorted(
                (c for c in template.get("components") or [] if c.get("type") == "button"),
                key=lambda c: int(c["index"]),
            )
        ]
        callback = message.get("biz_opaque_callback_data")
        content = template.get("name") if approved else message.get("text", {}).get("body")
        self.duplicates.see(wa_id, message["type"], content, callback)
        accepted = AcceptedMessage(
            id=self._new_id(wa_id),
            wa_id=wa_id,
            type=message["type"],
            template=approved.name if approved else None,
            category=(approved.category if approved else "SERVICE").lower(),
            button_payloads=payloads,
            quick_replies=list(approved.quick_replies) if approved else [],
            callback_data=callback,
            accepted_at=self._clock(),
            failed_code=failed_code,
        )
        self.messages.append(accepted)
        self._queue_statuses(accepted)
        return accepted

    def _queue_statuses(self, message: AcceptedMessage) -> None:
        now = int(message.accepted_at)

        def status(name: str, at: int, error: int | None = None) -> None:
            self._pending.append(
                status_webhook(
                    self.business,
                    message_id=message.id,
                    recipient_id=message.wa_id,
                    status=name,
                    timestamp=at,
                    category=message.category,
                    conversation_id=hashlib.md5(
                        f"{message.wa_id}:{now // WINDOW_S}".encode()
                    ).hexdigest(),
                    callback_data=message.callback_data,
                    error_code=error,
                )
            )

        if message.failed_code is not None:
            status("failed", now + 1, message.failed_code)
            return
        status("sent", now + 1)
        if self._rng.random() >= self.delivered_probability:
            return
        status("delivered", now + 2)
        if self._rng.random() < self.read_probability:
            status("read", now + 3)
        self._queue_reply(message, now + 4)

    def _queue_reply(self, message: AcceptedMessage, at: int) -> None:
        reply = self.replies.get(message.wa_id)
        if reply is None:
            return
        button = None
        if reply.button_payload is not None:
            if reply.button_payload not in message.button_payloads:
                return  # the reply waits for a message that offers this button
            label = message.quick_replies[message.button_payloads.index(reply.button_payload)]
            button = (reply.button_payload, label)
        del self.replies[message.wa_id]
        self._windows[message.wa_id] = self._clock()
        self._pending.append(
            inbound_webhook(
                self.business,
                wa_id=message.wa_id,
                profile_name=reply.profile_name,
                message_id=self._new_id(message.wa_id),
                timestamp=at,
                button=button,
                text=reply.text,
                context_id=message.id,
            )
        )

    # -- admin API ------------------------------------------------------------------------

    def admin_routes(self) -> list[Route]:
        async def flush(request: Request) -> Response:
            path = self.flush_webhooks()
            return JSONResponse({"file": str(path) if path else None})

        async def webhooks(request: Request) -> Response:
            return JSONResponse(self.pending_webhooks())

        async def messages(request: Request) -> Response:
            with self.lock:
                return JSONResponse([asdict(m) for m in self.messages])

        async def replies(request: Request) -> Response:
            data = parse_body(await request.body()) or {}
            to = data.pop("to")
            self.add_reply(to, ScriptedReply(**data))
            return JSONResponse({"queued": True})

        async def opt_out(request: Request) -> Response:
            self.stop_marketing((parse_body(await request.body()) or {})["to"])
            return JSONResponse({"opted_out": True})

        async def inbound(request: Request) -> Response:
            data = parse_body(await request.body()) or {}
            self.customer_writes(data["from"], data.get("text", ""))
            return JSONResponse({"queued": True})

        return [
            Route("/_admin/flush", flush, methods=["POST"]),
            Route("/_admin/webhooks", webhooks, methods=["GET"]),
            Route("/_admin/messages", messages, methods=["GET"]),
            Route("/_admin/replies", replies, methods=["POST"]),
            Route("/_admin/opt-out", opt_out, methods=["POST"]),
            Route("/_admin/inbound", inbound, methods=["POST"]),
        ]


__all__ = [
    "DEFAULT_TEMPLATES",
    "AcceptedMessage",
    "ApprovedTemplate",
    "RecipientFailure",
    "ScriptedReply",
    "WhatsAppContractServer",
]
