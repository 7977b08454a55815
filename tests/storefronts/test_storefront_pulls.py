"""Every platform's puller against its contract server: backfill, incremental, faults, auth."""

from __future__ import annotations

from datetime import timedelta

import pytest
from storefront_helpers import PLATFORMS, STORE, WRONG, after, fast_http, harness

from connectors.storefronts import (
    StorefrontAuthError,
    StorefrontUnavailableError,
    pull_store,
)
from connectors.storefronts.state import StateStore


@pytest.mark.parametrize("platform", PLATFORMS)
def test_backfill_lands_every_order_once_in_pages_then_nothing_twice(
    platform, sample, landing, warehouse, start
):
    h = harness(platform)
    server = h.server(sample)
    orders = len(h.current(server))
    lines: list[str] = []
    with h.puller(start(server), page_size=7) as puller:
        report = pull_store(
            puller, store=STORE, landing_dir=landing, pages_per_commit=3, log=lines.append
        )
        files_after_backfill = sorted((landing / "orders" / platform / STORE).iterdir())
        again = pull_store(puller, store=STORE, landing_dir=landing)

    assert orders > 20
    assert report.backfill and report.snapshots_landed == orders
    # One progress line per page, several pages, committed in batches of 3 pages.
    page_lines = [line for line in lines if ": page " in line]
    assert len(page_lines) == report.pages >= orders // 7
    assert len(report.files) == -(-report.pages // 3)
    # The second pull re-reads the overlap window, lands nothing, writes no file.
    assert again.snapshots_landed == 0 and again.files == [] and again.already_landed >= 1
    assert sorted((landing / "orders" / platform / STORE).iterdir()) == files_after_backfill
    counts = h.ingested(landing, warehouse)
    assert counts == {"rows": orders, "distinct": orders, "quarantined": 0}
    state = StateStore(landing).load(platform, STORE)
    newest = max(t for t, _, _ in h.current(server))
    assert state.high_water_mark.updated_at == newest


@pytest.mark.parametrize("platform", PLATFORMS)
def test_incremental_pull_catches_a_late_update_inside_the_overlap_without_duplicates(
    platform, sample, landing, warehouse, start
):
    h = harness(platform)
    server = h.server(sample)
    with h.puller(start(server)) as puller:
        pull_store(puller, store=STORE, landing_dir=landing)
        mark = StateStore(landing).load(platform, STORE).high_water_mark.updated_at
        rows = h.current(server)
        oldest, second = rows[0][2], rows[1][2]
        # A late update: it became visible only now, but is stamped 5 minutes below the mark.
        h.update(server, oldest, after(mark, minutes=-5))
        # A normal new update, after the mark.
        h.update(server, second, after(mark, minutes=3))
        report = pull_store(puller, store=STORE, landing_dir=landing, overlap=timedelta(minutes=10))

    assert report.snapshots_landed == 2
    assert report.already_landed >= 1  # the snapshots at the mark, read again, not landed again
    counts = h.ingested(landing, warehouse)
    assert counts["rows"] == counts["distinct"] == len(rows) + 2
    keys = h.landed_keys(landing)
    assert len(keys) == len(set(keys))


def test_an_update_older_than_the_overlap_is_caught_only_with_a_wider_window(
    sample, landing, start
):
    h = harness("woocommerce")
    server = h.server(sample)
    with h.puller(start(server)) as puller:
        pull_store(puller, store=STORE, landing_dir=landing)
        mark = StateStore(landing).load("woocommerce", STORE).high_water_mark.updated_at
        h.update(server, h.current(server)[0][2], after(mark, minutes=-25))
        narrow = pull_store(puller, store=STORE, landing_dir=landing, overlap=timedelta(minutes=10))
        wide = pull_store(puller, store=STORE, landing_dir=landing, overlap=timedelta(minutes=30))
    assert narrow.snapshots_landed == 0
    assert wide.snapshots_landed == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_5xx_bursts_and_timeouts_are_retried_and_land_everything_once(
    platform, sample, landing, warehouse, start
):
    h = harness(platform)
    server = h.server(
        sample, faults={"script": ["503", "500", None, "502", "timeout:0.1", "slow:1.0"]}
    )
    with h.puller(start(server), http=fast_http(timeout_s=0.5)) as puller:
        report = pull_store(puller, store=STORE, landing_dir=landing)
    assert server.faults.injected["status"] == 3
    assert server.faults.injected["timeout"] == 1 and server.faults.injected["slow"] == 1
    assert report.snapshots_landed == len(h.current(server))
    counts = h.ingested(landing, warehouse)
    assert counts["rows"] == counts["distinct"] == len(h.current(server))


def test_retries_run_out_and_nothing_is_half_written(sample, landing, start):
    h = harness("woocommerce")
    server = h.server(sample)
    with h.puller(start(server), page_size=5) as puller:
        pull_store(puller, store=STORE, landing_dir=landing)
        before = StateStore(landing).path("woocommerce", STORE).read_bytes()
        h.update(server, h.current(server)[0][2], after(h.current(server)[-1][0], hours=1))
        server.set_faults({"script": ["503"] * 6})
        with pytest.raises(
            StorefrontUnavailableError, match=r"store 'casa' \(woocommerce\).*6 times"
        ):
            pull_store(puller, store=STORE, landing_dir=landing)
    assert StateStore(landing).path("woocommerce", STORE).read_bytes() == before
    assert not list(landing.rglob("*.tmp"))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_expired_token_stops_the_pull_naming_store_and_setting_mark_unchanged(
    platform, sample, landing, start
):
    h = harness(platform)
    server = h.server(sample)
    url = start(server)
    with h.puller(url) as puller:
        pull_store(puller, store=STORE, landing_dir=landing)
    state_file = StateStore(landing).path(platform, STORE)
    before, files = state_file.read_bytes(), sorted(landing.rglob("pull_*"))
    h.update(server, h.current(server)[0][2], after(h.current(server)[-1][0], hours=1))

    with h.puller(url, token=WRONG) as puller, pytest.raises(StorefrontAuthError) as caught:
        pull_store(puller, store=STORE, landing_dir=landing)

    message = str(caught.value)
    setting = h.store.ref().credential_settings[0]
    assert f"store '{STORE}' ({platform})" in message and "HTTP 401" in message
    assert setting in message and setting.startswith("COD360_STORE_CASA_")
    assert WRONG not in message
    assert state_file.read_bytes() == before
    assert sorted(landing.rglob("pull_*")) == files


def test_a_forbidden_key_names_the_permission_it_needs(sample, landing, start):
    h = harness("woocommerce")
    forbidden = {"kind": "error", "status": 403, "code": "woocommerce_rest_cannot_view"}
    server = h.server(sample, faults={"script": [forbidden]})
    with h.puller(start(server)) as puller, pytest.raises(StorefrontAuthError) as caught:
        pull_store(puller, store=STORE, landing_dir=landing)
    assert "HTTP 403: woocommerce_rest_cannot_view" in str(caught.value)
    assert "Read permission" in str(caught.value)
    assert "COD360_STORE_CASA_CONSUMER_KEY, COD360_STORE_CASA_CONSUMER_SECRET" in str(caught.value)
    assert StateStore(landing).load("woocommerce", STORE).high_water_mark is None
