"""The ASGI app: signed webhook endpoints that append what they accept to the landing folder.

Every POST goes through the same steps, in this order:

1. the endpoint's secret is configured, else 503 (never accept unsigned input);
2. the body is at most ``max_body_bytes``, else 413 (read in chunks, never whole);
3. the signature over the raw body verifies, else 401 (logged without the body);
4. the body is JSON of the right shape, else 400 naming the problem;
5. the lines are appended and fsynced, then 200 — or 503 if the disk write
   failed, so the sender retries.

Duplicate deliveries are accepted and landed again (the warehouse dedups);
they are only counted in ``/metrics``. Yalidine / Guepex events are the exception:
each carries an ``event_id``, and one already landed is acknowledged, not landed
again (``carrier_events_post``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.webhooks.carrier_events import CarrierEvents
from connectors.webhooks.files import LandingLock, recover_open_files
from connectors.webhooks.metrics import ReceiverMetrics
from connectors.webhooks.payloads import (
    BadPayload,
    carrier_records,
    compact_json,
    landing_line,
    parse_json_object,
)
from connectors.webhooks.settings import Settings
from connectors.webhooks.signatures import verify_base64, verify_hex, verify_plain_hex
from connectors.webhooks.tracking_index import TrackingIndex
from connectors.webhooks.writer import LandingWriter, WriterClosed
from connectors.webhooks.yalidine import SIGNATURE_HEADER, parse_delivery

logger = logging.getLogger("cod360.webhooks")
access_logger = logging.getLogger("cod360.webhooks.access")


class Rejected(Exception):
    """A request the receiver refuses; ``body`` is returned as JSON."""

    def __init__(self, status: int, body: dict[str, Any], *, close: bool = False):
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body
        self.close = close


class Receiver:
    """State shared by the endpoints: one writer per landing folder, metrics, the lock."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.writers: dict[str, LandingWriter] = {}
        self.metrics = ReceiverMetrics()
        self.tracking_index = TrackingIndex(settings.landing_dir)
        self.carrier_events = CarrierEvents(self.tracking_index, self.land, self.metrics)
        self._settler: asyncio.Task[None] | None = None
        self._lock = LandingLock(settings.landing_dir)
        self._accepting = False

    async def start(self) -> None:
        landing = self.settings.landing_dir
        landing.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        recovered = await asyncio.to_thread(recover_open_files, landing)
        if recovered:
            logger.warning(
                "recovered %d landing file(s) left open by a previous run", len(recovered)
            )
        if self.settings.yalidine_webhook_secrets:
            # order references, landed and held event ids, before the first event is accepted
            await self.tracking_index.refresh(force=True)
            self._accepting = True  # settle() lands through land()
            with contextlib.suppress(Rejected):  # logged by land(); the loop tries again
                await self.carrier_events.settle()
            self._settler = asyncio.create_task(
                self.carrier_events.settle_forever(), name="carrier-events-settle"
            )
        enabled = self.settings.enabled_endpoints()
        logger.info(
            "webhook receiver writing to %s; endpoints: %s",
            landing,
            ", ".join(
                f"{name}={'on' if on else 'off (no secret)'}" for name, on in enabled.items()
            ),
        )
        self._accepting = True

    async def stop(self) -> None:
        self._accepting = False
        if self._settler is not None:
            self._settler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._settler
        results = await asyncio.gather(
            *(writer.close() for writer in self.writers.values()), return_exceptions=True
        )
        for writer, result in zip(self.writers.values(), results, strict=True):
            if isinstance(result, BaseException):
                logger.error("closing %s failed: %s", writer.relative_dir, result)
        self._lock.release()

    def writer(self, relative_dir: str, prefix: str) -> LandingWriter:
        writer = self.writers.get(relative_dir)
        if writer is None:
            writer = self.writers[relative_dir] = LandingWriter(
                self.settings.landing_dir,
                relative_dir,
                prefix,
                rotate_seconds=self.settings.rotate_seconds,
                rotate_bytes=self.settings.rotate_bytes,
            )
        return writer

    async def land(
        self, source: str, relative_dir: str, prefix: str, lines: list[bytes], delivery_key: str
    ) -> None:
        """Append ``lines`` durably; raise ``Rejected(503)`` if they could not be written."""
        if not self._accepting:
            raise Rejected(503, {"error": "receiver is shutting down"})
        try:
            await self.writer(relative_dir, prefix).append(lines)
        except (OSError, WriterClosed) as exc:
            logger.error(
                "could not land %s delivery in %s: %s", source, relative_dir, type(exc).__name__
            )
            raise Rejected(503, {"error": "could not store the delivery, retry later"}) from None
        self.metrics.count_landed(source, len(lines), delivery_key)


# --- request helpers ---------------------------------------------------------------


def _receiver(request: Request) -> Receiver:
    return request.app.state.receiver


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything over ``limit`` without buffering it, and
    (408) a body not complete within the receiver's body timeout: a client that sends
    half a body and stalls must not hold its connection open for ever."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Rejected(413, {"error": f"body larger than {limit} bytes"})
    timeout = _receiver(request).settings.body_timeout_seconds
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Rejected(413, {"error": f"body larger than {limit} bytes"})
                chunks.append(chunk)
    except TimeoutError:
        client = request.client.host if request.client else "?"
        logger.warning("timed out reading a body from %s after %d bytes", client, size)
        # Connection: close, so uvicorn drops the socket instead of waiting for the rest.
        raise Rejected(
            408, {"error": f"body not received within {timeout:g} s"}, close=True
        ) from None
    return b"".join(chunks)


def _require_secret(secret: str | None, source: str) -> str:
    if not secret:
        logger.warning("refused %s delivery: its secret is not configured", source)
        raise Rejected(503, {"error": f"{source} webhooks are not configured"})
    return secret


def _check_signature(ok: bool, request: Request, source: str, header: str, body: bytes) -> None:
    if ok:
        return
    reason = "signature mismatch" if request.headers.get(header) else f"missing {header} header"
    client = request.client.host if request.client else "?"
    # Never the body, never the header value, never the secret.
    logger.warning("rejected %s delivery from %s: %s (%d bytes)", source, client, reason, len(body))
    raise Rejected(401, {"error": "invalid signature"})


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def _folder_name(value: str, default: str) -> str:
    """A header / path value as one safe folder name (``orders/create`` → ``orders_create``)."""
    name = _UNSAFE.sub("_", value.strip().lower().replace("/", "_"))[:100]
    if not name.strip("._"):
        return default
    return "_" + name if name.startswith(".") else name


def _accepted(records: int) -> JSONResponse:
    return JSONResponse({"status": "accepted", "records": records})


Handler = Callable[[Request], Awaitable[Response]]


def _endpoint(source: str | Callable[[Request], str]) -> Callable[[Handler], Handler]:
    """Turn ``Rejected`` / ``BadPayload`` into responses and count every answer by status."""

    def wrap(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            label = source(request) if callable(source) else source
            try:
                response = await handler(request)
            except BadPayload as exc:
                logger.info("rejected %s delivery: %s", label, exc)
                response = JSONResponse(exc.as_json(), status_code=400)
            except Rejected as exc:
                headers = {"connection": "close"} if exc.close else None
                response = JSONResponse(exc.body, status_code=exc.status, headers=headers)
            _receiver(request).metrics.count_request(label, response.status_code)
            return response

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return wrap


# --- endpoints -----------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    """Liveness and which endpoints are configured (never the secrets)."""
    receiver = _receiver(request)
    return JSONResponse(
        {"status": "ok", "endpoints": receiver.settings.enabled_endpoints()},
        status_code=200,
    )


async def metrics(request: Request) -> Response:
    """Counters in the Prometheus text format."""
    receiver = _receiver(request)
    return PlainTextResponse(
        receiver.metrics.prometheus_text(receiver.writers),
        media_type="text/plain; version=0.0.4",
    )


@_endpoint("whatsapp_handshake")
async def whatsapp_handshake(request: Request) -> Response:
    """Meta's subscription check: echo ``hub.challenge`` when ``hub.verify_token`` matches."""
    expected = _require_secret(_receiver(request).settings.whatsapp_verify_token, "whatsapp")
    params = request.query_params
    token = params.get("hub.verify_token", "")
    if params.get("hub.mode") != "subscribe" or not hmac.compare_digest(
        token.encode("utf-8"), expected.encode("utf-8")
    ):
        logger.warning("refused WhatsApp verification handshake: wrong mode or token")
        raise Rejected(403, {"error": "verification failed"})
    challenge = params.get("hub.challenge")
    if challenge is None:
        raise Rejected(400, {"error": "hub.challenge is missing"})
    return PlainTextResponse(challenge)


@_endpoint("whatsapp")
async def whatsapp_post(request: Request) -> Response:
    """A WhatsApp Cloud API notification, landed byte-for-byte in ``messages/whatsapp/``."""
    receiver = _receiver(request)
    secret = _require_secret(receiver.settings.whatsapp_app_secret, "whatsapp")
    body = await _read_body(request, receiver.settings.max_body_bytes)
    header = "x-hub-signature-256"
    _check_signature(
        verify_hex(secret, body, request.headers.get(header)), request, "whatsapp", header, body
    )
    parse_json_object(body)
    await receiver.land(
        "whatsapp", "messages/whatsapp", "whatsapp", [landing_line(body)], _digest(body)
    )
    return _accepted(1)


@_endpoint("shopify")
async def shopify_post(request: Request) -> Response:
    """A Shopify webhook (REST-shaped resource), landed per shop and topic."""
    receiver = _receiver(request)
    secret = _require_secret(receiver.settings.shopify_webhook_secret, "shopify")
    body = await _read_body(request, receiver.settings.max_body_bytes)
    header = "x-shopify-hmac-sha256"
    _check_signature(
        verify_base64(secret, body, request.headers.get(header)), request, "shopify", header, body
    )
    parse_json_object(body)
    topic = request.headers.get("x-shopify-topic", "")
    shop = _folder_name(request.headers.get("x-shopify-shop-domain", ""), "_unknown_shop")
    root = (
        "orders/shopify_webhooks"
        if topic.lower().startswith("orders/")
        else "other/shopify_webhooks"
    )
    folder = f"{root}/{shop}/{_folder_name(topic, '_unknown_topic')}"
    delivery = request.headers.get("x-shopify-webhook-id") or _digest(body)
    await receiver.land("shopify", folder, "shopify", [landing_line(body)], delivery)
    return _accepted(1)


@_endpoint("lightfunnels")
async def lightfunnels_post(request: Request) -> Response:
    """A LightFunnels webhook; an optional ``/{topic}`` path segment picks the subfolder."""
    receiver = _receiver(request)
    secret = _require_secret(receiver.settings.lightfunnels_webhook_secret, "lightfunnels")
    body = await _read_body(request, receiver.settings.max_body_bytes)
    header = "lightfunnels-hmac"
    _check_signature(
        verify_base64(secret, body, request.headers.get(header)),
        request,
        "lightfunnels",
        header,
        body,
    )
    parse_json_object(body)
    topic = request.path_params.get("topic")
    if topic is None:
        folder = "orders/lightfunnels"
    else:
        name = _folder_name(topic, "_unknown_topic")
        root = "orders/lightfunnels" if name.startswith("order") else "other/lightfunnels_webhooks"
        folder = f"{root}/{name}"
    await receiver.land("lightfunnels", folder, "lightfunnels", [landing_line(body)], _digest(body))
    return _accepted(1)


def _carrier_label(request: Request) -> str:
    carrier = request.path_params.get("carrier", "").lower()
    # unknown names share one label: a metric label per guessed name would grow without bound
    known = carrier in _receiver(request).settings.carrier_secrets
    return f"carriers/{carrier if known else '_unknown'}"


@_endpoint(_carrier_label)
async def carrier_post(request: Request) -> Response:
    """Tracking updates in the carrier envelope: one object or an array, all-or-nothing."""
    receiver = _receiver(request)
    carrier = request.path_params["carrier"].lower()
    secret = receiver.settings.carrier_secrets.get(carrier)
    if secret is None:
        raise Rejected(404, {"error": "unknown carrier"})
    source = f"carriers/{carrier}"
    body = await _read_body(request, receiver.settings.max_body_bytes)
    header = "x-cod360-signature"
    _check_signature(
        verify_hex(secret, body, request.headers.get(header)), request, source, header, body
    )
    records = carrier_records(body, carrier)
    stripped = body.lstrip()
    lines = [landing_line(body)] if stripped[:1] == b"{" else [compact_json(r) for r in records]
    await receiver.land(source, f"tracking/{carrier}", carrier, lines, _digest(body))
    return _accepted(len(lines))


def _events_label(request: Request) -> str:
    carrier = request.path_params.get("carrier", "").lower()
    known = carrier in _receiver(request).settings.yalidine_webhook_secrets
    return f"carrier_events/{carrier if known else '_unknown'}"


def _events_secret(request: Request) -> tuple[str, str]:
    carrier = request.path_params["carrier"].lower()
    secret = _receiver(request).settings.yalidine_webhook_secrets.get(carrier)
    if secret is None:
        raise Rejected(404, {"error": "unknown carrier"})
    return carrier, secret


@_endpoint(_events_label)
async def carrier_events_handshake(request: Request) -> Response:
    """Yalidine's subscription check: ``?subscribe&crc_token=X`` → 200 ``{"crc_token": "X"}``."""
    _events_secret(request)
    params = request.query_params
    token = params.get("crc_token")
    if "subscribe" not in params or not token:
        raise Rejected(400, {"error": "expected ?subscribe&crc_token=<token>"})
    return JSONResponse({"crc_token": token})


@_endpoint(_events_label)
async def carrier_events_post(request: Request) -> Response:
    """A Yalidine / Guepex webhook delivery (``{"type", "events": [...]}``).

    ``parcel_status_updated`` events become carrier-envelope lines in
    ``tracking/<carrier>/webhooks/``, their order reference resolved from the event
    or from what the landing folder knows of the tracking number (held until it is
    known); an event missing a field still lands without it, so ingestion
    quarantines it naming that field. Other types are kept whole in
    ``other/yalidine_webhooks/<carrier>/<type>/`` (parcel events teach the index
    their order ids), counted, and acknowledged. An ``event_id`` already landed is
    acknowledged without landing again; everything else answers 200 once fsynced.
    """
    receiver = _receiver(request)
    carrier, secret = _events_secret(request)
    source = f"carrier_events/{carrier}"
    body = await _read_body(request, receiver.settings.max_body_bytes)
    _check_signature(
        verify_plain_hex(secret, body, request.headers.get(SIGNATURE_HEADER)),
        request,
        source,
        SIGNATURE_HEADER,
        body,
    )
    delivery = parse_delivery(body)
    return JSONResponse(await receiver.carrier_events.accept(carrier, body, delivery))


# --- app ---------------------------------------------------------------------------------


class AccessLog:
    """One log line per request: method, path (never the query: it carries the verify token),
    status and duration. Replaces uvicorn's access log for that reason."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            client = scope.get("client") or ("?", 0)
            access_logger.info(
                "%s %s %s %d %.1fms",
                client[0],
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )


def create_app(settings: Settings) -> Starlette:
    """The receiver as an ASGI app; startup takes the landing lock and recovers open files."""

    receiver = Receiver(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.receiver = receiver
        await receiver.start()
        try:
            yield
        finally:
            await receiver.stop()

    app = Starlette(
        middleware=[Middleware(AccessLog)],
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/webhooks/whatsapp", whatsapp_handshake, methods=["GET"]),
            Route("/webhooks/whatsapp", whatsapp_post, methods=["POST"]),
            Route("/webhooks/shopify", shopify_post, methods=["POST"]),
            Route("/webhooks/lightfunnels", lightfunnels_post, methods=["POST"]),
            Route("/webhooks/lightfunnels/{topic}", lightfunnels_post, methods=["POST"]),
            Route("/webhooks/carriers/{carrier}", carrier_post, methods=["POST"]),
            Route("/webhooks/carriers/{carrier}/events", carrier_events_handshake, methods=["GET"]),
            Route("/webhooks/carriers/{carrier}/events", carrier_events_post, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.receiver = receiver
    return app
