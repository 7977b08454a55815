"""Ads in Dagster: each order's lead score at placement, and the picture of ``ad_performance``.

Time order in one run: dbt builds ``ad_performance`` (reading the placement scores already
in ``ml.order_placement_scores``) → ``order_placement_scores`` scores the orders not yet
in that table as of their placement and appends them → ``ad_performance_chart`` draws the
mart. The mart does not list ``order_placement_scores`` as an upstream asset on purpose:
that asset needs ``order_rto_history`` (dbt) first, so the dependency would be a cycle
through the dbt assets; an order first scored in this run counts in the mart's average
from the next build (``orders_scored_at_placement`` shows the coverage).
"""

import base64

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model

from common.marts import DuckDBMartReader, MartError
from ml.ad_performance import (
    AD_PERFORMANCE_MART,
    PLACEMENT_SCORE_COLUMNS,
    PLACEMENT_SCORES_TABLE,
    ad_chart,
    ad_label,
    placement_scores,
    ranking_lines,
)
from ml.features import ORDER_HISTORY_MART
from ml.markdown_tables import markdown_table
from ml.store_resource import ModelStoreResource
from orchestration.defs.lead_score.assets import lead_score_approved_version
from orchestration.defs.transform.assets import cod360_dbt_models
from orchestration.resources import WarehouseResource

ADS_GROUP = "ads"
ORDER_RTO_HISTORY = get_asset_key_for_model([cod360_dbt_models], ORDER_HISTORY_MART)
AD_PERFORMANCE = get_asset_key_for_model([cod360_dbt_models], AD_PERFORMANCE_MART)

_PLACEMENT_DDL = f"""
create schema if not exists ml;
create table if not exists {PLACEMENT_SCORES_TABLE} (
    order_ref varchar primary key,
    placed_at timestamp,
    scored_at timestamp,
    model_version varchar,
    score double,
    band varchar,
    rto_probability double
)
"""


def _read_mart(warehouse: WarehouseResource, model: str) -> pd.DataFrame:
    try:
        return DuckDBMartReader(warehouse.path).read(model)
    except MartError as exc:
        raise dg.Failure(f"{exc} (materialize the dbt marts first)") from exc


@dg.asset(
    deps=[ORDER_RTO_HISTORY, lead_score_approved_version],
    group_name=ADS_GROUP,
    kinds={"duckdb", "python"},
    description=(
        "The lead score every order had at placement: orders not yet in "
        f"`{PLACEMENT_SCORES_TABLE}` are scored as of their `placed_at` (evidence stamped "
        "later is ignored) with the version approved now, and appended; an order's row is "
        "never rewritten, so re-running adds nothing. `ad_performance` averages them per ad "
        "on its next dbt build."
    ),
)
def order_placement_scores(
    warehouse: WarehouseResource, model_store: ModelStoreResource
) -> dg.MaterializeResult:
    try:
        orders = DuckDBMartReader(warehouse.path).read(ORDER_HISTORY_MART)
    except MartError as exc:
        raise dg.Failure(f"{exc} (materialize the dbt marts first)") from exc
    for column in orders.columns:
        if pd.api.types.is_datetime64_any_dtype(orders[column]) and orders[column].dt.tz is None:
            orders[column] = orders[column].dt.tz_localize("UTC")
    with warehouse.connect() as conn:
        conn.execute(_PLACEMENT_DDL)
        known = {
            r[0] for r in conn.execute(f"select order_ref from {PLACEMENT_SCORES_TABLE}").fetchall()
        }
    new = orders[~orders["order_ref"].isin(known)]
    scores = placement_scores(new, model_store.get_store())
    with warehouse.connect() as conn:
        conn.register("_placement", scores)
        columns = ", ".join(PLACEMENT_SCORE_COLUMNS)
        conn.execute(
            f"insert into {PLACEMENT_SCORES_TABLE} ({columns}) select {columns} from _placement "
            f"where order_ref not in (select order_ref from {PLACEMENT_SCORES_TABLE})"
        )
        conn.unregister("_placement")
        total = conn.execute(f"select count(*) from {PLACEMENT_SCORES_TABLE}").fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(total),
            "orders_scored_now": len(scores),
            "orders_not_scored": int(len(new) - len(scores)),
            "model_version": ", ".join(sorted(scores["model_version"].unique()))
            if len(scores)
            else "",
        }
    )


@dg.asset(
    deps=[AD_PERFORMANCE, order_placement_scores],
    group_name=ADS_GROUP,
    kinds={"python"},
    description=(
        "The picture of `ad_performance`: delivered revenue vs RTO rate per ad (point size = "
        "orders, bars = the RTO rate's Wilson 95 % interval), the top and bottom three ads by "
        "profit per lead, and the mart as a table, in the materialization's metadata."
    ),
)
def ad_performance_chart(warehouse: WarehouseResource) -> dg.MaterializeResult:
    ads = _read_mart(warehouse, AD_PERFORMANCE_MART)
    png = ad_chart(ads)
    table = ads.assign(ad=ads.apply(ad_label, axis=1) if len(ads) else [])[
        [
            "ad",
            "leads",
            "orders",
            "orders_confirmed",
            "orders_delivered",
            "rto_rate",
            "rto_rate_ci_low",
            "rto_rate_ci_high",
            "delivered_revenue",
            "profit",
            "profit_per_lead",
            "avg_lead_score_at_placement",
        ]
    ].sort_values("profit_per_lead", ascending=False)
    image = base64.b64encode(png).decode()
    return dg.MaterializeResult(
        metadata={
            "ads": len(ads),
            "chart": dg.MetadataValue.md(
                f"![delivered revenue vs RTO rate per ad](data:image/png;base64,{image})"
            ),
            "ranking": dg.MetadataValue.md("\n".join(f"- {line}" for line in ranking_lines(ads))),
            "ads_table": dg.MetadataValue.md(markdown_table(table)),
        }
    )
