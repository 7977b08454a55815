"""Measurement: Wilson and Newcombe intervals against published values, and treated vs holdout
results and the template funnel on a hand-made warehouse."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from warehouse_fixtures import NOW, add_order, create_tables, phone

from activations.measurement import (
    campaign_results,
    newcombe_difference,
    template_funnel,
    wilson_interval,
)
from common.warehouse import connect

T0 = NOW.replace(tzinfo=None)


def test_wilson_and_newcombe_match_published_values():
    # Newcombe (1998), Statistics in Medicine 17: 81/263 → 0.2553–0.3662; 0/10 → 0–0.2775.
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson_interval(0, 0) is None
    # Newcombe's method 10, example (a): 56/70 vs 48/80 → +0.2000 (0.0524, 0.3339).
    assert newcombe_difference(56, 70, 48, 80) == pytest.approx((0.2, 0.0524, 0.3339), abs=1e-4)
    assert newcombe_difference(1, 10, 0, 0) is None


def _member(conn, n: int, campaign: str, variant: str, status: str, order_ref=None) -> str:
    who = phone(n)
    conn.execute(
        "insert into activations.outbox (outbox_key, campaign_id, customer_phone, occasion, "
        "order_ref, variant, channel, message_kind, category, template_name, status, message_id, "
        "created_at, expires_at, updated_at) values (?, ?, ?, 'o', ?, ?, 'whatsapp', 'template', "
        "'marketing', ?, ?, ?, ?, ?, ?)",
        [f"ob_{campaign}_{n}", campaign, who, order_ref, variant,
         None if variant == "holdout" else f"tpl_{variant}", status,
         f"wamid.{campaign}.{n}" if status == "sent" else None, T0, T0, T0],
    )  # fmt: skip
    return who


def test_treated_vs_holdout_per_variant_with_intervals_and_the_funnel(tmp_path):
    with connect(tmp_path / "warehouse.duckdb") as conn:
        create_tables(conn)
        later = NOW + timedelta(days=3)
        for n in range(40):  # winback: A and B 20 each, 20 holdout
            variant = "holdout" if n < 20 else ("A" if n < 30 else "B")
            who = _member(
                conn, n, "winback", variant, "holdout" if variant == "holdout" else "sent"
            )
            bought = (variant == "A" and n < 28) or (variant == "B" and n < 33) or n < 4
            if bought:
                outcome = "returned" if n in (20, 30, 0) else "delivered"
                add_order(conn, f"shopify:{n}", who, status=outcome, outcome=outcome,
                          confirmation="confirmed", placed_at=later)  # fmt: skip
        # Bought before the message, or too long after: not attributed.
        add_order(conn, "shopify:900", phone(25), status="delivered", outcome="delivered",
                  placed_at=NOW - timedelta(days=1))  # fmt: skip
        add_order(conn, "shopify:901", phone(5), status="delivered", outcome="delivered",
                  placed_at=NOW + timedelta(days=45))  # fmt: skip
        results = campaign_results(conn, T0).set_index(["variant", "metric"])
        repeat_a = results.loc[("A", "repeat_purchase")]
        assert (repeat_a.treated_numerator, repeat_a.treated_denominator) == (8, 10)
        assert (repeat_a.holdout_numerator, repeat_a.holdout_denominator) == (4, 20)
        assert repeat_a.lift == pytest.approx(0.6)
        assert repeat_a.lift_ci_low > 0 and repeat_a.treated_ci_low < 0.8 < repeat_a.treated_ci_high
        pooled = results.loc[("all_treated", "repeat_purchase")]
        assert (pooled.treated_numerator, pooled.treated_denominator) == (11, 20)
        rto_b = results.loc[("B", "rto_rate")]
        assert (rto_b.treated_numerator, rto_b.treated_denominator) == (1, 3)
        assert (rto_b.holdout_numerator, rto_b.holdout_denominator) == (1, 4)
        stored = conn.execute("select count(*) from activations.campaign_results").fetchone()[0]
        assert stored == 3 * 4  # A, B, all_treated × four metrics

        statuses = [("wamid.winback.20", "delivered"), ("wamid.winback.20", "read"),
                    ("wamid.winback.21", "delivered"), ("wamid.winback.30", "failed")]  # fmt: skip
        for i, (message_id, status) in enumerate(statuses):
            payload = {"entry": [{"changes": [{"value": {"statuses": [
                {"id": message_id, "status": status, "timestamp": "1772449200"}]}}]}]}  # fmt: skip
            conn.execute(
                "insert into raw.whatsapp_webhooks values (?, 'f.jsonl', ?, ?, 'sha', ?)",
                [f"r{i}", i, json.dumps(payload), T0],
            )
        funnel = template_funnel(conn, T0).set_index("variant")
    assert funnel.loc["A", ["queued", "sent", "delivered", "read", "failed"]].tolist() == [
        10, 10, 2, 1, 0,
    ]  # fmt: skip
    assert funnel.loc["B", ["queued", "delivered", "failed"]].tolist() == [10, 0, 1]
    assert "holdout" not in funnel.index


def test_the_results_picture_is_in_the_assets_metadata(tmp_path):
    """Treated vs holdout with intervals, per variant, as a PNG in the asset's metadata."""
    import base64
    import re

    import dagster as dg

    from activations.results_chart import campaign_results_chart
    from orchestration.defs.activations.measurement import build_campaign_results_asset
    from orchestration.resources import WarehouseResource

    warehouse = tmp_path / "warehouse.duckdb"
    with connect(warehouse) as conn:
        create_tables(conn)
        for n in range(30):
            variant = "holdout" if n < 10 else ("A" if n < 20 else "B")
            who = _member(
                conn, n, "winback", variant, "holdout" if variant == "holdout" else "sent"
            )
            if n % 3 == 0 or (variant == "B" and n % 2 == 0):
                add_order(conn, f"shopify:{n}", who, status="delivered", outcome="delivered",
                          confirmation="confirmed", placed_at=NOW + timedelta(days=2))  # fmt: skip
        results = campaign_results(conn, T0)
    png = campaign_results_chart(results)
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
    assert campaign_results_chart(results.iloc[0:0]) is None

    asset = build_campaign_results_asset([])
    resource = WarehouseResource(path=str(warehouse), landing_dir=str(tmp_path / "landing"))
    result = dg.materialize([asset], resources={"warehouse": resource})
    assert result.success
    (materialization,) = result.asset_materializations_for_node(asset.op.name)
    chart = materialization.metadata["results_chart"].value
    encoded = re.fullmatch(r"!\[[^\]]+\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", chart)
    assert encoded is not None
    assert base64.b64decode(encoded.group(1)).startswith(b"\x89PNG")
