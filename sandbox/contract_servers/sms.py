"""A local SMS gateway implementing the contract of ``activations.clients.sms``.

``POST /v1/messages`` (Bearer API key) with ``{to, body, client_ref}``:
``201 {id, status: "queued"}``; the same ``client_ref`` again answers
``200 {id, status, duplicate: true}`` without sending. Errors are
``{"error": {"code", "message"}}``. Accepted messages become ``sent`` and
``delivered`` events in the SMS envelope, written by :meth:`flush_events`
(``POST /_admin/flush``) to ``<landing>/messages/sms/``. A customer given a scripted
reply (``replies``: E.164 phone → text) answers the first message sent to them a minute
later: an ``inbound`` / ``received`` event, the sender without "+" as gateways report it.
"""

from __future__ import annotations

import hmac
import itertools
import re
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.contract_servers.common import ContractServer, Fault, retry_after_header
from sandbox.contract_servers.landing import write_jsonl_atomically

E164 = re.compile(r"^\+\d{8,15}$")


def sms_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class SmsContractServer(ContractServer):
    vendor = "sms"

    def __init__(
        self,
        *,
        api_key: str,
        provider: str = "contract-sms",
        opted_out: Iterable[str] = (),
        replies: dict[str, str] | None = None,
        landing_dir: Path | str | None = None,
        faults: Any = None,
        rate_limit_per_s: float | None = None,
        rate_limit_burst: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            faults=faults, rate_limit_per_s=rate_limit_per_s, rate_limit_burst=rate_limit_burst
        )
        self._key = api_key
        self.provider = provider
        self.opted_out = set(opted_out)
        self.replies = dict(replies or {})
        # Inbound ids must not repeat across servers sharing a landing folder.
        self._inbound_prefix = f"sms_in_{secrets.token_hex(4)}"
        self.landing_dir = Path(landing_dir) if landing_dir else None
        self.messages: dict[str, dict[str, Any]] = {}  # by client_ref
        self._pending: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        # What "now" is for the events' times: the demo passes the simulated store's
        # clock, so that a re-run does not stamp today's date into the warehouse.
        self._clock = clock

    def flush_events(self) -> Path | None:
        if self.landing_dir is None:
            raise RuntimeError("this SMS contract server has no landing_dir to flush to")
        with self.lock:
            batch, self._pending = self._pending, []
        return write_jsonl_atomically(self.landing_dir / "messages" / "sms", "sms-contract", batch)

    def vendor_routes(self) -> list[Route]:
        return [self.route("/v1/messages", self._send, ["POST"])]

    def admin_routes(self) -> list[Route]:
        async def flush(request: Request) -> Response:
            path = self.flush_events()
            return JSONResponse({"file": str(path) if path else None})

        return [Route("/_admin/flush", flush, methods=["POST"])]

    def authenticate(self, request: Request) -> Response | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(key.encode(), self._key.encode()):
            return None
        return sms_error(401, "unauthorized", "Missing or invalid API key.")

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "error":
            return sms_error(
                fault.status if fault.status < 500 else 400, str(fault.code), "Injected error."
            )
        return sms_error(fault.status, "internal_error", "The gateway failed; retry later.")

    def throttled_response(self, retry_after_s: float) -> Response:
        response = sms_error(429, "rate_limited", "Too many requests.")
        response.headers.update(retry_after_header(retry_after_s))
        return response

    def _send(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict):
            return sms_error(400, "invalid_request", "The body must be a JSON object.")
        to, text, ref = body.get("to"), body.get("body"), body.get("client_ref")
        if not ref or not isinstance(ref, str) or len(ref) > 64:
            return sms_error(
                422, "missing_client_ref", "client_ref is required (at most 64 characters)."
            )
        if ref in self.messages:
            return JSONResponse({**self.messages[ref], "duplicate": True})
        if not isinstance(to, str) or not E164.match(to):
            return sms_error(422, "invalid_number", "to must be an E.164 phone number.")
        if not isinstance(text, str) or not 1 <= len(text) <= 1600:
            return sms_error(422, "invalid_body", "body must have 1 to 1600 characters.")
        if to in self.opted_out:
            return sms_error(403, "opted_out", "The recipient opted out of SMS from this sender.")
        self.duplicates.see(to, text)
        message = {"id": f"sms_{next(self._ids):08d}", "status": "queued"}
        self.messages[ref] = message
        now = datetime.fromtimestamp(self._clock(), UTC)
        for offset, status in ((1, "sent"), (5, "delivered")):
            self._pending.append(
                {
                    "provider": self.provider,
                    "message_id": message["id"],
                    "direction": "outbound",
                    "phone": to,
                    "status": status,
                    "event_time": (now + timedelta(seconds=offset)).isoformat(timespec="seconds"),
                    "body": text,
                }
            )
        reply = self.replies.pop(to, None)
        if reply is not None:
            self._pending.append(
                {
                    "provider": self.provider,
                    "message_id": f"{self._inbound_prefix}_{next(self._ids):08d}",
                    "direction": "inbound",
                    "phone": to.lstrip("+"),
                    "status": "received",
                    "event_time": (now + timedelta(seconds=60)).isoformat(timespec="seconds"),
                    "body": reply,
                }
            )
        return JSONResponse(message, status_code=201)
