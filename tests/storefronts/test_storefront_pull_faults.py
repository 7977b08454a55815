"""Throttling, crashes between pages, orders moving during a pull, APIs that do not sort."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from storefront_helpers import STORE, after, fast_http, harness

from connectors.storefronts import (
    Page,
    SnapshotKey,
    StorefrontOrderingError,
    StorefrontPuller,
    pull_store,
)
from connectors.storefronts.state import StateStore


class _Recorder:
    """A ``sleep`` that records what it was asked to wait, and waits it when ``real``."""

    def __init__(self, real: bool) -> None:
        self.waits: list[float] = []
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.real:
            time.sleep(seconds)


def test_shopify_throttled_waits_for_the_bucket_to_refill(sample, landing, start):
    h = harness("shopify")
    # A bucket of 500 points refilling 5000/s; a page of 10 orders costs 2 + 10 × 46 = 462.
    server = h.server(
        sample, maximum_available=500, restore_rate=5000, faults={"script": [None, "throttle"]}
    )
    sleep = _Recorder(real=True)
    with h.puller(
        start(server), page_size=10, http=fast_http(sleep=sleep, backoff_max_s=5)
    ) as puller:
        report = pull_store(puller, store=STORE, landing_dir=landing)

    throttled = [r for r in server.requests() if r.fault == "throttle"]
    assert len(throttled) == 1
    # THROTTLED empties the bucket (requested 10): the retry waits (10 - 0) / 5000 s, not a backoff.
    assert any(abs(w - 10 / 5000) < 0.002 for w in sleep.waits)
    # Before each later page the puller waited for the page's cost (462 of 500) to be back.
    assert sum(1 for w in sleep.waits if 0 < w <= 462 / 5000 + 0.01) >= 2
    assert report.snapshots_landed == len(h.current(server))


def test_shopify_max_cost_exceeded_shrinks_the_page(sample, landing, start):
    h = harness("shopify")
    server = h.server(sample)
    with h.puller(start(server), page_size=100) as puller:
        report = pull_store(puller, store=STORE, landing_dir=landing)
        # 0.9 × 100 × 1000 / (2 + 100 × 46): 46 per order, 5 of them the journey objects
        # (customerJourneySummary, its two visits, their utmParameters)
        assert puller.page_size == 19
    first = server.requests()[0]
    assert first.body["variables"]["first"] == 100 and first.status == 200
    assert report.snapshots_landed == len(h.current(server))


def test_woocommerce_429_honours_retry_after(sample, landing, start):
    h = harness("woocommerce")
    server = h.server(sample, faults={"script": [None, "throttle", "throttle"]})
    sleep = _Recorder(real=False)
    with h.puller(start(server), http=fast_http(sleep=sleep, backoff_max_s=30)) as puller:
        report = pull_store(puller, store=STORE, landing_dir=landing)
    statuses = [r.status for r in server.requests()]
    assert statuses[:4] == [200, 429, 429, 200]
    assert sleep.waits == [1.0, 1.0]  # Retry-After: 1, not the 0.01 s backoff
    assert report.snapshots_landed == len(h.current(server))


def test_a_rate_limited_host_is_paced_by_its_retry_after(sample, landing, start):
    h = harness("woocommerce")
    server = h.server(sample, rate_limit_per_s=20, rate_limit_burst=2)
    with h.puller(
        start(server), page_size=4, http=fast_http(sleep=_Recorder(real=True), backoff_max_s=0.1)
    ) as puller:
        report = pull_store(puller, store=STORE, landing_dir=landing)
    assert any(r.status == 429 for r in server.requests())
    assert report.snapshots_landed == len(h.current(server))


class _Crashing(StorefrontPuller):
    """A puller that dies after ``pages`` pages, like a process killed mid-pull."""

    def __init__(self, inner: StorefrontPuller, pages: int) -> None:
        self.inner, self.left = inner, pages
        self.platform = inner.platform

    def snapshot_key(self, record):
        return self.inner.snapshot_key(record)

    def pages(self, since):
        for page in self.inner.pages(since):
            if self.left == 0:
                raise RuntimeError("killed")
            self.left -= 1
            yield page


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "prestashop"])
def test_a_crash_between_pages_then_a_rerun_lands_everything_exactly_once(
    platform, sample, landing, warehouse, start, monkeypatch
):
    h = harness(platform)
    server = h.server(sample)
    url = start(server)
    orders = len(h.current(server))
    # 1. Dies after 5 pages: batches of 2 pages were committed, the 5th page was not.
    with h.puller(url, page_size=4) as inner, pytest.raises(RuntimeError, match="killed"):
        pull_store(_Crashing(inner, 5), store=STORE, landing_dir=landing, pages_per_commit=2)
    state = StateStore(landing).load(platform, STORE)
    committed = list(landing.rglob("pull_*.jsonl"))
    assert len(committed) == 2 and not list(landing.rglob("*.tmp"))
    # 4 pages of 4 orders (fewer where a seek cursor read an order twice), all in the state.
    assert 10 <= state.snapshots_landed == len(h.landed_keys(landing)) <= 16
    # 2. Dies between a rename and the state write (the commit point passed, the state lags).
    saves = {"n": 0}
    real_save = StateStore.save

    def save_then_die(self, st):
        saves["n"] += 1
        if saves["n"] == 2:
            raise RuntimeError("killed after the rename")
        real_save(self, st)

    monkeypatch.setattr(StateStore, "save", save_then_die)
    with (
        h.puller(url, page_size=4) as puller,
        pytest.raises(RuntimeError, match="after the rename"),
    ):
        pull_store(puller, store=STORE, landing_dir=landing, pages_per_commit=2)
    monkeypatch.setattr(StateStore, "save", real_save)
    # 3. A process killed while writing leaves a .tmp: the next pull removes it.
    stray = landing / "orders" / platform / STORE / "pull_20000101T000000000000Z_000001.jsonl.tmp"
    stray.write_text('{"half": "written"')
    # 4. The re-run finishes the job.
    lines: list[str] = []
    with h.puller(url, page_size=4) as puller:
        report = pull_store(puller, store=STORE, landing_dir=landing, log=lines.append)

    assert any("folded 1 committed file" in line for line in lines)
    assert not stray.exists()
    counts = h.ingested(landing, warehouse)
    assert counts["rows"] == counts["distinct"] == orders
    assert report.mark_after.updated_at == max(t for t, _, _ in h.current(server))


def test_orders_updated_during_a_pull_are_not_skipped(sample, landing, start):
    """Page 2 would lose an order when an order of page 1 moves to the end of the list."""
    h = harness("woocommerce")
    server = h.server(sample)
    rows = h.current(server)
    moved = {"done": False}

    def meanwhile(line: str) -> None:
        if ": page 1:" in line and not moved["done"]:
            h.update(server, rows[0][2], after(rows[-1][0], hours=1))
            moved["done"] = True

    with h.puller(start(server), page_size=5) as puller:
        report = pull_store(puller, store=STORE, landing_dir=landing, log=meanwhile)
    landed = {order_id for order_id, _ in h.landed_keys(landing)}
    assert landed == {order_id for _, order_id, _ in rows}
    assert report.snapshots_landed == len(rows) + 1  # the moved order's new snapshot too


class _Unsorted(StorefrontPuller):
    platform = "woocommerce"

    def snapshot_key(self, record):
        return SnapshotKey(str(record["id"]), datetime.fromisoformat(record["t"]))

    def pages(self, since) -> Iterator[Page]:
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        at = lambda hours: (t0 + timedelta(hours=hours)).isoformat()  # noqa: E731
        yield Page(1, [{"id": 1, "t": at(2)}, {"id": 2, "t": at(3)}])
        yield Page(2, [{"id": 3, "t": at(1)}])


def test_an_api_that_does_not_sort_by_update_time_stops_the_pull(landing):
    with pytest.raises(StorefrontOrderingError, match="not sorting by update time"):
        pull_store(_Unsorted(), store=STORE, landing_dir=landing, pages_per_commit=5)
    assert StateStore(landing).load("woocommerce", STORE).high_water_mark is None
    assert not list(landing.rglob("pull_*"))
