"""Campaign results as a picture: treated vs holdout, with 95 % intervals, per variant.

One panel per campaign; one row per metric and group (the holdout, then each template
variant and the variants pooled), a dot at the rate and a whisker over its 95 % Wilson
interval (activations/measurement.py computes both). A lift shows as treated dots
standing clear of the holdout's whisker. Drawn on matplotlib's Agg canvas directly (no
pyplot, no global backend), as ml/evaluation_charts.py does, so it renders in a Dagster
worker without a display.
"""

from __future__ import annotations

import io
import math

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from activations.measurement import ALL_VARIANTS, METRICS

HOLDOUT_COLOUR = "#7f7f7f"
VARIANT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
POOLED_COLOUR = "#000000"


def _known(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _rows(frame: pd.DataFrame) -> list[tuple[str, str, float, float, float, int, str]]:
    """``(metric, group label, rate, low, high, n, colour)`` top to bottom, for one campaign."""
    out = []
    variants = sorted(v for v in frame["variant"].unique() if v != ALL_VARIANTS)
    colours = {v: VARIANT_COLOURS[i % len(VARIANT_COLOURS)] for i, v in enumerate(variants)}
    for metric in METRICS:
        rows = frame[frame["metric"] == metric]
        if rows.empty:
            continue
        holdout = rows.iloc[0]
        if _known(holdout.holdout_rate):
            out.append((metric, "holdout", holdout.holdout_rate, holdout.holdout_ci_low,
                        holdout.holdout_ci_high, int(holdout.holdout_denominator), HOLDOUT_COLOUR))  # fmt: skip
        pooled = rows[rows["variant"] == ALL_VARIANTS]
        # With a single variant the pooled row repeats it: drawn once.
        shown = [*variants, *([ALL_VARIANTS] if len(variants) > 1 else [])]
        for variant in shown:
            row = rows[rows["variant"] == variant] if variant != ALL_VARIANTS else pooled
            if row.empty or not _known(row.iloc[0].treated_rate):
                continue
            r = row.iloc[0]
            label = "all variants" if variant == ALL_VARIANTS else f"variant {variant}"
            out.append((metric, label, r.treated_rate, r.treated_ci_low, r.treated_ci_high,
                        int(r.treated_denominator), colours.get(variant, POOLED_COLOUR)))  # fmt: skip
    return out


def campaign_results_chart(results: pd.DataFrame) -> bytes | None:
    """The PNG of :func:`activations.measurement.campaign_results`; ``None`` when no
    campaign has a measured group yet."""
    if results.empty:
        return None
    panels = []
    for campaign in sorted(results["campaign_id"].unique()):
        rows = _rows(results[results["campaign_id"] == campaign])
        if rows:
            panels.append((campaign, rows))
    if not panels:
        return None
    heights = [0.6 + 0.28 * len(rows) for _, rows in panels]
    figure = Figure(figsize=(8, 0.4 + sum(heights)), dpi=100)
    grid = figure.add_gridspec(len(panels), 1, height_ratios=heights)
    for i, (campaign, rows) in enumerate(panels):
        axes = figure.add_subplot(grid[i])
        positions = list(range(len(rows)))[::-1]
        for y, (_metric, _label, rate, low, high, _n, colour) in zip(positions, rows, strict=True):
            if _known(low) and _known(high):
                axes.plot([low, high], [y, y], color=colour, linewidth=2, solid_capstyle="butt")
            axes.plot([rate], [y], marker="o", color=colour, markersize=6)
        axes.set_yticks(positions)
        axes.set_yticklabels(
            [f"{metric} · {label} (n={n})" for metric, label, _r, _l, _h, n, _c in rows],
            fontsize="small",
        )
        for i in range(1, len(rows)):  # a thin line between metrics
            if rows[i][0] != rows[i - 1][0]:
                axes.axhline(positions[i] + 0.5, color="#dddddd", linewidth=0.8)
        axes.set_xlim(0, 1)
        axes.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0%}")
        axes.grid(axis="x", color="#eeeeee")
        axes.set_title(f"{campaign}: treated vs holdout, 95 % intervals", fontsize="medium")
    figure.tight_layout()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
