"""Campaign measurement: treated vs holdout with confidence intervals, and the message funnel."""

import base64
from collections.abc import Sequence

import dagster as dg

from activations.campaign_planning import naive, utc_now
from activations.measurement import campaign_results, template_funnel
from activations.results_chart import campaign_results_chart
from orchestration.defs.activations.common import (
    ACTIVATIONS_GROUP,
    INBOUND_KEY,
    ORDERS_KEY,
    WHATSAPP_WEBHOOKS_KEY,
    activation_key,
)
from orchestration.resources import WarehouseResource


def _fmt(rate, low, high) -> str:
    if rate is None or rate != rate:  # None or NaN
        return "-"
    return f"{rate:.1%} [{low:.1%}, {high:.1%}]"


def _results_markdown(frame) -> str:
    if frame.empty:
        return "No campaign has treated and measured members yet."
    lines = [
        "| campaign | variant | metric | treated (95 % CI) | holdout (95 % CI) | lift (95 % CI) |",
        "|---|---|---|---|---|---|",
    ]
    for r in frame.itertuples():
        lift = (
            "-"
            if r.lift is None or r.lift != r.lift
            else (f"{r.lift:+.1%} [{r.lift_ci_low:+.1%}, {r.lift_ci_high:+.1%}]")
        )
        lines.append(
            f"| {r.campaign_id} | {r.variant} | {r.metric} "
            f"| {_fmt(r.treated_rate, r.treated_ci_low, r.treated_ci_high)} (n={r.treated_denominator}) "
            f"| {_fmt(r.holdout_rate, r.holdout_ci_low, r.holdout_ci_high)} (n={r.holdout_denominator}) "
            f"| {lift} |"
        )
    return "\n".join(lines)


def _funnel_markdown(frame) -> str:
    if frame.empty:
        return "No message yet."
    columns = ["campaign_id", "variant", "template_name", "queued", "sent", "delivered", "read",
               "replied", "failed"]  # fmt: skip
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame[columns].itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def _chart_markdown(png: bytes | None) -> str:
    if png is None:
        return "No campaign has treated and measured members yet."
    encoded = base64.b64encode(png).decode()
    return f"![treated vs holdout, 95 % intervals](data:image/png;base64,{encoded})"


def build_campaign_results_asset(send_keys: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=activation_key("campaign_results"),
        group_name=ACTIVATIONS_GROUP,
        deps=[*send_keys, ORDERS_KEY, INBOUND_KEY, WHATSAPP_WEBHOOKS_KEY],
        kinds={"duckdb", "python"},
        tags={"cod360/activation": "measurement"},
    )
    def campaign_results_asset(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        """Per campaign and variant, treated vs holdout: delivery rate, RTO rate, confirmation
        rate and repeat purchase with 95 % Wilson intervals and a Newcombe interval on the lift
        (`activations.campaign_results`); and the message funnel per template
        (`activations.template_funnel`); the results as a picture too (treated vs holdout
        with their intervals, per variant: `activations/results_chart.py`). Method:
        `activations/measurement.py`."""
        now = naive(utc_now())
        with warehouse.connect() as conn:
            results = campaign_results(conn, now)
            funnel = template_funnel(conn, now)
        return dg.MaterializeResult(
            metadata={
                "results": dg.MetadataValue.md(_results_markdown(results)),
                "results_chart": dg.MetadataValue.md(
                    _chart_markdown(campaign_results_chart(results))
                ),
                "funnel": dg.MetadataValue.md(_funnel_markdown(funnel)),
                "dagster/row_count": len(results),
            }
        )

    return campaign_results_asset
