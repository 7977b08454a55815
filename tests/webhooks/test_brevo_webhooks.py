"""Brevo transactional email webhooks: authentication, each event mapped to the email envelope,
duplicates landed once, unknown events kept and counted, a failed write answered 429; and over
real HTTP, the contract sender → the receiver → the landing files → ingestion."""

from __future__ import annotations

import base64
import errno
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient
from webhook_helpers import closed_lines, live_server

from common.warehouse import connect
from connectors.ingestion import SOURCES_BY_NAME, ingest_source
from connectors.webhooks import Settings, create_app
from connectors.webhooks import writer as writer_module
from connectors.webhooks.brevo import event_key, order_ref_of
from connectors.webhooks.settings import SettingsError
from sandbox.contract_servers.brevo_webhooks import BrevoWebhookSender

TOKEN = "test-brevo-bearer-token"
USER, PASSWORD = "cod360", "p@ss:word/with=odd chars"
URL = "/webhooks/email/brevo/events"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LANDED = "messages/email/webhooks/*.jsonl"
# The sender builds events exactly as Brevo's docs list their fields.
_BUILDER = BrevoWebhookSender("http://127.0.0.1:9/unused")


def brevo_event(kind: str, n: int = 1, **options) -> dict:
    defaults = {
        "email": "amina@example.ma",
        "message_id": f"<20260302093000.{n}@smtp-relay.mailin.fr>",
        "at": AT + timedelta(minutes=n),
        "tags": ["order_confirmation"],
        "custom": f"order_ref=shopify:{5000 + n}",
        "template_id": 12,
    }
    if kind == "click":
        defaults["link"] = "https://boutique.ma/commande/confirmer"
    if kind in ("hard_bounce", "soft_bounce", "deferred", "blocked", "invalid_email", "error"):
        defaults["reason"] = "550 5.1.1 user unknown"
    return _BUILDER.event(kind, **{**defaults, **options})


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def brevo_settings(landing: Path) -> Settings:
    return Settings(
        landing_dir=landing,
        brevo_webhook_token=TOKEN,
        brevo_webhook_basic_auth=f"{USER}:{PASSWORD}",
    )


def _post(client: TestClient, body, headers=BEARER) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(URL, content=raw, headers={"Content-Type": "application/json", **headers})


def _landed(landing: Path) -> list[dict]:
    return [json.loads(line) for line in closed_lines(landing, LANDED)]


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# --- authentication -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": TOKEN},
        _basic(USER, "wrong"),
        _basic("someone", PASSWORD),
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Digest username=cod360"},
    ],
    ids=[
        "none",
        "wrong-bearer",
        "longer-bearer",
        "no-scheme",
        "wrong-password",
        "wrong-user",
        "bad-base64",
        "digest",
    ],
)
def test_refused_credentials_get_401_and_nothing_is_written(brevo_settings, landing, headers):
    with TestClient(create_app(brevo_settings)) as client:
        response = _post(client, brevo_event("delivered"), headers)
        metrics = client.get("/metrics").text
    assert response.status_code == 401
    assert response.json() == {"error": "invalid credentials"}
    assert list(landing.rglob("*.jsonl")) == [] and list(landing.rglob("*.open")) == []
    assert 'source="email_events/brevo",status="401"} 1' in metrics


def test_bearer_and_basic_auth_are_each_accepted_as_configured(brevo_settings, landing):
    with TestClient(create_app(brevo_settings)) as client:
        assert _post(client, brevo_event("delivered", 1)).status_code == 200
        assert _post(client, brevo_event("delivered", 2), _basic(USER, PASSWORD)).status_code == 200
    only_token = Settings(landing_dir=landing, brevo_webhook_token=TOKEN)
    with TestClient(create_app(only_token)) as client:
        # basic credentials are refused when the endpoint was configured with a token only
        assert _post(client, brevo_event("delivered", 3), _basic(USER, PASSWORD)).status_code == 401
    assert len(_landed(landing)) == 2


def test_an_unconfigured_endpoint_answers_503(landing):
    with TestClient(create_app(Settings(landing_dir=landing))) as client:
        response = _post(client, brevo_event("delivered"))
        health = client.get("/healthz").json()
    assert response.status_code == 503
    assert health["endpoints"]["email_events:brevo"] is False
    assert not landing.joinpath("messages").exists()


def test_settings_read_the_brevo_credentials_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {
            "COD360_BREVO_WEBHOOK_TOKEN": " tok ",
            "COD360_BREVO_WEBHOOK_BASIC_AUTH": "u:p:q",
        },
        landing_dir=tmp_path,
    )
    assert settings.brevo_webhook_token == "tok"
    assert settings.brevo_webhook_basic_auth == "u:p:q"
    assert "tok" not in repr(settings)
    with pytest.raises(SettingsError, match="COD360_BREVO_WEBHOOK_BASIC_AUTH"):
        Settings.from_env({"COD360_BREVO_WEBHOOK_BASIC_AUTH": "no-colon"}, landing_dir=tmp_path)


# --- mapping ------------------------------------------------------------------------------

EXPECTED = {
    "request": ("sent", None),
    "delivered": ("delivered", None),
    "opened": ("opened", None),
    "unique_opened": ("opened", None),
    "click": ("clicked", None),
    "hard_bounce": ("bounced", "hard"),
    "soft_bounce": ("bounced", "soft"),
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_envelope_event_is_mapped(brevo_settings, landing, kind):
    event = brevo_event(kind, 7)
    with TestClient(create_app(brevo_settings)) as client:
        response = _post(client, event)
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "records": 1, "duplicates": 0, "landed": 1}
    (line,) = _landed(landing)
    envelope_event, bounce_type = EXPECTED[kind]
    expected = {
        "provider": "brevo",
        "event": envelope_event,
        "message_id": "<20260302093000.7@smtp-relay.mailin.fr>",
        "recipient": "amina@example.ma",
        "event_time": "2026-03-02T09:37:00+00:00",  # ts_event, seconds UTC
        "template": "order_confirmation",  # the first tag
        "order_ref": "shopify:5007",  # from X-Mailin-custom
        "brevo_event": kind,
        "event_key": event_key(event),
    }
    if bounce_type:
        expected["bounce_type"] = bounce_type
    assert line == expected


def test_the_order_ref_is_read_from_x_mailin_custom_only():
    assert order_ref_of("order_ref=woocommerce:812;campaign=c1") == "woocommerce:812"
    assert order_ref_of("campaign=c1&order_ref=youcan:ab-12") == "youcan:ab-12"
    assert order_ref_of("shopify:5001") == "shopify:5001"
    assert order_ref_of("some_custom_header") is None
    assert order_ref_of("order_ref=not a ref") is None
    assert order_ref_of(None) is None


def test_time_falls_back_to_date_in_paris_time_and_tag_to_the_old_field(brevo_settings, landing):
    event = brevo_event("delivered", 3, tags=[])
    del event["ts_event"]
    event["tag"] = "order_confirmation"
    event["date"] = "2026-07-01 12:00:00"  # CEST in July: UTC+02:00
    with TestClient(create_app(brevo_settings)) as client:
        assert _post(client, event).status_code == 200
    (line,) = _landed(landing)
    assert line["event_time"] == "2026-07-01T12:00:00+02:00"
    assert line["template"] == "order_confirmation"


def test_an_event_missing_a_field_lands_for_ingestion_to_quarantine_naming_it(
    brevo_settings, landing, tmp_path
):
    broken = brevo_event("delivered", 1)
    del broken["message-id"]
    good = brevo_event("delivered", 2)
    with TestClient(create_app(brevo_settings)) as client:
        response = _post(client, [broken, good])
    assert response.json()["invalid"] == 1 and response.json()["landed"] == 1
    with connect(tmp_path / "warehouse.duckdb") as conn:
        report = ingest_source(conn, SOURCES_BY_NAME["email_events"], landing)
        reasons = conn.execute("select reason from raw.quarantine").fetchall()
    assert report.records_loaded == 1 and report.records_quarantined == 1
    assert any("message_id" in reason for (reason,) in reasons)


# --- duplicates, unknown events -------------------------------------------------------------


def test_a_repeated_event_lands_once_even_across_restarts(brevo_settings, landing):
    first, second = brevo_event("opened", 1), brevo_event("click", 1)
    with TestClient(create_app(brevo_settings)) as client:
        assert _post(client, first).json()["landed"] == 1
        assert _post(client, first).json() == {"status": "accepted", "records": 0, "duplicates": 1}
        # a batched body repeating an event, and one already landed
        answer = _post(client, [second, second, first]).json()
        assert answer == {"status": "accepted", "records": 1, "duplicates": 2, "landed": 1}
        metrics = client.get("/metrics").text
    assert (
        'cod360_webhook_email_events_total{source="email_events/brevo",outcome="duplicate"} 3'
        in metrics
    )
    # a new receiver reads the keys of what landed: Brevo retrying after a restart lands nothing
    with TestClient(create_app(brevo_settings)) as client:
        assert _post(client, [first, second]).json()["duplicates"] == 2
    assert [line["brevo_event"] for line in _landed(landing)] == ["opened", "click"]


def test_unknown_and_unmapped_events_are_kept_whole_and_counted(brevo_settings, landing):
    spam = brevo_event("spam", 1)
    proxy = brevo_event("proxy_open", 2)
    future = {**brevo_event("delivered", 3), "event": "ai_summary_read"}
    with TestClient(create_app(brevo_settings)) as client:
        answer = _post(client, [spam, proxy, future, brevo_event("delivered", 4)]).json()
        again = _post(client, [spam, future]).json()
        metrics = client.get("/metrics").text
    assert answer == {
        "status": "accepted",
        "records": 4,
        "duplicates": 0,
        "landed": 1,
        "kept__unknown_event": 1,
        "kept_proxy_open": 1,
        "kept_spam": 1,
    }
    assert again["duplicates"] == 2
    kept = {
        path.parent.name: [json.loads(x) for x in path.read_bytes().splitlines()]
        for path in (landing / "other" / "brevo_webhooks").rglob("*.jsonl")
    }
    assert kept == {"spam": [spam], "proxy_open": [proxy], "_unknown_event": [future]}
    assert 'outcome="kept_spam"} 1' in metrics and 'outcome="kept__unknown_event"} 1' in metrics
    assert [line["brevo_event"] for line in _landed(landing)] == ["delivered"]


@pytest.mark.parametrize("body", [b"not json", b"42", b"[]", b'"text"'])
def test_a_body_that_is_not_events_is_a_400(brevo_settings, landing, body):
    with TestClient(create_app(brevo_settings)) as client:
        assert _post(client, body).status_code == 400
    assert list(landing.rglob("*.jsonl")) == []


def test_a_failed_write_is_answered_429_so_brevo_retries(brevo_settings, landing, monkeypatch):
    real_write = os.write

    def full_disk(fd, data):
        if b"failed-once" in bytes(data):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    event = brevo_event("delivered", 1, message_id="failed-once")
    with TestClient(create_app(brevo_settings)) as client:
        monkeypatch.setattr(writer_module.os, "write", full_disk)
        refused = _post(client, event)
        monkeypatch.setattr(writer_module.os, "write", real_write)
        retried = _post(client, event)  # the key was not remembered: the retry lands it
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert retried.json()["landed"] == 1
    assert [line["message_id"] for line in _landed(landing)] == ["failed-once"]


# --- the contract sender, over real HTTP ----------------------------------------------------


def test_the_sender_refuses_what_brevo_does_not_send():
    with pytest.raises(ValueError, match="not a Brevo"):
        brevo_event("opened_twice")
    with pytest.raises(ValueError, match="link"):
        brevo_event("click", link=None)
    with pytest.raises(ValueError, match="reason"):
        brevo_event("hard_bounce", reason=None)
    with pytest.raises(ValueError, match="unknown Brevo"):
        BrevoWebhookSender("http://127.0.0.1:9/", events=("sent_twice",))


def test_sender_to_receiver_to_ingestion_over_http(brevo_settings, landing, tmp_path):
    kinds = ["request", "delivered", "unique_opened", "opened", "click", "spam"]
    with live_server(brevo_settings) as url:
        for auth in ({"bearer_token": TOKEN}, {"basic_auth": (USER, PASSWORD)}):
            sender = BrevoWebhookSender(
                f"{url}{URL}", duplicate_probability=1.0, retry_delays_s=(0, 0.05), **auth
            ).start()
            offset = 0 if "bearer_token" in auth else 100
            for n, kind in enumerate(kinds):
                sender.send(brevo_event(kind, offset + n, message_id=f"msg-{offset}"))
            assert sender.wait_idle(20)
            sender.stop()
            assert {a.outcome for a in sender.attempts} == {"delivered"}
            assert sum(a.duplicate for a in sender.attempts) == len(kinds)
        batched = BrevoWebhookSender(f"{url}{URL}", bearer_token=TOKEN, batched=True).start()
        for n in range(3):
            assert batched.send(brevo_event("delivered", 200 + n, message_id=f"b-{n}")) is None
        assert batched.wait_idle(20)  # the batching window closes: one POST of three events
        batched.stop()
        wrong = BrevoWebhookSender(f"{url}{URL}", bearer_token="nope", retry_delays_s=(0, 0.05))
        wrong.start().send(brevo_event("delivered", 300))
        assert wrong.wait_idle(20)
        wrong.stop()
    assert [(a.status, a.outcome) for a in wrong.attempts] == [(401, "discarded")]
    assert len(batched.attempts) == 1 and len(json.loads(batched.attempts[0].body)) == 3
    lines = _landed(landing)
    # 5 envelope events per sender, each once (their duplicates dropped), 3 batched
    assert len(lines) == 13 == len({line["event_key"] for line in lines})
    with connect(tmp_path / "warehouse.duckdb") as conn:
        report = ingest_source(conn, SOURCES_BY_NAME["email_events"], landing)
    assert (report.records_loaded, report.records_quarantined) == (13, 0)


def test_the_sender_retries_a_429_and_discards_a_5xx(tmp_path):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from sandbox.contract_servers import serve

    answers = iter([429, 429, 200, 500])

    async def hook(request):
        return JSONResponse({}, status_code=next(answers))

    with serve(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        sender = BrevoWebhookSender(
            f"{url}/hook", bearer_token=TOKEN, retry_delays_s=(0, 0.02, 0.02, 0.02, 0.02)
        ).start()
        sender.send(brevo_event("delivered", 1))
        assert sender.wait_idle(10)
        sender.send(brevo_event("delivered", 2))
        assert sender.wait_idle(10)
        sender.stop()
    assert [(a.number, a.status, a.outcome) for a in sender.attempts] == [
        (1, 429, "retry"),
        (2, 429, "retry"),
        (3, 200, "delivered"),
        (1, 500, "discarded"),
    ]
