"""Yalidine / Guepex webhooks at ``/webhooks/carriers/<carrier>/events``: the crc_token
handshake, X-YALIDINE-SIGNATURE, status events landed in the carrier envelope with their
order reference, duplicates landed once, and what is not a status kept and counted."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webhook_helpers import closed_lines

from common.warehouse import connect
from connectors.ingestion import SOURCES_BY_NAME, ingest_source, records
from connectors.ingestion.loader import landing_files
from connectors.webhooks import Settings, create_app
from connectors.webhooks.signatures import sign_hex, sign_plain_hex

SECRET = "test-yalidine-webhook-secret"
URL = "/webhooks/carriers/yalidine/events"
ALGERIA = timezone(timedelta(hours=1))


@pytest.fixture
def settings(landing: Path) -> Settings:
    return Settings(
        landing_dir=landing, yalidine_webhook_secrets={"yalidine": SECRET, "guepex": "g-secret"}
    )


def _stamp(hours_ago: float = 2.0) -> str:
    return (datetime.now(ALGERIA) - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M:%S")


def _event(event_id: str, tracking: str = "yal-000001", status: str = "Livré", **data) -> dict:
    return {
        "event_id": event_id,
        "occurred_at": data.pop("occurred_at", _stamp()),
        "data": {"tracking": tracking, "status": status, "reason": None, **data},
    }


def _body(kind: str, *events: dict) -> bytes:
    return json.dumps({"type": kind, "events": list(events)}, ensure_ascii=False).encode()


def _post(client: TestClient, body: bytes, *, secret: str = SECRET, url: str = URL, **headers):
    signature = {"X-YALIDINE-SIGNATURE": sign_plain_hex(secret, body)}
    return client.post(url, content=body, headers={**signature, **headers})


def _pulled(landing: Path, tracking: str, order_ref: str, carrier: str = "yalidine") -> None:
    """A closed pull file, as the carrier pull writes it, that knows ``tracking``'s order."""
    folder = landing / "tracking" / carrier / "yal_main"
    folder.mkdir(parents=True, exist_ok=True)
    line = {
        "carrier": carrier,
        "tracking_number": tracking,
        "order_ref": order_ref,
        "raw_status": "Ramassé",
        "event_time": "2026-11-01T10:00:00+01:00",
        "event_id": f"{tracking}|2026-11-01 10:00:00|Ramassé",
    }
    (folder / f"pull_{tracking}.jsonl").write_text(json.dumps(line) + "\n")


def _webhook_lines(landing: Path, carrier: str = "yalidine") -> list[dict]:
    return [json.loads(x) for x in closed_lines(landing, f"tracking/{carrier}/webhooks/*.jsonl")]


def _landing_files(landing: Path) -> list[Path]:
    return [p for p in landing.rglob("*") if p.is_file() and p.name != ".webhooks.lock"]


# --- the subscription check ---------------------------------------------------------------


def test_crc_handshake_echoes_the_token_as_json(client: TestClient) -> None:
    answer = client.get(URL, params={"subscribe": "", "crc_token": "tok-Ab_9"})
    assert answer.status_code == 200
    assert answer.json() == {"crc_token": "tok-Ab_9"}
    assert answer.headers["content-type"].startswith("application/json")
    # Guepex is the same platform, its own secret.
    assert client.get(URL.replace("yalidine", "guepex") + "?subscribe&crc_token=x").json() == {
        "crc_token": "x"
    }


@pytest.mark.parametrize(
    ("query", "status"),
    [("?crc_token=x", 400), ("?subscribe", 400), ("?subscribe&crc_token=", 400), ("", 400)],
)
def test_crc_handshake_without_subscribe_and_token_is_400(client, query, status) -> None:
    assert client.get(URL + query).status_code == status


def test_unconfigured_carrier_is_404_for_both_methods(client: TestClient) -> None:
    assert client.get("/webhooks/carriers/zr/events?subscribe&crc_token=x").status_code == 404
    body = _body("parcel_status_updated", _event("e1"))
    assert _post(client, body, url="/webhooks/carriers/zr/events").status_code == 404
    assert 'source="carrier_events/_unknown",status="404"' in client.get("/metrics").text


# --- status events --------------------------------------------------------------------------


def test_signed_status_event_lands_in_the_envelope_with_its_order(settings, landing) -> None:
    _pulled(landing, "yal-000001", "shopify:1001")
    body = _body(
        "parcel_status_updated",
        _event(
            "e1",
            status="Échec livraison",
            reason="Client injoignable",
            occurred_at="2026-11-02 14:05:00",
        ),
    )
    with TestClient(create_app(settings)) as client:
        answer = _post(client, body)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "status": "accepted",
            "records": 1,
            "duplicates": 0,
            "landed": 1,
            "held": 0,
            "invalid": 0,
        }
        metrics = client.get("/metrics").text
    assert (
        'cod360_webhook_carrier_events_total{source="carrier_events/yalidine",outcome="landed"} 1'
        in metrics
    )
    [line] = _webhook_lines(landing)
    assert line == {
        "carrier": "yalidine",
        "tracking_number": "yal-000001",
        "raw_status": "Échec livraison",
        "event_time": "2026-11-02T14:05:00+01:00",
        "event_id": "e1",
        "comment": "Client injoignable",
        "order_ref": "shopify:1001",
    }
    records.CarrierTrackingEvent.model_validate(line)  # what ingestion requires


def test_order_id_in_the_event_is_used_when_it_is_an_order_reference(settings, landing) -> None:
    body = _body("parcel_status_updated", _event("e1", order_id="youcan:abc-1"))
    with TestClient(create_app(settings)) as client:
        assert _post(client, body).json()["landed"] == 1
    assert _webhook_lines(landing)[0]["order_ref"] == "youcan:abc-1"


@pytest.mark.parametrize(
    "signature",
    [None, "", "deadbeef", "not-hex", "sha256=" + "0" * 64, "WRONG-SECRET"],
)
def test_bad_or_missing_signature_is_401_and_lands_nothing(settings, landing, signature) -> None:
    _pulled(landing, "yal-000001", "shopify:1001")
    before = _landing_files(landing)
    body = _body("parcel_status_updated", _event("e1"))
    if signature == "WRONG-SECRET":
        headers = {"X-YALIDINE-SIGNATURE": sign_plain_hex("another-secret", body)}
    elif signature is None:
        headers = {}
    else:
        headers = {"X-YALIDINE-SIGNATURE": signature}
    with TestClient(create_app(settings)) as client:
        answer = client.post(URL, content=body, headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {"error": "invalid signature"}
        # Guepex's key does not sign Yalidine's deliveries; the cod360 scheme is not Yalidine's.
        assert _post(client, body, secret="g-secret").status_code == 401
        prefixed = {"X-YALIDINE-SIGNATURE": sign_hex(SECRET, body)}
        assert client.post(URL, content=body, headers=prefixed).status_code == 401
    assert _landing_files(landing) == before


def test_signature_is_over_the_raw_bytes_uppercase_hex_accepted(client, landing) -> None:
    body = (
        b'{"type":"parcel_status_updated",  "events":[' + json.dumps(_event("e1")).encode() + b"]}"
    )
    upper = {"X-YALIDINE-SIGNATURE": sign_plain_hex(SECRET, body).upper()}
    assert client.post(URL, content=body, headers=upper).status_code == 200
    reserialised = json.dumps(json.loads(body)).encode()
    assert client.post(URL, content=reserialised, headers=upper).status_code == 401


def test_duplicate_event_id_lands_once_even_after_a_restart(settings, landing) -> None:
    _pulled(landing, "yal-000001", "shopify:1001")
    first = _body("parcel_status_updated", _event("e1"))
    with TestClient(create_app(settings)) as client:
        assert _post(client, first).json()["records"] == 1
        again = _post(client, first)
        assert again.status_code == 200  # acknowledged, so Yalidine stops retrying
        assert again.json() == {"status": "accepted", "records": 0, "duplicates": 1}
        mixed = _body("parcel_status_updated", _event("e1"), _event("e2", status="Retour"))
        assert _post(client, mixed).json()["duplicates"] == 1
        metrics = client.get("/metrics").text
    assert 'outcome="duplicate"} 2' in metrics
    twice = _body("parcel_status_updated", _event("e3"), _event("e3"))
    with TestClient(create_app(settings)) as client:
        assert _post(client, twice).json()["duplicates"] == 1
    # The memory of landed ids is rebuilt from the files at startup.
    with TestClient(create_app(settings)) as client:
        assert _post(client, mixed).json() == {"status": "accepted", "records": 0, "duplicates": 2}
    assert [line["event_id"] for line in _webhook_lines(landing)] == ["e1", "e2", "e3"]


def _held_lines(landing: Path) -> list[dict]:
    pattern = "other/yalidine_webhooks_unresolved/yalidine/*.jsonl"
    return [json.loads(x) for x in closed_lines(landing, pattern)]


def test_an_event_before_its_parcel_is_known_is_held_then_lands(settings, landing, tmp_path):
    """Yalidine delivers out of order: a status can come before parcel_created."""
    status = _body("parcel_status_updated", _event("s1", tracking="yal-000077"))
    created = _body("parcel_created", _event("c1", tracking="yal-000077", order_id="shopify:77"))
    with TestClient(create_app(settings)) as client:
        assert _post(client, status).json()["held"] == 1
        assert _post(client, status).json()["duplicates"] == 1  # held counts as received
        assert _post(client, created).json()["kept_parcel_created"] == 1
        metrics = client.get("/metrics").text
    assert 'outcome="held"} 1' in metrics and 'outcome="landed_after_hold"} 1' in metrics
    [line] = _webhook_lines(landing)
    assert (line["event_id"], line["order_ref"]) == ("s1", "shopify:77")
    assert "order_ref" not in _held_lines(landing)[0]
    with connect(tmp_path / "warehouse.duckdb") as conn:
        report = ingest_source(conn, SOURCES_BY_NAME["carrier_tracking_events"], landing)
    assert (report.records_loaded, report.records_quarantined) == (1, 0)


def test_held_events_survive_a_restart_and_land_once_the_pull_knows_them(settings, landing):
    status = _body("parcel_status_updated", _event("s1", tracking="yal-000088"))
    with TestClient(create_app(settings)) as client:
        assert _post(client, status).json()["held"] == 1
    with TestClient(create_app(settings)) as client:  # still held, still a duplicate
        assert _post(client, status).json()["duplicates"] == 1
        assert client.app.state.receiver.tracking_index.pending["yalidine"]
    assert _webhook_lines(landing) == []
    _pulled(landing, "yal-000088", "prestashop:88")  # the pull brings the order
    with TestClient(create_app(settings)):
        pass  # startup reads the pull and lands the held event
    with TestClient(create_app(settings)) as client:  # and never again
        assert not client.app.state.receiver.tracking_index.pending.get("yalidine")
    assert [(x["event_id"], x["order_ref"]) for x in _webhook_lines(landing)] == [
        ("s1", "prestashop:88")
    ]


def test_a_pull_landed_after_startup_is_read_on_a_miss(settings, landing) -> None:
    with TestClient(create_app(replace(settings))) as client:
        client.app.state.receiver.tracking_index.refresh_seconds = 0
        _pulled(landing, "yal-000009", "woocommerce:77")
        body = _body("parcel_status_updated", _event("e9", tracking="yal-000009"))
        assert _post(client, body).json()["landed"] == 1
    assert _webhook_lines(landing)[0]["order_ref"] == "woocommerce:77"


def test_a_bad_event_lands_for_quarantine_and_never_stops_the_good_ones(settings, landing) -> None:
    _pulled(landing, "yal-000001", "shopify:1001")
    body = _body(
        "parcel_status_updated",
        _event("good"),
        _event("no-tracking", tracking=""),
        _event("bad-time", occurred_at="02/11/2026 14:05"),
        "not an object",
    )
    with TestClient(create_app(settings)) as client:
        answer = _post(client, body)
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "accepted",
        "records": 4,
        "duplicates": 0,
        "landed": 1,
        "held": 0,
        "invalid": 3,
    }
    lines = _webhook_lines(landing)
    assert [line.get("event_id") for line in lines] == ["good", "no-tracking", "bad-time", None]
    assert "tracking_number" not in lines[1] and lines[1]["vendor"]["event_id"] == "no-tracking"
    assert "event_time" not in lines[2] and lines[2]["order_ref"] == "shopify:1001"
    assert lines[3] == {"carrier": "yalidine", "vendor": "not an object"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"[]", None),
        (b'{"events": []}', "type"),
        (b'{"type": "parcel_status_updated", "events": {}}', "events"),
        (b"not json", None),
    ],
)
def test_a_body_without_type_and_events_is_400(settings, landing, body, field) -> None:
    with TestClient(create_app(settings)) as client:
        answer = _post(client, body)
    assert answer.status_code == 400
    assert answer.json().get("field") == field
    assert _landing_files(landing) == []


# --- other event types ----------------------------------------------------------------------


def test_parcel_events_are_kept_and_teach_the_order_of_a_tracking(settings, landing) -> None:
    created = _body(
        "parcel_created",
        _event("c1", tracking="yal-000042", status=None, order_id="shopify:4242", firstname="A"),
    )
    status = _body("parcel_status_updated", _event("s1", tracking="yal-000042"))
    payment = _body(
        "parcel_payment_updated",
        _event("p1", tracking="yal-000042", status="receivable", payment_id="pay-7"),
    )
    with TestClient(create_app(settings)) as client:
        assert _post(client, created).json() == {
            "status": "accepted",
            "records": 1,
            "duplicates": 0,
            "kept_parcel_created": 1,
        }
        assert _post(client, status).json()["landed"] == 1
        assert _post(client, payment).json()["kept_parcel_payment_updated"] == 1
        assert _post(client, payment).json()["duplicates"] == 1
        metrics = client.get("/metrics").text
    assert 'outcome="kept_parcel_payment_updated"} 1' in metrics
    assert _webhook_lines(landing)[0]["order_ref"] == "shopify:4242"
    kept = landing / "other" / "yalidine_webhooks" / "yalidine"
    assert [json.loads(x)["type"] for x in closed_lines(kept, "*/*.jsonl")] == [
        "parcel_created",
        "parcel_payment_updated",
    ]
    # Kept bodies are read by no ingestion source.
    for source in SOURCES_BY_NAME.values():
        assert not any(p.is_relative_to(kept) for p in landing_files(landing, source))


def test_kept_parcel_events_resolve_after_a_restart(settings, landing) -> None:
    created = _body("parcel_created", _event("c1", tracking="yal-000042", order_id="shopify:4242"))
    with TestClient(create_app(settings)) as client:
        _post(client, created)
    with TestClient(create_app(settings)) as client:
        status = _body("parcel_status_updated", _event("s1", tracking="yal-000042"))
        assert _post(client, status).json()["landed"] == 1


def test_settings_read_the_secrets_from_the_environment(landing) -> None:
    env = {"COD360_YALIDINE_WEBHOOK_SECRETS": "yalidine=abc=1, guepex = def"}
    settings = Settings.from_env(env, landing_dir=landing)
    assert settings.yalidine_webhook_secrets == {"yalidine": "abc=1", "guepex": "def"}
    assert settings.enabled_endpoints()["carrier_events:guepex"] is True
    assert "abc=1" not in repr(settings)
    with pytest.raises(ValueError, match="COD360_YALIDINE_WEBHOOK_SECRETS: entry 1"):
        Settings.from_env({"COD360_YALIDINE_WEBHOOK_SECRETS": "yalidine"}, landing_dir=landing)


def test_occurred_at_is_algerian_time(settings, landing) -> None:
    """``occurred_at`` is read as UTC+01:00 (Algeria has no DST)."""
    event = _event("e1", order_id="shopify:1", occurred_at="2026-07-01 00:30:00")
    with TestClient(create_app(settings)) as client:
        _post(client, _body("parcel_status_updated", event))
    stamp = datetime.fromisoformat(_webhook_lines(landing)[0]["event_time"])
    assert stamp.astimezone(UTC) == datetime(2026, 6, 30, 23, 30, tzinfo=UTC)


def test_webhook_time_rule_is_the_pulls_rule() -> None:
    """The receiver keeps its own copy (an import would be circular): they must agree."""
    from connectors.carriers.envelope import naive_local as pull_rule
    from connectors.webhooks.yalidine import naive_local as webhook_rule

    for text in ("2026-11-02 14:05:00", "2026-07-01 00:30:00", "2026-07-01T00:30:00+00:00"):
        assert webhook_rule(text) == pull_rule(text)
        assert webhook_rule(text).isoformat() == pull_rule(text).isoformat()
