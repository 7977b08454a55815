"""Yalidine tracking pull against the local contract server: auth, pagination, quota, exactly once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from connectors.carriers.config import CarrierAccount
from connectors.carriers.resources import pull_account, tracking_states
from connectors.carriers.yalidine import YalidineClient, YalidineTrackingPuller
from connectors.storefronts.base import StorefrontAuthError, StorefrontUnavailableError
from connectors.storefronts.http import HttpSettings
from sandbox.contract_servers import serve
from sandbox.contract_servers.yalidine import YalidineContractServer

ACCOUNT = CarrierAccount(name="yal_test", api="yalidine", carrier="yalidine", pages_per_commit=1)
STATUSES = ["Ramassé", "Expédié", "Sorti en livraison", "Livré"]


def _server(parcels: int = 6, quotas: dict | None = None, **kw) -> YalidineContractServer:
    quotas = quotas or {"second": 1000, "minute": 1000}
    server = YalidineContractServer(api_id="id-1", api_token="tok-1", quotas=quotas, **kw)
    for n in range(parcels):
        tracking = server.add_parcel(f"shopify:{1000 + n}")
        server.add_history(
            {
                "tracking": tracking,
                "status": status,
                "date_status": f"2026-11-{10 + i:02d} 1{n}:00:00",
                "reason": "",
                "center_name": "Agence Alger",
                "wilaya_name": "Alger",
            }
            for i, status in enumerate(STATUSES)
        )
    return server


def _puller(url: str, token: str = "tok-1", sleeps: list[float] | None = None):
    record = sleeps if sleeps is not None else []

    def sleep(seconds: float) -> None:  # records the waits, and waits (the quota is real time)
        record.append(seconds)
        time.sleep(seconds)

    settings = HttpSettings(max_retries=3, rate_limit_per_s=None, backoff_base_s=0.0, sleep=sleep)
    client = YalidineClient(
        account=ACCOUNT.ref(),
        base_url=f"{url}/v1/",
        api_id="id-1",
        api_token=token,
        settings=settings,
    )
    return YalidineTrackingPuller(client, carrier="yalidine", page_size=5)


def _landed(landing: Path) -> list[dict]:
    files = sorted((landing / "tracking" / "yalidine" / "yal_test").glob("pull_*.jsonl"))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


def test_pull_pages_through_histories_into_the_envelope(tmp_path: Path) -> None:
    server = _server()
    with serve(server) as url, _puller(url) as puller:
        report = pull_account(puller, ACCOUNT, tmp_path)
    lines = _landed(tmp_path)
    assert report.pages == 5 and len(lines) == 24
    assert {line["order_ref"] for line in lines} == {f"shopify:{1000 + n}" for n in range(6)}
    assert lines[0]["event_time"].endswith("+01:00") and lines[0]["raw_status"] == "Ramassé"
    # A second pull finds nothing new.
    with serve(server) as url, _puller(url) as puller:
        again = pull_account(puller, ACCOUNT, tmp_path)
    assert again.snapshots_landed == 0 and len(_landed(tmp_path)) == 24


def test_wrong_token_names_the_env_var_to_fix(tmp_path: Path) -> None:
    expected = pytest.raises(StorefrontAuthError, match="COD360_CARRIER_YAL_TEST_API_TOKEN")
    with serve(_server()) as url, _puller(url, token="bad") as puller, expected:
        pull_account(puller, ACCOUNT, tmp_path)


def test_429_waits_for_the_second_quota(tmp_path: Path) -> None:
    sleeps: list[float] = []
    server = _server(quotas={"second": 2})
    with serve(server) as url, _puller(url, sleeps=sleeps) as puller:
        pull_account(puller, ACCOUNT, tmp_path)
    assert len(_landed(tmp_path)) == 24
    assert sleeps and all(s == 1.0 for s in sleeps)


def test_crash_between_pages_then_rerun_lands_everything_once(tmp_path: Path) -> None:
    server = _server(faults={"script": ["ok", "ok", "ok", "ok", "500", "500", "500", "500"]})
    with serve(server) as url, _puller(url) as puller, pytest.raises(StorefrontUnavailableError):
        pull_account(puller, ACCOUNT, tmp_path)
    partial = len(_landed(tmp_path))
    assert 0 < partial < 24
    assert tracking_states(tmp_path).load("yalidine", "yal_test").high_water_mark is not None
    with serve(server) as url, _puller(url) as puller:
        pull_account(puller, ACCOUNT, tmp_path)
    ids = [line["event_id"] for line in _landed(tmp_path)]
    assert len(ids) == 24 == len(set(ids))
