"""EcoTrack tracking pull against the local contract server: auth, paging, limits, exactly once."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from connectors.carriers.config import CarrierAccount
from connectors.carriers.ecotrack import EcoTrackClient, EcoTrackTrackingPuller
from connectors.carriers.http import CarrierQuotaExhausted
from connectors.carriers.resources import pull_account, status_memory_path
from connectors.storefronts.base import StorefrontAuthError, StorefrontUnavailableError
from connectors.storefronts.http import HttpSettings
from sandbox.contract_servers import serve
from sandbox.contract_servers.ecotrack import EcoTrackContractServer

ACCOUNT = CarrierAccount(name="eco_test", api="ecotrack", carrier="dhd", pages_per_commit=1)
EVENTS = [("picked", "en_ramassage"), ("dispatched_to_driver", "en_livraison"), ("livred", None)]
TODAY = date(2026, 11, 20)


def _server(parcels: int = 50, **kw) -> EcoTrackContractServer:
    server = EcoTrackContractServer(token="tok-1", today=TODAY, **kw)
    for n in range(parcels):
        tracking = server.add_order(f"shopify:{1000 + n}", created_at="2026-11-10")
        for i, (status, listed) in enumerate(EVENTS):
            server.add_activity(
                tracking,
                status,
                f"2026-11-{11 + i:02d} {8 + n % 10:02d}:{n % 60:02d}:00",
                "Station Alger",
                list_status=listed or "livre_non_encaisse",
            )
    return server


def _puller(url: str, landing: Path, token: str = "tok-1", sleeps: list[float] | None = None):
    record = sleeps if sleeps is not None else []
    settings = HttpSettings(
        max_retries=3, rate_limit_per_s=None, backoff_base_s=0.0, sleep=record.append
    )
    client = EcoTrackClient(
        account=ACCOUNT.ref(), base_url=f"{url}/api/v1/", token=token, settings=settings
    )
    return EcoTrackTrackingPuller(
        client,
        carrier="dhd",
        page_size=40,
        status_memory=status_memory_path(landing, ACCOUNT),
    )


def _landed(landing: Path) -> list[dict]:
    files = sorted((landing / "tracking" / "dhd" / "eco_test").glob("pull_*.jsonl"))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


def _activity_calls(server: EcoTrackContractServer) -> list:
    return server.requests("/api/v1/get/trackings/info")


def test_pull_lists_parcels_reads_their_activity_and_lands_the_envelope(tmp_path: Path) -> None:
    server = _server()
    with serve(server) as url, _puller(url, tmp_path) as puller:
        report = pull_account(puller, ACCOUNT, tmp_path)
    lines = _landed(tmp_path)
    assert len(lines) == 150 and report.pages == 4  # 150 events, 40 a page
    assert len(server.requests("/api/v1/get/orders")) == 2  # 50 parcels, 40 a page
    assert len(_activity_calls(server)) == 1  # up to 100 trackings a call
    assert all(r.auth_scheme == "Bearer" for r in server.requests())
    assert {line["order_ref"] for line in lines} == {f"shopify:{1000 + n}" for n in range(50)}
    times = [line["event_time"] for line in lines]
    assert times == sorted(times) and times[0].endswith("+01:00")
    assert {line["raw_status"] for line in lines} == {"picked", "dispatched_to_driver", "livred"}
    assert lines[0]["city"] == "Station Alger"
    # A second pull lists again but asks no activity (no status changed) and lands nothing.
    with serve(server) as url, _puller(url, tmp_path) as puller:
        again = pull_account(puller, ACCOUNT, tmp_path)
    assert again.snapshots_landed == 0 and len(_landed(tmp_path)) == 150
    assert len(_activity_calls(server)) == 1


def test_a_status_change_is_asked_for_that_parcel_only_and_lands_once(tmp_path: Path) -> None:
    server = _server(parcels=5)
    with serve(server) as url, _puller(url, tmp_path) as puller:
        pull_account(puller, ACCOUNT, tmp_path)
    tracking = next(iter(server.orders))
    server.add_activity(
        tracking, "encaissed", "2026-11-14 09:00:00", list_status="encaisse_non_paye"
    )
    with serve(server) as url, _puller(url, tmp_path) as puller:
        report = pull_account(puller, ACCOUNT, tmp_path)
    assert report.snapshots_landed == 1
    assert _activity_calls(server)[-1].query == f"trackings%5B%5D={tracking}"
    assert _landed(tmp_path)[-1]["raw_status"] == "encaissed"


def test_wrong_token_names_the_env_var_to_fix(tmp_path: Path) -> None:
    expected = pytest.raises(StorefrontAuthError, match="COD360_CARRIER_ECO_TEST_TOKEN")
    with serve(_server(2)) as url, _puller(url, tmp_path, token="bad") as puller, expected:
        pull_account(puller, ACCOUNT, tmp_path)


def test_429_waits_for_retry_after_and_an_exhausted_hour_stops_the_pull(tmp_path: Path) -> None:
    sleeps: list[float] = []
    server = _server(3, faults={"script": ["throttle"]})
    with serve(server) as url, _puller(url, tmp_path, sleeps=sleeps) as puller:
        pull_account(puller, ACCOUNT, tmp_path)
    assert sleeps == [1.0] and len(_landed(tmp_path)) == 9
    answer = server.requests("/api/v1/get/orders")[0]
    assert answer.status == 429
    # The hour's 1 call is the list; the activity call is refused: stop, land nothing.
    hourly = _server(3, limits={"hour": 1})
    other = tmp_path / "other"
    stopped = pytest.raises(CarrierQuotaExhausted, match="hour quota")
    with serve(hourly) as url, _puller(url, other) as puller, stopped:
        pull_account(puller, ACCOUNT, other)
    assert _landed(other) == []


def test_rate_limit_headers_on_every_answer(tmp_path: Path) -> None:
    server = _server(1, limits={"minute": 5})
    with serve(server) as url, _puller(url, tmp_path) as puller:
        pull_account(puller, ACCOUNT, tmp_path)
        quota = puller.client.http.quota
    assert quota.minute == 3 and quota.hour == 1498 and quota.day == 14998


def test_failed_pull_lands_nothing_then_rerun_lands_everything_once(tmp_path: Path) -> None:
    # The list's second page fails past the retries: nothing is landed, no memory written.
    server = _server(faults={"script": ["ok", "500", "500", "500", "500"]})
    failed = pytest.raises(StorefrontUnavailableError)
    with serve(server) as url, _puller(url, tmp_path) as puller, failed:
        pull_account(puller, ACCOUNT, tmp_path)
    assert _landed(tmp_path) == []
    assert not status_memory_path(tmp_path, ACCOUNT).exists()
    with serve(server) as url, _puller(url, tmp_path) as puller:
        pull_account(puller, ACCOUNT, tmp_path)
    # A lost memory only costs a re-read: the engine lands nothing twice.
    status_memory_path(tmp_path, ACCOUNT).unlink()
    with serve(server) as url, _puller(url, tmp_path) as puller:
        again = pull_account(puller, ACCOUNT, tmp_path)
    ids = [line["event_id"] for line in _landed(tmp_path)]
    assert len(ids) == 150 == len(set(ids)) and again.snapshots_landed == 0
