"""One asset per configured carrier API account: pull its tracking into the landing folder.

The accounts come from ``connectors/carriers/accounts.yml`` (or the file named by
``COD360_CARRIER_ACCOUNTS``); the shipped file lists none, so a fresh install has no
carrier pull asset and calls no carrier. Each account is an asset
``carrier_pulls/<carrier>/<account>`` with its own resource ``carrier_<account>`` whose
base URL and secrets are ``dg.EnvVar`` (``COD360_CARRIER_<ACCOUNT>_<SETTING>``).

The pull lands envelope lines in ``tracking/<carrier>/<account>/pull_*.jsonl``, which the
raw ingestion asset ``raw/carrier_tracking_events`` loads like any carrier file; that asset
declares these pulls as its ``deps`` (``orchestration/defs/ingestion/assets.py``), so the
carrier pull job runs the pulls first and the lineage joins up.
"""

import dagster as dg

from connectors.carriers.config import CarrierAccount
from connectors.carriers.resources import (
    TRACKING_ROOT,
    resource_for_account,
    resource_key,
)
from connectors.storefronts.base import StorefrontPullError
from connectors.storefronts.base import iso_utc as _iso
from connectors.storefronts.state import store_dir
from orchestration.resources import WarehouseResource

CARRIER_PULLS_GROUP = "carrier_pulls"
RAW_TRACKING_KEY = dg.AssetKey(["raw", "carrier_tracking_events"])


def pull_asset_key(account: CarrierAccount) -> dg.AssetKey:
    return dg.AssetKey([CARRIER_PULLS_GROUP, account.carrier, account.name])


def build_carrier_pull_asset(account: CarrierAccount) -> dg.AssetsDefinition:
    """The asset that pulls one carrier account (see the module docstring)."""
    settings = ", ".join(f"`{account.env_var(s)}`" for s, _, _ in account.settings())
    folder = f"{TRACKING_ROOT}/{account.carrier}/{account.name}"

    @dg.asset(
        key=pull_asset_key(account),
        group_name=CARRIER_PULLS_GROUP,
        kinds={"python", account.api},
        required_resource_keys={resource_key(account), "warehouse"},
        description=(
            f"Pulls the {account.api} account `{account.name}` (carrier `{account.carrier}`): "
            f"tracking events since its high-water mark (minus {account.overlap_minutes:g} "
            f"minutes of overlap; everything the API lists on the first run) land in the "
            f"carrier envelope in `{folder}/pull_*.jsonl`, loaded by "
            f"`{RAW_TRACKING_KEY.to_user_string()}`. Settings: {settings}."
        ),
        metadata={"account": account.name, "carrier": account.carrier, "api": account.api},
    )
    def _pull(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        resource = getattr(context.resources, resource_key(account))
        warehouse: WarehouseResource = context.resources.warehouse
        try:
            report = resource.pull(account, warehouse.landing_path, log=context.log.info)
        except StorefrontPullError as exc:
            # The message names the account and what to fix; a stack trace would add nothing.
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        mark = report.mark_after
        return dg.MaterializeResult(
            metadata={
                "backfill": report.backfill,
                "pages": report.pages,
                "events_read": report.orders_read,
                "events_landed": report.snapshots_landed,
                "already_landed": report.already_landed,
                "files": dg.MetadataValue.json(report.files),
                "high_water_mark": _iso(mark.updated_at) if mark else "none",
                "landing_folder": str(
                    store_dir(warehouse.landing_path, account.carrier, account.name, TRACKING_ROOT)
                ),
            }
        )

    return _pull


def carrier_pull_definitions(accounts: list[CarrierAccount]) -> dg.Definitions:
    """Assets and resources for ``accounts`` (the schedule is in ``schedules.py``)."""
    return dg.Definitions(
        assets=[build_carrier_pull_asset(a) for a in accounts],
        resources={resource_key(a): resource_for_account(a) for a in accounts},
    )
