"""Shopify order webhooks (REST bodies in orders/shopify_webhooks/<shop>/<topic>/) are a
landing source of their own: whole-order topics load, orders/delete and orders/edited
bodies are not orders and are not read, a bad record is quarantined naming its field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from common.warehouse import connect
from connectors.ingestion import ingest_source
from connectors.ingestion.sources import SOURCES_BY_NAME

SOURCE = SOURCES_BY_NAME["shopify_webhook_orders"]
LOAD_TIME = datetime(2026, 3, 10, tzinfo=UTC)


def _order(**overrides) -> dict:
    body = {
        "id": 5501234567,
        "name": "#1001",
        "created_at": "2026-03-01T10:00:00+01:00",
        "updated_at": "2026-03-03T09:00:00Z",
        "total_price": "349.00",
        "currency": "MAD",
        "tags": "cod-confirmed",
        "payment_gateway_names": ["Cash on Delivery (COD)"],
        "line_items": [{"quantity": 2}],
    }
    return {**body, **overrides}


def _land(landing: Path, topic: str, bodies: list[dict]) -> None:
    folder = landing / "orders" / "shopify_webhooks" / "atlas.myshopify.com" / topic
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(body) + "\n" for body in bodies)
    (folder / f"shopify_{topic}.jsonl").write_text(lines)


def test_order_topics_load_and_other_bodies_are_not_read(tmp_path: Path):
    landing = tmp_path / "landing"
    _land(landing, "orders_create", [_order(updated_at="2026-03-01T09:00:00Z")])
    _land(landing, "orders_updated", [_order(), _order(id=True), _order(updated_at="hier")])
    _land(landing, "orders_delete", [{"id": 5501234567}])
    _land(landing, "orders_edited", [{"order_edit": {"id": 1, "order_id": 5501234567}}])
    with connect(tmp_path / "warehouse.duckdb") as conn:
        report = ingest_source(conn, SOURCE, landing, load_time=LOAD_TIME)
        loaded = conn.execute(
            "select payload ->> '$.updated_at' from raw.shopify_webhook_orders order by 1"
        ).fetchall()
        quarantined = conn.execute(
            "select field from raw.quarantine where source_file like '%orders_updated%' order by 1"
        ).fetchall()
    assert [f.source_file.split("/")[-2] for f in report.files] == [
        "orders_create",
        "orders_updated",
    ]
    assert loaded == [("2026-03-01T09:00:00Z",), ("2026-03-03T09:00:00Z",)]
    assert quarantined == [("id",), ("updated_at",)]
