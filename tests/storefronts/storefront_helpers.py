"""Per-platform harnesses for the pull tests: a seeded contract server, a puller, an update.

Each :class:`Harness` knows how to build its platform's contract server seeded
with the small sample store, a puller pointed at it (configuration only), how to
make an order change (a new snapshot with a given ``updated_at``), and how to
count what landed: through ``connectors.ingestion`` into a temporary DuckDB for
the platforms ingestion knows, by reading the pull files for the others.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from connectors.ingestion import SOURCES_BY_NAME, ingest_source
from connectors.phones import refresh_phone_numbers
from connectors.storefronts import (
    HttpSettings,
    LightFunnelsOrdersPuller,
    PrestaShopOrdersPuller,
    ShopifyOrdersPuller,
    StoreConfig,
    StorefrontPuller,
    WooCommerceOrdersPuller,
    YouCanOrdersPuller,
)
from sandbox.contract_servers import (
    ContractServer,
    LightFunnelsContractServer,
    PrestaShopContractServer,
    ShopifyContractServer,
    WooCommerceContractServer,
    YouCanContractServer,
)

TOKEN = "a" * 32  # 32 characters: also a valid PrestaShop key format
WRONG = "b" * 32
STORE = "casa"
PLATFORMS = ("shopify", "woocommerce", "youcan", "lightfunnels", "prestashop")
CASA = ZoneInfo("Africa/Casablanca")


def fast_http(sleep: Callable[[float], None] | None = None, **overrides: Any) -> HttpSettings:
    values: dict[str, Any] = {
        "timeout_s": 2.0,
        "max_retries": 5,
        "rate_limit_per_s": None,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
    }
    values.update(overrides)
    return HttpSettings(**values, **({"sleep": sleep} if sleep else {}))


def _fmt_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Harness:
    platform: str

    @property
    def store(self) -> StoreConfig:
        return StoreConfig(name=STORE, platform=self.platform)

    # -- server -------------------------------------------------------------------------

    def server(self, sample: Path, token: str = TOKEN, **kw: Any) -> ContractServer:
        if self.platform == "shopify":
            kw.setdefault("restore_rate", 1e6)
            server = ShopifyContractServer(access_token=token, **kw)
            server.seed_from_landing(sample)
        elif self.platform == "woocommerce":
            server = WooCommerceContractServer(consumer_key=token, consumer_secret=token, **kw)
            server.seed_from_landing(sample)
        elif self.platform == "youcan":
            server = YouCanContractServer(access_token=token, **kw)
            server.seed_from_landing(sample)
        elif self.platform == "lightfunnels":
            server = LightFunnelsContractServer(access_token=token, **kw)
            server.seed_from_sample_store(sample)
        else:
            server = PrestaShopContractServer(api_key=token, **kw)
            server.seed_from_sample_store(sample)
        return server

    def puller(
        self, url: str, token: str = TOKEN, page_size: int = 7, http: HttpSettings | None = None
    ) -> StorefrontPuller:
        ref, http = self.store.ref(), http or fast_http()
        if self.platform == "shopify":
            return ShopifyOrdersPuller(
                store=ref, base_url=url, access_token=token, page_size=page_size, http=http
            )
        if self.platform == "woocommerce":
            return WooCommerceOrdersPuller(
                store=ref,
                base_url=url,
                consumer_key=token,
                consumer_secret=token,
                per_page=page_size,
                http=http,
            )
        if self.platform == "youcan":
            return YouCanOrdersPuller(
                store=ref, base_url=url, access_token=token, limit=page_size, http=http
            )
        if self.platform == "lightfunnels":
            return LightFunnelsOrdersPuller(
                store=ref, base_url=url, access_token=token, page_size=page_size, http=http
            )
        return PrestaShopOrdersPuller(
            store=ref, base_url=url, api_key=token, page_size=page_size, http=http
        )

    # -- changes --------------------------------------------------------------------------

    def current(self, server: ContractServer) -> list[tuple[datetime, str, dict[str, Any]]]:
        return server.feed.visible()

    def update(self, server: ContractServer, record: dict[str, Any], when: datetime) -> None:
        """A new snapshot of ``record``'s order, updated at ``when``."""
        changed = copy.deepcopy(record)
        if self.platform == "shopify":
            changed["updatedAt"] = _fmt_z(when)
            changed["tags"] = sorted({*changed.get("tags", []), "cod-confirmed"})
            server.add_order_snapshots([changed])
        elif self.platform == "woocommerce":
            changed["date_modified_gmt"] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
            changed["status"] = "processing"
            server.add_order_snapshots([changed])
        elif self.platform == "youcan":
            changed["updated_at"] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
            changed["status"] = 2
            server.add_order_snapshots([changed])
        elif self.platform == "lightfunnels":
            changed["updated_at"] = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            changed["fulfillment_status"] = "fulfilled"
            server.add_order_snapshots([changed])
        else:
            changed["date_upd"] = when.astimezone(CASA).strftime("%Y-%m-%d %H:%M:%S")
            changed["current_state"] = "3"
            server.add_records([changed])

    # -- what landed -----------------------------------------------------------------------

    @property
    def source(self) -> str | None:
        name = f"{self.platform}_orders"
        return name if name in SOURCES_BY_NAME else None

    def landed_keys(self, landing: Path, store: str = STORE) -> list[tuple[str, str]]:
        """``(order id, updated_at)`` of every line of the store's pull files (duplicates kept)."""
        puller = self.puller("http://127.0.0.1:9")
        keys = []
        for path in sorted((landing / "orders" / self.platform / store).glob("pull_*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                key = puller.snapshot_key(json.loads(line))
                keys.append((key.order_id, key.updated_at.isoformat()))
        puller.close()
        return keys

    def ingested(self, landing: Path, warehouse: Path) -> dict[str, int]:
        """Ingest the landing folder into ``warehouse``: rows, distinct (order_ref, updated_at),
        quarantined. Platforms without an ingestion source are counted from the files."""
        if self.source is None:
            keys = self.landed_keys(landing)
            return {"rows": len(keys), "distinct": len(set(keys)), "quarantined": 0}
        source = SOURCES_BY_NAME[self.source]
        ref, updated = {
            "shopify": ("regexp_extract(payload->>'$.id', '[0-9]+$')", "payload->>'$.updatedAt'"),
            "woocommerce": ("payload->>'$.id'", "payload->>'$.date_modified_gmt'"),
            "youcan": ("payload->>'$.id'", "payload->>'$.updated_at'"),
            "lightfunnels": ("payload->>'$._id'", "payload->>'$.updated_at'"),
            "prestashop": ("payload->>'$.id'", "payload->>'$.date_upd'"),
        }[self.platform]
        with duckdb.connect(str(warehouse)) as conn:
            report = ingest_source(conn, source, landing)
            assert report.reconciles
            refresh_phone_numbers(conn)  # the step between the raw tables and dbt
            rows, distinct = conn.execute(
                f"select count(*), count(distinct ({ref}, {updated})) from raw.{source.raw_table}"
            ).fetchone()
            (quarantined,) = conn.execute(
                "select count(*) from raw.quarantine where source = ?", [source.name]
            ).fetchone()
        return {"rows": rows, "distinct": distinct, "quarantined": quarantined}


def harness(platform: str) -> Harness:
    return Harness(platform)


def after(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
