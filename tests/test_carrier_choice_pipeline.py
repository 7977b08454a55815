"""End to end: the carrier recommendation and the pickup sheets after scoring, on the small
sample store every asset was materialized on (``built_store``)."""

from __future__ import annotations

import csv
from datetime import datetime

import pytest

from activations.dispatch_manifest import MANIFEST_COLUMNS
from common.warehouse import connect
from orchestration.defs.carrier_choice.assets import DISPATCH_TIMEZONE

pytestmark = pytest.mark.e2e


def test_every_scored_open_order_gets_a_recommended_carrier_with_a_reason(built_store):
    with connect(built_store.warehouse, read_only=True) as conn:
        missing, bad_p, no_reason, total = conn.execute(
            """
            select
                count(*) filter (where r.order_ref is null),
                count(*) filter (where r.recommended_p_delivery not between 0 and 1),
                count(*) filter (where r.carrier_reason is null or r.carrier_reason = ''),
                count(*)
            from ml.order_scores s
            left join ml.carrier_recommendations r using (order_ref)
            """
        ).fetchone()
        argmax_broken = conn.execute(
            """
            select count(*) from ml.carrier_recommendations r
            join (select order_ref, max(expected_profit) as best from ml.carrier_options
                  group by order_ref) o using (order_ref)
            where abs(r.recommended_expected_profit - o.best) > 1e-9
            """
        ).fetchone()[0]
    assert total > 0
    # Every sample-store city has a rate-card row (a national row at worst).
    assert (missing, bad_p, no_reason, argmax_broken) == (0, 0, 0, 0)


def test_the_dispatch_manifest_holds_every_order_waiting_for_pickup(built_store):
    day = datetime.now(DISPATCH_TIMEZONE).date().isoformat()
    folder = built_store.warehouse.parent / "exports" / "dispatch" / day
    rows = 0
    for sheet in sorted(folder.glob("*.csv")):
        with sheet.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            assert tuple(next(reader)) == MANIFEST_COLUMNS
            rows += sum(1 for _ in reader)
    with connect(built_store.warehouse, read_only=True) as conn:
        waiting = conn.execute("select count(*) from marts.orders_to_dispatch").fetchone()[0]
    assert rows == waiting
