"""Carrier choice in Dagster: the recommendation after scoring, the pickup sheets after it.

``carrier_recommendations`` runs after ``order_scores`` (the lead score's probabilities)
and the dbt mart ``carrier_city_delivery_rates`` (fees and shrunk carrier × city delivery
rates); ``dispatch_manifest`` after it and the mart ``orders_to_dispatch``. The logic is
``activations/carrier_choice.py``; these assets move data and show it in the UI.
"""

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from pydantic import Field

from activations.carrier_choice import CarrierEconomics, refresh_carrier_recommendations
from activations.dispatch_manifest import write_dispatch_manifests
from activations.otp import OtpSecretError, otp_secret
from activations.warehouse_tables import (
    CARRIER_RATES_MODEL,
    CARRIER_RECOMMENDATIONS,
    ORDERS_MODEL,
    ORDERS_TO_DISPATCH_MODEL,
)
from common.settings import load_settings
from ml.config import load_lead_score_config
from ml.markdown_tables import markdown_table
from orchestration.defs.activations.resources import ActivationSettings
from orchestration.defs.lead_score.assets import order_scores
from orchestration.defs.transform.assets import cod360_dbt_models
from orchestration.resources import WarehouseResource

CARRIER_CHOICE_GROUP = "carrier_choice"
# Pickups are planned on the warehouse's calendar day.
DISPATCH_TIMEZONE = ZoneInfo("Africa/Casablanca")


def _model_key(name: str) -> dg.AssetKey:
    return get_asset_key_for_model([cod360_dbt_models], name)


@dg.asset(
    deps=[order_scores, _model_key(CARRIER_RATES_MODEL), _model_key(ORDERS_MODEL)],
    group_name=CARRIER_CHOICE_GROUP,
    kinds={"duckdb", "python"},
    description=(
        "For every scored open order and every carrier the rate card offers in its city: "
        "P(delivery | order, carrier, city) — the lead score's probability with the carrier × "
        "city delivery rate swapped in on the log-odds — and the expected profit (margin of "
        "the lead score's unit economics minus forward, COD and return fees). Replaces "
        f"`ml.carrier_options` and `{CARRIER_RECOMMENDATIONS}` (the argmax, the baseline — "
        "carrier assigned, else the city's usual one — the expected gain and a reason)."
    ),
)
def carrier_recommendations(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    economics = CarrierEconomics.from_unit_economics(load_lead_score_config().unit_economics)
    with warehouse.connect() as conn:
        run = refresh_carrier_recommendations(conn, economics, datetime.now(UTC))
        preview = conn.execute(
            f"select order_ref, city, recommended_carrier, baseline_carrier, "
            f"round(expected_gain, 1) as expected_gain, carrier_reason "
            f"from {CARRIER_RECOMMENDATIONS} order by expected_gain desc nulls last limit 10"
        ).df()
    context.log.info(
        f"{run.orders} order(s): {run.differs_from_baseline} recommended away from the baseline "
        f"carrier, +{run.expected_gain_mad:.0f} MAD expected"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": run.orders,
            "carrier_options": run.options,
            "orders_moved_from_baseline": run.differs_from_baseline,
            "expected_gain_mad": dg.MetadataValue.float(round(run.expected_gain_mad, 2)),
            "recommended_by_carrier": dg.MetadataValue.json(run.by_carrier),
            "preview": dg.MetadataValue.md(markdown_table(preview))
            if len(preview)
            else "No open order scored.",
        }
    )


class DispatchManifestConfig(dg.Config):
    """Which day's pickup sheets to write."""

    day: str | None = Field(
        default=None,
        description="YYYY-MM-DD; default today in Africa/Casablanca. The same day and data "
        "rewrite the same files.",
    )


@dg.asset(
    deps=[carrier_recommendations, _model_key(ORDERS_TO_DISPATCH_MODEL)],
    group_name=CARRIER_CHOICE_GROUP,
    kinds={"csv", "python"},
    description=(
        "The day's pickup sheet of every carrier: one CSV per carrier in "
        "`<exports>/dispatch/<day>/<carrier>.csv` (reference, name, phone, city, address, "
        "COD amount, delivery-code flag) of the confirmed orders waiting for pickup, each "
        "with its assigned carrier or else the recommended one. The flag says `yes` on COD "
        "parcels when delivery codes are on (`COD360_OTP_SECRET` set). Re-running the same "
        "day on the same data rewrites the same bytes."
    ),
)
def dispatch_manifest(
    context: dg.AssetExecutionContext,
    config: DispatchManifestConfig,
    warehouse: WarehouseResource,
    activation_settings: ActivationSettings,
) -> dg.MaterializeResult:
    day = date.fromisoformat(config.day) if config.day else datetime.now(DISPATCH_TIMEZONE).date()
    exports = Path(activation_settings.exports_dir or load_settings().data_dir / "exports")
    try:
        otp_secret(activation_settings.otp_secret or None)
        codes_on = True
    except OtpSecretError:
        codes_on = False
    with warehouse.connect() as conn:
        run = write_dispatch_manifests(conn, exports, day, delivery_codes_on=codes_on)
    if run.without_carrier:
        context.log.warning(
            f"{run.without_carrier} order(s) to dispatch have neither an assigned nor a "
            "recommended carrier (not scored yet, or no carrier offered in their city)"
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(run.rows_by_carrier.values()),
            "day": day.isoformat(),
            "folder": dg.MetadataValue.path(str(run.folder)),
            "rows_by_carrier": dg.MetadataValue.json(run.rows_by_carrier),
            "files": dg.MetadataValue.json({k: str(v) for k, v in run.files.items()}),
            "orders_without_carrier": run.without_carrier,
            "delivery_codes_on": codes_on,
        }
    )
