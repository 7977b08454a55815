"""Yalidine's webhooks over real HTTP on loopback: the contract server's sender (signature,
retries, duplicates, disabling) → the receiver → the landing files → ingestion."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from webhook_helpers import closed_lines, live_server

from common.warehouse import connect
from connectors.carriers.config import CarrierAccount
from connectors.carriers.parcels import ParcelRequest
from connectors.carriers.resources import pull_account
from connectors.carriers.yalidine import YalidineClient, YalidineTrackingPuller
from connectors.ingestion import SOURCES_BY_NAME, ingest_source
from connectors.storefronts.http import HttpSettings
from connectors.webhooks import Settings
from sandbox.contract_servers import serve
from sandbox.contract_servers.yalidine import YalidineContractServer
from sandbox.contract_servers.yalidine_webhooks import YalidineWebhookSender

SECRET = "e2e-yalidine-webhook-secret"
FAST_RETRIES = (0.0, 0.05, 0.05, 0.1, 0.1, 0.1, 0.1)  # Yalidine's 7 attempts, in tenths of a second
ACCOUNT = CarrierAccount(name="yal_e2e", api="yalidine", carrier="yalidine")
ALGERIA = timezone(timedelta(hours=1))
STATUSES = ("Expédié", "Sorti en livraison", "Livré")


def _flaky(target: str | None, *, fail_posts: int, status: int = 502) -> Starlette:
    """A gateway that answers ``status`` to the first ``fail_posts`` POSTs, then forwards
    everything to ``target`` (or answers 200 itself when there is none)."""
    seen: list[dict] = []

    async def handle(request: Request) -> Response:
        body = await request.body()
        seen.append({"method": request.method, "headers": dict(request.headers), "body": body})
        if request.method == "POST" and sum(s["method"] == "POST" for s in seen) <= fail_posts:
            return JSONResponse({"error": "bad gateway"}, status_code=status)
        if target is None:
            if request.method == "GET":
                return JSONResponse({"crc_token": request.query_params.get("crc_token")})
            return JSONResponse({"ok": True})
        async with httpx.AsyncClient() as client:
            forwarded = await client.request(
                request.method,
                target + request.url.path,
                params=request.query_params,
                content=body,
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            )
        return Response(forwarded.content, forwarded.status_code, forwarded.headers)

    app = Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])
    app.state.seen = seen
    return app


def _sender(url: str, **options) -> YalidineWebhookSender:
    return YalidineWebhookSender(url, SECRET, retry_delays_s=FAST_RETRIES, **options)


# --- the sender alone -----------------------------------------------------------------------


def test_sender_signs_the_raw_body_and_retries_until_a_200() -> None:
    gateway = _flaky(None, fail_posts=2)
    with serve(gateway) as url:
        sender = _sender(f"{url}/hook")
        assert sender.validate() and sender.active
        sender.start()
        body = sender.send("parcel_status_updated", [sender.event({"tracking": "yal-1"})])
        assert sender.wait_idle(10)
        sender.stop()
    assert [(a.number, a.status) for a in sender.attempts] == [(1, 502), (2, 502), (3, 200)]
    posts = [s for s in gateway.state.seen if s["method"] == "POST"]
    assert all(p["body"] == body for p in posts)
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert {p["headers"]["x-yalidine-signature"] for p in posts} == {expected}
    assert json.loads(body)["type"] == "parcel_status_updated"


def test_sender_disables_the_webhook_after_the_seventh_failed_attempt() -> None:
    with serve(_flaky(None, fail_posts=100, status=500)) as url:
        sender = _sender(f"{url}/hook")
        assert sender.validate()
        sender.start()
        sender.send("parcel_status_updated", [sender.event({"tracking": "yal-1"})])
        assert sender.wait_idle(10)
        assert sender.disabled and not sender.active
        assert sender.send("parcel_status_updated", [sender.event({"tracking": "yal-2"})]) is None
        sender.stop()
    assert [a.number for a in sender.attempts] == [1, 2, 3, 4, 5, 6, 7]
    assert {a.status for a in sender.attempts} == {500}


def test_a_url_that_fails_the_crc_check_gets_no_webhook() -> None:
    async def wrong(request: Request) -> Response:
        return JSONResponse({"crc_token": "something else"})

    server = YalidineContractServer(api_id="i", api_token="t")
    refused = pytest.raises(RuntimeError, match="crc_token")
    with serve(Starlette(routes=[Route("/hook", wrong)])) as url, refused:
        server.subscribe_webhook(_sender(f"{url}/hook"))
    assert server.webhook is None


def test_only_subscribed_event_types_are_sent() -> None:
    with serve(_flaky(None, fail_posts=0)) as url:
        sender = _sender(f"{url}/hook", events=("parcel_status_updated",))
        assert sender.validate()
        assert sender.send("parcel_created", [sender.event({"tracking": "yal-1"})]) is None
        sender.stop()
    with pytest.raises(ValueError, match="unknown Yalidine event types"):
        YalidineWebhookSender("http://127.0.0.1:1/", SECRET, events=("parcel_lost",))


# --- end to end -----------------------------------------------------------------------------


def _parcel(n: int) -> ParcelRequest:
    return ParcelRequest(
        order_ref=f"shopify:{7000 + n}",
        first_name="Amina",
        last_name="Benali",
        phone="+213550123456",
        address="Cité 20 août, bloc 3",
        commune="Bab Ezzouar",
        wilaya_name="Alger",
        wilaya_code=16,
        amount=3500.0,
        products="Robe kabyle",
    )


def _client(api_url: str) -> YalidineClient:
    settings = HttpSettings(max_retries=2, rate_limit_per_s=None, backoff_base_s=0.0)
    return YalidineClient(
        account=ACCOUNT.ref(),
        base_url=f"{api_url}/v1/",
        api_id="id-1",
        api_token="tok-1",
        settings=settings,
    )


def test_contract_server_to_receiver_to_landing_to_ingestion(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    settings = Settings(landing_dir=landing, yalidine_webhook_secrets={"yalidine": SECRET})
    server = YalidineContractServer(
        api_id="id-1", api_token="tok-1", quotas={"second": 1000, "minute": 1000}
    )
    start = datetime.now(ALGERIA).replace(microsecond=0) - timedelta(hours=6)
    with live_server(settings) as receiver_url:
        # A proxy in front of the receiver drops the first three POSTs: Yalidine retries.
        with serve(_flaky(receiver_url, fail_posts=3)) as gateway_url, serve(server) as api_url:
            hook = f"{gateway_url}/webhooks/carriers/yalidine/events"
            sender = server.subscribe_webhook(_sender(hook, duplicate_probability=0.5, seed=3))
            with _client(api_url) as client:
                created = [client.create_parcel(_parcel(n)) for n in range(4)]
            assert all(result.ok for result in created)
            server.add_history(
                {
                    "tracking": result.tracking_number,
                    "status": status,
                    "date_status": (start + timedelta(hours=i, minutes=n)).strftime(
                        "%Y-%m-%d %H:%M:%S"
                    ),
                    "reason": "Client absent" if status == "Sorti en livraison" else "",
                }
                for n, result in enumerate(created)
                for i, status in enumerate(STATUSES)
            )
            server.unsubscribe_webhook(drain_s=20)
        metrics = httpx.get(f"{receiver_url}/metrics").text

    # Yalidine's behaviour was exercised: refused deliveries retried, some delivered twice.
    assert [a.status for a in sender.attempts[:3]] == [502, 502, 502]
    assert any(a.duplicate and a.status == 200 for a in sender.attempts)
    assert not sender.disabled
    assert 'outcome="duplicate"}' in metrics

    lines = [json.loads(x) for x in closed_lines(landing, "tracking/yalidine/webhooks/*.jsonl")]
    assert len(lines) == 12 == len({line["event_id"] for line in lines})  # each event once
    orders = {r.tracking_number: r.order_ref for r in created}
    assert {(line["tracking_number"], line["order_ref"]) for line in lines} == set(orders.items())
    kept = closed_lines(landing, "other/yalidine_webhooks/yalidine/parcel_created/*.jsonl")
    assert len(kept) == 4

    # The product's pull lands the same history: the same (tracking, status, time) keys,
    # so staging (dedup on carrier, tracking, status, time) keeps one row per event.
    with serve(server) as api_url, YalidineTrackingPuller(_client(api_url)) as puller:
        pull_account(puller, ACCOUNT, landing)
    pulled = [
        json.loads(x) for x in closed_lines(landing, f"tracking/yalidine/{ACCOUNT.name}/*.jsonl")
    ]

    def keys(rows: list[dict]) -> set[tuple]:
        return {(r["tracking_number"], r["raw_status"], r["event_time"]) for r in rows}

    assert len(pulled) == 12 and keys(pulled) == keys(lines)

    with connect(tmp_path / "warehouse.duckdb") as conn:
        report = ingest_source(conn, SOURCES_BY_NAME["carrier_tracking_events"], landing)
        loaded = conn.execute(
            "select count(*), count(distinct json_extract_string(payload, '$.order_ref')) "
            "from raw.carrier_tracking_events where source_file like 'tracking/yalidine/webhooks/%'"
        ).fetchone()
    assert report.records_quarantined == 0
    assert report.records_loaded == 24
    assert loaded == (12, 4)


def test_the_demo_helper_lands_what_the_server_pushes(tmp_path: Path) -> None:
    from sandbox.carrier_webhooks_demo import webhook_lines, yalidine_webhooks

    landing = tmp_path / "landing"
    server = YalidineContractServer(api_id="i", api_token="t")
    stamp = datetime.now(ALGERIA) - timedelta(hours=3)
    with yalidine_webhooks(server, landing, duplicate_probability=1.0) as demo:
        tracking = server.add_parcel("shopify:9001")
        server.add_history(
            {
                "tracking": tracking,
                "status": status,
                "date_status": (stamp + timedelta(hours=i)).strftime("%Y-%m-%d %H:%M:%S"),
            }
            for i, status in enumerate(STATUSES)
        )
    # two deliveries (created, statuses), each sent twice; three status lines, once each
    assert webhook_lines(demo)[1].strip() == (
        "deliveries accepted 4, retried 0, sent twice on purpose 2; "
        "status events landed in tracking/yalidine/webhooks/: 3"
    )
