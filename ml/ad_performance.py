"""Ads beside the lead score: each order's score at placement, and the ad ranking's picture.

The ``ad_performance`` mart (dbt) counts leads, deliveries, RTOs and profit per ad; two
things it cannot do in SQL live here:

* the lead score an order had **at placement**: :func:`placement_scores` scores orders as
  of their ``placed_at`` (evidence stamped later is ignored, ``ml.evidence``) with the
  approved version, once per order; the Dagster asset ``order_placement_scores`` appends
  them to ``ml.order_placement_scores``, which the mart reads on its next build;
* the picture: delivered revenue against RTO rate per ad, point size = orders
  (:func:`ad_chart`), and the ranking by profit per lead (:func:`ranking_lines`).
"""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ml.model_lifecycle import score_with_approved
from ml.model_store import ModelStore

AD_PERFORMANCE_MART = "ad_performance"
PLACEMENT_SCORES_TABLE = "ml.order_placement_scores"
PLACEMENT_SCORE_COLUMNS = (
    "order_ref",
    "placed_at",
    "scored_at",
    "model_version",
    "score",
    "band",
    "rto_probability",
)
# The row of orders no ad brought: shown, never ranked as an ad.
UNATTRIBUTED = "unattributed"


def placement_scores(orders: pd.DataFrame, store: ModelStore) -> pd.DataFrame:
    """Each order scored as of its placement (``PLACEMENT_SCORE_COLUMNS``).

    ``orders`` is an ``order_rto_history`` frame (the ML input contract). Rows the contract
    rejects are left out; they are scored on a later run if they become valid.
    """
    if orders.empty:
        return pd.DataFrame(columns=list(PLACEMENT_SCORE_COLUMNS))
    scored = score_with_approved(orders, store, as_of=orders["placed_at"]).scores
    placed = orders.drop_duplicates("order_ref").set_index("order_ref")["placed_at"]
    scored = scored.assign(placed_at=placed.reindex(scored["order_ref"]).to_numpy())
    frame = scored.loc[:, list(PLACEMENT_SCORE_COLUMNS)].copy()
    for column in ("placed_at", "scored_at"):
        # The warehouse's one time type: naive UTC.
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
    return frame.reset_index(drop=True)


def ad_label(row: pd.Series) -> str:
    """A short human name of an ad row: ``tiktok lead form crt_ugc_review_01``."""
    if row["ad_channel"] == UNATTRIBUTED:
        return "unattributed"
    where = "lead form" if row["ad_channel"] == "tiktok_lead_form" else "storefront"
    name = row["ad_name"] if row["ad_name"] != row["ad_id"] else None
    return f"{row['ad_source']} {where} {name or 'ad'} ({row['ad_id']})"


def _ranked(ads: pd.DataFrame, min_leads: int) -> pd.DataFrame:
    ranked = ads[(ads["ad_channel"] != UNATTRIBUTED) & (ads["leads"] >= min_leads)]
    return ranked.sort_values(["profit_per_lead", "ad_key"], ascending=[False, True])


def ranking_lines(ads: pd.DataFrame, n: int = 3, min_leads: int = 1) -> list[str]:
    """The top and bottom ``n`` ads by profit per lead, one line each, with the RTO rate's
    95 % interval (an ad with few resolved parcels reads as the guess it is)."""
    ranked = _ranked(ads, min_leads)
    if ranked.empty:
        return ["no attributed ad yet"]

    def line(row: pd.Series) -> str:
        rto = (
            f"RTO {row['rto_rate']:.0%} [{row['rto_rate_ci_low']:.0%}–{row['rto_rate_ci_high']:.0%}]"
            if pd.notna(row["rto_rate"])
            else "RTO n/a"
        )
        score = (
            f", score at placement {row['avg_lead_score_at_placement']:.0f}"
            if pd.notna(row.get("avg_lead_score_at_placement"))
            else ""
        )
        return (
            f"{ad_label(row)}: {row['profit_per_lead']:+.1f} MAD/lead over {int(row['leads'])} "
            f"leads, {int(row['orders_delivered'])} delivered, {rto}, "
            f"delivered revenue {float(row['delivered_revenue']):,.0f} MAD{score}"
        )

    top = [f"top {i}: {line(r)}" for i, (_, r) in enumerate(ranked.head(n).iterrows(), 1)]
    bottom_rows = ranked.tail(min(n, max(len(ranked) - n, 0))).iloc[::-1]
    bottom = [f"bottom {i}: {line(r)}" for i, (_, r) in enumerate(bottom_rows.iterrows(), 1)]
    return top + bottom


def ad_chart(ads: pd.DataFrame) -> bytes:
    """Delivered revenue vs RTO rate per ad, point size = orders, bars = the RTO rate's
    95 % interval (PNG). Ads without a resolved parcel have no rate and are not drawn, nor
    is the unattributed row (not an ad; it would dwarf the ads' scale)."""
    shown = ads[ads["rto_rate"].notna() & (ads["ad_channel"] != UNATTRIBUTED)]
    figure = Figure(figsize=(8, 5.5), dpi=100)
    axes = figure.add_subplot()
    colours = {"tiktok_lead_form": "#e4405f", "storefront_utm": "#1877f2"}
    names = {"tiktok_lead_form": "TikTok lead form", "storefront_utm": "storefront (UTM)"}
    biggest = max(float(shown["orders"].max()), 1.0) if len(shown) else 1.0
    for channel, group in shown.groupby("ad_channel"):
        x = group["rto_rate"].astype(float)
        y = group["delivered_revenue"].astype(float)
        axes.errorbar(
            x,
            y,
            xerr=[x - group["rto_rate_ci_low"].astype(float), group["rto_rate_ci_high"] - x],
            fmt="none",
            ecolor=colours.get(channel, "black"),
            alpha=0.35,
            linewidth=1,
        )
        axes.scatter(
            x,
            y,
            s=30 + 600 * group["orders"].astype(float) / biggest,
            color=colours.get(channel, "black"),
            alpha=0.6,
            edgecolors="white",
            label=names.get(channel, channel),
        )
        for _, row in group.iterrows():
            axes.annotate(
                f"{row['ad_source']} {row['ad_name'] or row['ad_id']}",
                (float(row["rto_rate"]), float(row["delivered_revenue"])),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
    axes.set_xlabel("RTO rate (returned / resolved), bars: Wilson 95 % interval")
    axes.set_ylabel("delivered revenue (MAD)")
    axes.set_title("Ads: delivered revenue vs RTO rate (point size = orders)")
    axes.set_xlim(0, 1)
    axes.grid(alpha=0.3)
    if len(shown):
        axes.legend(loc="upper right", fontsize="small")
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
