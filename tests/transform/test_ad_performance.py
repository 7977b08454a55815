"""ad_performance, the ad dimension of the KPIs and the first-order-ad segment filter, on the
session's small sample store, each recomputed by hand.

The hand count reads the ad of every order from the raw vendor payloads in Python (TikTok
lead fields, Shopify customerJourneySummary, WooCommerce order-attribution meta_data), not
from the dbt columns under test, and the outcomes from int_orders_as_of.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

import duckdb
import pytest
import yaml

from common.settings import DBT_PROJECT_DIR
from ml.config import load_lead_score_config

pytestmark = pytest.mark.e2e

UGC_AD_ID = "1785200000000000"  # the example segment's ad (dbt_project/segments/)


@pytest.fixture(scope="module")
def conn(marts_warehouse):
    connection = duckdb.connect(str(marts_warehouse.warehouse), read_only=True)
    yield connection
    connection.close()


def test_the_dbt_unit_economics_are_the_lead_scores():
    dbt_vars = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text("utf-8"))["vars"]
    ml = load_lead_score_config().unit_economics
    assert dbt_vars["unit_economics"] == {
        "delivered_margin": ml.delivered_margin,
        "rto_forward_shipping": ml.rto_forward_shipping,
        "rto_return_shipping": ml.rto_return_shipping,
        "rto_handling": ml.rto_handling,
    }


def _payloads(conn, table: str):
    for (payload,) in conn.execute(f"select payload from raw.{table}").fetchall():
        yield json.loads(payload)


def _storefront_key(utm: dict) -> str | None:
    source = utm.get("source")
    if not source or source == "(direct)":
        return None
    parts = [source.lower(), utm.get("campaign"), utm.get("content"), None]
    return "storefront_utm|" + "|".join(p or "(none)" for p in parts)


def _ad_keys_from_raw(conn) -> dict[str, str]:
    """order_ref -> ad key, read from the vendor payloads."""
    keys: dict[str, str] = {}
    for lead in _payloads(conn, "tiktok_leads"):
        if lead.get("ad_id"):
            parts = ["tiktok", lead.get("campaign_id"), lead["ad_id"], lead.get("form_id")]
            keys[f"tiktok:{lead['lead_id']}"] = "tiktok_lead_form|" + "|".join(
                p or "(none)" for p in parts
            )
    for order in _payloads(conn, "shopify_orders"):
        journey = order.get("customerJourneySummary") or {}
        visit = (journey.get("lastVisit") or {}).get("utmParameters") or (
            journey.get("firstVisit") or {}
        ).get("utmParameters")
        key = _storefront_key(visit or {})
        if key:
            keys[f"shopify:{order['id'].rsplit('/', 1)[1]}"] = key
    for order in _payloads(conn, "woocommerce_orders"):
        meta = {m["key"]: m["value"] for m in order.get("meta_data") or []}
        utm = {
            field: meta.get(f"_wc_order_attribution_utm_{field}")
            for field in ("source", "campaign", "content")
        }
        key = _storefront_key(utm)
        if key:
            keys[f"woocommerce:{order['id']}"] = key
    return keys


def _wilson(successes: int, trials: int) -> tuple[float, float] | tuple[None, None]:
    if trials == 0:
        return None, None
    z = 1.96
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    scale = 1 + z * z / trials
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def test_ad_performance_is_the_hand_count_of_the_raw_payloads(conn):
    keys = _ad_keys_from_raw(conn)
    economics = load_lead_score_config().unit_economics
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    rows = conn.execute(
        """
        select order_ref, phone_is_valid, confirmation_status, outcome, is_stale_open, total_amount
        from intermediate.int_orders_as_of
        """
    ).fetchall()
    for order_ref, valid, confirmation, outcome, stale, total in rows:
        c = counts[keys.get(order_ref, "unattributed|(none)|(none)|(none)|(none)")]
        c["leads"] += 1
        c["orders"] += bool(valid)
        c["orders_confirmed"] += confirmation == "confirmed"
        c["orders_delivered"] += outcome == "delivered"
        c["orders_returned"] += outcome == "returned"
        c["orders_cancelled"] += outcome == "cancelled"
        c["orders_ended"] += outcome != "open" or bool(stale)
        c["delivered_revenue"] += float(total) if outcome == "delivered" else 0.0
    mart = {
        row[0]: dict(zip([d[0] for d in conn.description], row, strict=True))
        for row in conn.execute("select * from marts.ad_performance").fetchall()
    }
    assert set(mart) == set(counts)
    channels = {key.split("|")[0] for key in mart}
    assert channels == {"tiktok_lead_form", "storefront_utm", "unattributed"}
    # Six creatives on the lead form, six on the storefronts (three TikTok, three Meta ads).
    assert sum(k.startswith("tiktok_lead_form|") for k in mart) == 6
    assert sum(k.startswith("storefront_utm|") for k in mart) == 6
    for key, hand in counts.items():
        row = mart[key]
        for column in (
            "leads",
            "orders",
            "orders_confirmed",
            "orders_delivered",
            "orders_returned",
            "orders_cancelled",
            "orders_ended",
        ):
            assert row[column] == hand[column], (key, column)
        assert float(row["delivered_revenue"]) == pytest.approx(hand["delivered_revenue"])
        profit = (
            hand["orders_delivered"] * economics.delivered_margin
            - hand["orders_returned"] * economics.rto_cost
        )
        assert float(row["profit"]) == pytest.approx(profit)
        assert row["profit_per_lead"] == pytest.approx(profit / hand["leads"])
        resolved = hand["orders_delivered"] + hand["orders_returned"]
        low, high = _wilson(int(hand["orders_returned"]), int(resolved))
        assert row["rto_rate_ci_low"] == pytest.approx(low)
        assert row["rto_rate_ci_high"] == pytest.approx(high)
        low, high = _wilson(int(hand["orders_delivered"]), int(hand["orders_ended"]))
        assert row["delivery_rate_ci_low"] == pytest.approx(low)
        assert row["delivery_rate_ci_high"] == pytest.approx(high)
    # Without a scoring run before dbt there is no placement score yet (time order).
    assert all(r["orders_scored_at_placement"] == 0 for r in mart.values())


def test_the_ad_kpi_dimension_adds_up_to_ad_performance(conn):
    mismatches = conn.execute(
        """
        select ads.ad_key
        from marts.ad_performance as ads
        full outer join (select * from marts.kpis_by_dimension where dimension = 'ad') as kpis
            on ads.ad_key = kpis.dimension_value
        where kpis.dimension_value is null or ads.ad_key is null
           or kpis.orders_placed != ads.leads
           or kpis.orders_delivered != ads.orders_delivered
           or kpis.orders_returned != ads.orders_returned
           or kpis.delivered_revenue != ads.delivered_revenue
        """
    ).fetchall()
    assert mismatches == []


def test_the_first_order_ad_segment_holds_the_customers_that_ad_brought_who_got_a_parcel(conn):
    by_hand = {
        phone
        for (phone,) in conn.execute(
            f"""
            with ranked as (
                select customer_phone, ad_id,
                    row_number() over (
                        partition by customer_phone order by placed_at, order_ref
                    ) as rank
                from intermediate.int_orders_as_of
                where customer_phone is not null
            )
            select ranked.customer_phone
            from ranked
            inner join marts.customer_360 as c360 on ranked.customer_phone = c360.customer_phone
            where ranked.rank = 1 and ranked.ad_id = '{UGC_AD_ID}'
              and c360.orders_delivered >= 1 and c360.consent_status != 'opted_out'
            """
        ).fetchall()
    }
    members = {
        phone
        for (phone,) in conn.execute(
            """
            select customer_phone from marts.segment_membership
            where segment_name = 'from_ugc_ad_delivered'
            """
        ).fetchall()
    }
    assert len(by_hand) > 10
    assert members == by_hand


def test_placement_scores_are_written_once_and_averaged_per_ad_on_the_next_build(
    marts_warehouse, tmp_path
):
    import base64

    from ml.store_resource import ModelStoreResource
    from orchestration.defs.ads.assets import ad_performance_chart, order_placement_scores
    from orchestration.resources import WarehouseResource

    copy = marts_warehouse.copy_to(tmp_path / "scored")
    warehouse = WarehouseResource(path=str(copy.warehouse), landing_dir=str(tmp_path))
    store = ModelStoreResource(root=str(tmp_path / "models"))  # empty: the baseline scores
    first = order_placement_scores(warehouse=warehouse, model_store=store)
    again = order_placement_scores(warehouse=warehouse, model_store=store)
    assert first.metadata["orders_scored_now"] == first.metadata["dagster/row_count"] > 500
    assert again.metadata["orders_scored_now"] == 0  # re-running rewrites nothing
    copy.dbt_ok("build", "--select", "ad_performance")
    with duckdb.connect(str(copy.warehouse), read_only=True) as conn:
        mismatches = conn.execute(
            """
            with hand as (
                select ads.ad_key, count(*) as scored, avg(scores.score) as mean_score
                from intermediate.int_orders_as_of as orders
                inner join ml.order_placement_scores as scores
                    on orders.order_ref = scores.order_ref
                inner join marts.ad_performance as ads
                    on ads.ad_channel = orders.ad_channel
                    and coalesce(ads.ad_id, '') = coalesce(orders.ad_id, '')
                    and coalesce(ads.ad_campaign, '') = coalesce(orders.ad_campaign, '')
                    and coalesce(ads.ad_source, '') = coalesce(orders.ad_source, '')
                    and coalesce(ads.ad_form_id, '') = coalesce(orders.ad_form_id, '')
                group by ads.ad_key
            )
            select ads.ad_key from marts.ad_performance as ads
            left join hand on ads.ad_key = hand.ad_key
            where ads.orders_scored_at_placement != ads.leads
               or ads.orders_scored_at_placement != hand.scored
               or abs(ads.avg_lead_score_at_placement - hand.mean_score) > 1e-9
            """
        ).fetchall()
        # Scored as of placement: never after it.
        late = conn.execute(
            "select count(*) from ml.order_placement_scores where scored_at > placed_at"
        ).fetchone()[0]
    assert mismatches == []
    assert late == 0
    chart = ad_performance_chart(warehouse=warehouse)
    image = chart.metadata["chart"].value.split("base64,")[1].rstrip(")")
    assert base64.b64decode(image).startswith(b"\x89PNG")
    ranking = chart.metadata["ranking"].value
    assert ranking.count("- top ") == 3 and ranking.count("- bottom ") == 3
