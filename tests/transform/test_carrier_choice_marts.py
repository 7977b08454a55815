"""carrier_city_delivery_rates and orders_to_dispatch on the session's sample store.

The shrunk rates are recomputed the naive way in Python from int_carrier_parcels (the
formulas of activations.carrier_choice, which the model's header states), the rate-card
fallback is checked level by level, and a city no seed lists still gets a rate.
"""

from __future__ import annotations

import duckdb
import pytest
import yaml

from activations.carrier_choice import combined_prior, shrunk_rate
from common.settings import DBT_PROJECT_DIR

pytestmark = pytest.mark.e2e

WEIGHT = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"][
    "carrier_choice_prior_weight"
]


@pytest.fixture(scope="module")
def conn(marts_warehouse):
    connection = duckdb.connect(str(marts_warehouse.warehouse), read_only=True)
    yield connection
    connection.close()


def _counts(conn, group_by: str, join_zones: bool = False) -> dict:
    join = "join reference.city_zones z on z.city = p.city" if join_zones else ""
    rows = conn.execute(
        f"""
        select {group_by}, count(*) filter (where outcome = 'delivered'),
            count(*) filter (where outcome in ('delivered', 'returned'))
        from intermediate.int_carrier_parcels p {join} group by all
        """
    ).fetchall()
    return {tuple(r[:-2]) if len(r) > 3 else r[0]: (r[-2], r[-1]) for r in rows}


def test_the_shrunk_rates_are_the_documented_formulas(conn):
    delivered, resolved = conn.execute(
        "select count(*) filter (where outcome = 'delivered'), "
        "count(*) filter (where outcome in ('delivered', 'returned')) "
        "from intermediate.int_carrier_parcels"
    ).fetchone()
    overall = delivered / resolved
    carriers = _counts(conn, "carrier")
    cities = _counts(conn, "p.city")
    zones = _counts(conn, "z.zone", join_zones=True)
    carrier_zones = _counts(conn, "p.carrier, z.zone", join_zones=True)
    cells = _counts(conn, "carrier, city")
    rows = conn.execute(
        "select carrier, city, zone, delivery_rate, prior_delivery_rate, parcels_resolved "
        "from marts.carrier_city_delivery_rates"
    ).fetchall()
    assert len(rows) > 50
    thin = 0
    for carrier, city, zone, rate, prior, n in rows:
        carrier_rate = shrunk_rate(*carriers.get(carrier, (0, 0)), overall, WEIGHT)
        city_rate = shrunk_rate(*cities.get(city, (0, 0)), overall, WEIGHT)
        if zone is None:
            expected_prior = combined_prior(carrier_rate, city_rate, overall)
        else:
            zone_rate = shrunk_rate(*zones.get(zone, (0, 0)), overall, WEIGHT)
            cz_prior = combined_prior(carrier_rate, zone_rate, overall)
            cz_rate = shrunk_rate(*carrier_zones.get((carrier, zone), (0, 0)), cz_prior, WEIGHT)
            expected_prior = combined_prior(cz_rate, city_rate, zone_rate)
        assert prior == pytest.approx(expected_prior, rel=1e-9), (carrier, city)
        d, r = cells.get((carrier, city), (0, 0))
        assert n == r
        assert rate == pytest.approx(shrunk_rate(d, r, expected_prior, WEIGHT), rel=1e-9)
        thin += r < WEIGHT
    assert thin > 0  # the sample store has thin cells: the prior matters


def test_fees_come_from_the_city_row_then_the_zone_row_then_the_national_row(conn):
    levels = dict(
        conn.execute(
            "select carrier || '/' || city, rate_card_level from marts.carrier_city_delivery_rates"
        ).fetchall()
    )
    assert levels["ozon_express/Oujda"] == "city"
    assert levels["ameex/Oujda"] == "zone"
    card = conn.execute(
        "select forward_fee_mad from reference.carrier_rate_card "
        "where carrier = 'ameex' and city is null and zone = 'east'"
    ).fetchone()[0]
    fee = conn.execute(
        "select forward_fee_mad from marts.carrier_city_delivery_rates "
        "where carrier = 'ameex' and city = 'Oujda'"
    ).fetchone()[0]
    assert fee == card
    # Every city seen in a parcel is priced for every carrier (national rows exist).
    unpriced = conn.execute(
        """
        select count(*) from (select distinct city from intermediate.int_carrier_parcels) c
        cross join (select distinct carrier from reference.carrier_rate_card) k
        left join marts.carrier_city_delivery_rates r on r.city = c.city and r.carrier = k.carrier
        where r.carrier is null
        """
    ).fetchone()[0]
    assert unpriced == 0


def test_a_city_no_seed_lists_gets_the_national_rate(marts_warehouse, tmp_path):
    copy = marts_warehouse.copy_to(tmp_path / "copy")
    with duckdb.connect(str(copy.warehouse)) as db:
        db.execute(
            "update intermediate.int_orders set city = 'Zagora' where order_ref = "
            "(select min(order_ref) from intermediate.int_orders where carrier is not null)"
        )
    copy.dbt_ok("build", "--select", "int_carrier_parcels+", "--exclude", "int_orders")
    with duckdb.connect(str(copy.warehouse), read_only=True) as db:
        rows = db.execute(
            "select rate_card_level, zone, forward_fee_mad from marts.carrier_city_delivery_rates "
            "where city = 'Zagora' and carrier = 'sendit'"
        ).fetchall()
        national = db.execute(
            "select forward_fee_mad from reference.carrier_rate_card "
            "where carrier = 'sendit' and zone = '*'"
        ).fetchone()[0]
    assert rows == [("national", None, national)]


def test_orders_to_dispatch_are_live_confirmed_orders_not_picked_up(conn):
    bad = conn.execute(
        """
        select count(*) from marts.orders_to_dispatch d
        join intermediate.int_orders o using (order_ref)
        join marts.order_rto_history h using (order_ref)
        where not h.is_open or o.order_status <> 'confirmed' or o.dispatched_at is not null
            or d.cod_amount <> case when o.is_cod then o.total_amount else 0 end
        """
    ).fetchone()[0]
    assert bad == 0
