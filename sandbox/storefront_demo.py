"""The demo's storefront orders, landed through the real APIs' path.

:func:`pull_sample_store_through_apis` serves a sample store (generated into a
folder of its own) from the local contract servers, points the pull resources
at them — configuration only, the same classes a deployment uses — and pulls
every store into the real landing folder. The sample's order history is
replayed: the servers' clocks move forward one ``replay_step`` at a time and
each step is one incremental pull, so the landing folder gets the successive
snapshots of each order as a scheduled pull would have seen them (two changes
of one order within one step land as the later one only, as in production).
The sample's other sources (carriers, WhatsApp, SMS, leads, signals) are
copied as they are; nothing here writes them.
"""

from __future__ import annotations

import contextlib
import filecmp
import os
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from connectors.ingestion.loader import IN_PROGRESS_SUFFIXES
from connectors.storefronts.base import StorefrontPuller
from connectors.storefronts.config import StoreConfig
from connectors.storefronts.engine import pull_store
from connectors.storefronts.resources import (
    LightFunnelsPullResource,
    PrestaShopPullResource,
    ShopifyPullResource,
    StorefrontPullResource,
    WooCommercePullResource,
    YouCanPullResource,
)
from connectors.storefronts.state import StateStore, store_dir
from sandbox.contract_servers import (
    LightFunnelsContractServer,
    PrestaShopContractServer,
    ShopifyContractServer,
    WooCommerceContractServer,
    YouCanContractServer,
    serve,
)
from sandbox.contract_servers.common import ContractServer

DEMO_STORE = "sample"
# Platforms with an ingestion source today; lightfunnels / prestashop can be asked for.
DEFAULT_PLATFORMS = ("shopify", "woocommerce", "youcan")


@dataclass
class PlatformResult:
    platform: str
    orders: int = 0
    snapshots_in_sample: int = 0
    snapshots_landed: int = 0
    pulls: int = 0
    files: int = 0


@dataclass
class DemoPullSummary:
    """What the demo pulled, per platform, and what it copied."""

    platforms: list[PlatformResult] = field(default_factory=list)
    copied_files: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        rows = [
            f"  {p.platform:<12} {p.orders:>6} orders, {p.snapshots_landed:>6} of "
            f"{p.snapshots_in_sample} sample snapshots landed by {p.pulls} pulls in {p.files} files"
            for p in self.platforms
        ]
        rows.append(f"  other sources: {self.copied_files} files copied ({self.seconds:.1f} s)")
        return rows

    def __str__(self) -> str:
        return "\n".join(["Storefront orders pulled through the contract servers:", *self.lines()])


def _server_and_resource(
    platform: str, sample_dir: Path
) -> tuple[ContractServer, Callable[[str], StorefrontPullResource]]:
    """A seeded contract server, and how to build a resource pointed at its URL."""
    token = secrets.token_hex(16)  # 32 characters: PrestaShop's key format
    fast = {"rate_limit_per_s": 0, "backoff_base_s": 0.05, "backoff_max_s": 1.0}
    if platform == "shopify":
        server = ShopifyContractServer(access_token=token, restore_rate=1e6)
        server.seed_from_landing(sample_dir)
        return server, lambda url: ShopifyPullResource(
            base_url=url, access_token=token, page_size=20, **fast
        )
    if platform == "woocommerce":
        secret = secrets.token_hex(16)
        server = WooCommerceContractServer(consumer_key=token, consumer_secret=secret)
        server.seed_from_landing(sample_dir)
        return server, lambda url: WooCommercePullResource(
            base_url=url, consumer_key=token, consumer_secret=secret, **fast
        )
    if platform == "youcan":
        server = YouCanContractServer(access_token=token)
        server.seed_from_landing(sample_dir)
        return server, lambda url: YouCanPullResource(base_url=url, access_token=token, **fast)
    if platform == "lightfunnels":
        server = LightFunnelsContractServer(access_token=token)
        server.seed_from_sample_store(sample_dir)
        return server, lambda url: LightFunnelsPullResource(
            base_url=url, access_token=token, **fast
        )
    if platform == "prestashop":
        server = PrestaShopContractServer(api_key=token)
        server.seed_from_sample_store(sample_dir)
        return server, lambda url: PrestaShopPullResource(base_url=url, api_key=token, **fast)
    raise ValueError(f"unknown platform {platform!r}")


def pull_sample_store_through_apis(
    sample_landing_dir: Path | str,
    landing_dir: Path | str,
    *,
    platforms: Sequence[str] = DEFAULT_PLATFORMS,
    replay_step: timedelta = timedelta(days=1),
    copy_other_sources: bool = True,
    reset: bool = False,
    log: Callable[[str], None] = print,
) -> DemoPullSummary:
    """Land the sample store's orders in ``landing_dir`` by pulling them from contract servers.

    ``reset`` first removes what an earlier demo pull landed (its files and state).
    Running it twice without ``reset`` lands nothing the second time.
    """
    sample_dir, landing = Path(sample_landing_dir), Path(landing_dir)
    started = time.monotonic()
    summary = DemoPullSummary()
    with contextlib.ExitStack() as stack:
        stores: list[tuple[PlatformResult, ContractServer, StorefrontPuller]] = []
        for platform in platforms:
            if reset:
                shutil.rmtree(store_dir(landing, platform, DEMO_STORE), ignore_errors=True)
                StateStore(landing).path(platform, DEMO_STORE).unlink(missing_ok=True)
            server, make_resource = _server_and_resource(platform, sample_dir)
            resource = make_resource(stack.enter_context(serve(server)))
            # One puller (one connection pool) for the whole replay.
            ref = StoreConfig(name=DEMO_STORE, platform=platform).ref()
            puller = stack.enter_context(resource.build_puller(ref))
            result = PlatformResult(platform, len(server.feed), server.feed.snapshot_count())
            stores.append((result, server, puller))
            summary.platforms.append(result)
        times = sorted({t for _, s, _ in stores for t in s.feed.update_times()})
        steps = []
        if times:
            moment = times[0] + replay_step
            while moment < times[-1]:
                steps.append(moment)
                moment += replay_step
        steps.append(None)  # finally: every order as it is now
        log(
            f"Pulling {', '.join(platforms)} from the contract servers: "
            f"{len(steps)} incremental pulls per store, one per {_span(replay_step)} of history"
        )
        for index, moment in enumerate(steps, start=1):
            for result, server, puller in stores:
                server.feed.set_clock(moment)
                report = pull_store(puller, store=DEMO_STORE, landing_dir=landing, log=_quiet)
                result.pulls += 1
                result.snapshots_landed += report.snapshots_landed
                result.files += len(report.files)
            if index % 30 == 0 or moment is None:
                landed = sum(r.snapshots_landed for r, _, _ in stores)
                log(f"  {index}/{len(steps)} pulls per store, {landed} snapshots landed so far")
    if copy_other_sources:
        summary.copied_files = _copy_other_sources(sample_dir, landing, platforms)
    summary.seconds = time.monotonic() - started
    for line in summary.lines():
        log(line)
    return summary


def _span(step: timedelta) -> str:
    hours = step.total_seconds() / 3600
    return f"{hours / 24:g} day(s)" if hours >= 24 else f"{hours:g} hour(s)"


def _quiet(_line: str) -> None:
    """Per-page lines of hundreds of small pulls would drown the demo's output."""


def _copy_other_sources(sample_dir: Path, landing: Path, platforms: Sequence[str]) -> int:
    """Copy the sample's closed files, except the pulled platforms' orders, atomically."""
    skipped = {Path("orders", p) for p in platforms}
    copied = 0
    for path in sorted(sample_dir.rglob("*")):
        rel = path.relative_to(sample_dir)
        if (
            not path.is_file()
            or path.name.startswith(".")
            or path.name.endswith(IN_PROGRESS_SUFFIXES)
            or any(rel.is_relative_to(s) for s in skipped)
        ):
            continue
        target = landing / rel
        if target.exists() and filecmp.cmp(path, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
        copied += 1
    return copied
