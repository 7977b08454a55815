"""The customer, risk, carrier and KPI marts agree with each other on a small sample store.

One warehouse for the whole module (``marts_warehouse``: the session's sample store,
built by ``dbt build``), read only; each test recomputes a mart's number the naive way
from int_orders and compares.
"""

from __future__ import annotations

import duckdb
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def conn(marts_warehouse):
    connection = duckdb.connect(str(marts_warehouse.warehouse), read_only=True)
    yield connection
    connection.close()


def _one(conn, sql: str):
    return conn.execute(sql).fetchone()


def test_delivered_revenue_of_customers_is_that_of_delivered_orders_with_a_valid_phone(conn):
    marts, orders = _one(
        conn,
        """
        select
            (select sum(delivered_revenue) from marts.customer_360),
            (select sum(total_amount) from intermediate.int_orders
             where outcome = 'delivered' and customer_phone is not null)
        """,
    )
    assert marts > 0
    assert marts == orders


def test_one_row_per_customer_and_every_customer_has_exactly_one_stage_and_rfm_row(conn):
    customers, c360, distinct_c360, lifecycle, distinct_lifecycle, rfm, staged = _one(
        conn,
        """
        select
            (select count(distinct customer_phone) from intermediate.int_orders
             where customer_phone is not null),
            (select count(*) from marts.customer_360),
            (select count(distinct customer_phone) from marts.customer_360),
            (select count(*) from marts.customer_lifecycle),
            (select count(distinct customer_phone) from marts.customer_lifecycle),
            (select count(*) from marts.rfm_scores),
            (select count(*) from marts.customer_lifecycle where lifecycle_stage_code is not null)
        """,
    )
    assert customers > 100
    assert c360 == distinct_c360 == customers
    assert lifecycle == distinct_lifecycle == staged == customers
    assert rfm == customers


def test_every_lifecycle_stage_and_rfm_segment_appears_and_nobody_without_a_delivery_is_scored(
    conn,
):
    stages = {
        row[0]
        for row in conn.execute(
            "select lifecycle_stage_code from marts.customer_lifecycle"
        ).fetchall()
    }
    assert {
        "new_pre_confirmation",
        "active",
        "lapsed",
        "churned_dormant",
        "problematic_high_risk",
    } <= stages
    unscored = _one(
        conn,
        """
        select count(*) from marts.rfm_scores
        where not has_delivered_order
          and (recency_score is not null or rfm_segment != 'No Delivered Order')
        """,
    )
    assert unscored == (0,)
    kept = _one(conn, "select count(*) from marts.rfm_scores where not has_delivered_order")
    assert kept[0] > 0  # customers without a delivered order are kept, not dropped


def test_customer_360_repeats_the_stage_and_segment_of_its_source_marts(conn):
    mismatches = _one(
        conn,
        """
        select count(*)
        from marts.customer_360 as c
        join marts.customer_lifecycle as l using (customer_phone)
        join marts.rfm_scores as r using (customer_phone)
        where c.lifecycle_stage_code != l.lifecycle_stage_code
           or c.rfm_segment != r.rfm_segment
           or c.orders_delivered != r.frequency
        """,
    )
    assert mismatches == (0,)


def test_order_rto_history_has_one_row_per_order(conn):
    rows, distinct, orders = _one(
        conn,
        """
        select
            (select count(*) from marts.order_rto_history),
            (select count(distinct order_ref) from marts.order_rto_history),
            (select count(*) from intermediate.int_orders)
        """,
    )
    assert rows == distinct == orders


@pytest.mark.parametrize("dimension", ["city", "carrier", "platform"])
def test_prior_rto_rates_use_only_orders_resolved_before_the_order_was_placed(conn, dimension):
    # The naive definition, order by order: a correlated count over every other order of
    # the same dimension value that was delivered or returned strictly before placed_at.
    differences = conn.execute(
        f"""
        with naive as (
            select
                o.order_ref,
                (
                    select 1.0 * count(case when p.outcome = 'returned' then 1 end) / nullif(count(*), 0)
                    from intermediate.int_orders as p
                    where p.{dimension} = o.{dimension}
                      and p.order_ref != o.order_ref
                      and p.outcome in ('delivered', 'returned')
                      and p.resolved_at < o.placed_at
                ) as rate
            from intermediate.int_orders as o
            where o.{dimension} is not null
        )
        select
            count(*) as orders,
            count(h.{dimension}_rto_rate_prior) as with_rate,
            count(case when abs(coalesce(h.{dimension}_rto_rate_prior, -1) - coalesce(naive.rate, -1)) > 1e-9
                       then 1 end) as mismatches
        from naive
        join marts.order_rto_history as h using (order_ref)
        """
    ).fetchone()
    orders, with_rate, mismatches = differences
    assert with_rate > orders / 2
    assert mismatches == 0


def test_one_order_city_rate_recomputed_in_python_ignores_later_resolutions(conn):
    # A late order of the busiest city: many orders resolved before it, some after it.
    order_ref, city, placed_at, marts_rate = _one(
        conn,
        """
        select order_ref, city, placed_at, city_rto_rate_prior
        from marts.order_rto_history
        where city = (select city from intermediate.int_orders group by city order by count(*) desc limit 1)
        order by placed_at desc
        limit 1 offset 20
        """,
    )
    resolved = conn.execute(
        "select order_ref, outcome, resolved_at from intermediate.int_orders "
        "where city = ? and outcome in ('delivered', 'returned')",
        [city],
    ).fetchall()
    before = [outcome for ref, outcome, at in resolved if at < placed_at and ref != order_ref]
    after = [outcome for ref, outcome, at in resolved if at >= placed_at]
    assert before and after  # the order sits between resolutions: leakage would show
    assert marts_rate == pytest.approx(before.count("returned") / len(before))


def test_customer_history_counts_only_what_happened_before_the_order(conn):
    mismatches = _one(
        conn,
        """
        with naive as (
            select
                o.order_ref,
                (select count(*) from intermediate.int_orders p
                 where p.customer_phone = o.customer_phone
                   and (p.placed_at < o.placed_at or (p.placed_at = o.placed_at and p.order_ref < o.order_ref))
                ) as past_orders,
                (select count(*) from intermediate.int_orders p
                 where p.customer_phone = o.customer_phone and p.order_ref != o.order_ref
                   and p.outcome = 'delivered' and p.resolved_at < o.placed_at) as past_delivered,
                (select count(*) from intermediate.int_orders p
                 where p.customer_phone = o.customer_phone and p.order_ref != o.order_ref
                   and p.outcome = 'returned' and p.resolved_at < o.placed_at) as past_rto
            from intermediate.int_orders o
            where o.customer_phone is not null
        )
        select count(*)
        from naive join marts.order_rto_history h using (order_ref)
        where h.customer_past_orders != naive.past_orders
           or h.customer_past_delivered != naive.past_delivered
           or h.customer_past_rto != naive.past_rto
           or h.is_first_order != (naive.past_orders = 0)
        """,
    )
    assert mismatches == (0,)


def test_the_ml_contract_columns_are_all_there_and_open_orders_have_no_outcome(conn):
    # ml/ lists its input columns once (tests/ml/test_order_contract_matches_dbt.py checks
    # them against the mart's dbt contract); here: the built table has them all.
    from ml.features import CONTRACT_COLUMNS

    columns = {
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'order_rto_history'"
        ).fetchall()
    }
    assert set(CONTRACT_COLUMNS) <= columns  # what ml/ reads
    outcomes = {
        row[0]
        for row in conn.execute("select distinct outcome from marts.order_rto_history").fetchall()
    }
    assert outcomes == {"delivered", "returned", "cancelled", None}
    # Open = no outcome and not stale (the marts' open_order_stale_after_days rule).
    assert _one(
        conn,
        "select count(*) from marts.order_rto_history "
        "where (outcome is null and not is_stale_open) != is_open",
    ) == (0,)
    assert _one(
        conn, "select count(*) from marts.order_rto_history where is_stale_open and is_open"
    ) == (0,)


def test_kpis_and_carrier_performance_add_up_to_the_orders(conn):
    revenue, orders = _one(
        conn,
        "select delivered_revenue, orders_placed from marts.kpis_by_dimension where dimension = 'all'",
    )
    assert (revenue, orders) == _one(
        conn,
        "select sum(case when outcome = 'delivered' then total_amount else 0 end), count(*) "
        "from intermediate.int_orders",
    )
    for dimension in ("platform", "city", "carrier", "week", "lifecycle_stage", "rfm_segment"):
        assert _one(
            conn,
            f"select sum(orders_placed) from marts.kpis_by_dimension where dimension = '{dimension}'",
        ) == (orders,), dimension
    shipped = _one(conn, "select count(*) from intermediate.int_orders where carrier is not null")
    for mart in ("carrier_performance", "carrier_city_performance"):
        assert _one(conn, f"select sum(parcels_shipped) from marts.{mart}") == shipped, mart


def test_segment_members_match_their_filters(conn):
    members = dict(
        conn.execute(
            "select segment_name, count(*) from marts.segment_membership group by 1"
        ).fetchall()
    )
    assert members.keys() <= {
        "pre_delivery_new_cod",
        "cod_vip_last_30_days",
        "lapsed_high_rfm",
        "out_for_delivery_today",
        "delivered_last_3_days",
        "high_risk_rto_history",
        "from_ugc_ad_delivered",
    }
    assert members.get("pre_delivery_new_cod", 0) > 0
    # Recomputed from customer_360 by hand for the VIP segment.
    vip = {
        row[0]
        for row in conn.execute(
            """
            select customer_phone from marts.customer_360
            where datediff('day', cast(last_delivered_at as date), as_of_date) <= 30
              and orders_delivered > 3 and delivered_revenue >= 1500
              and (rto_rate is null or rto_rate < 0.2) and consent_status != 'opted_out'
            """
        ).fetchall()
    }
    assert vip == {
        row[0]
        for row in conn.execute(
            "select customer_phone from marts.segment_membership where segment_name = 'cod_vip_last_30_days'"
        ).fetchall()
    }
