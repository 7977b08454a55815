"""One asset per configured store: pull its new and updated orders into the landing folder.

The stores come from ``connectors/storefronts/stores.yml`` (or the file named by
``COD360_STOREFRONT_STORES``), so a brand with three shops sees three assets,
``storefront_pulls/<platform>/<store>``, each with its own resource
``storefront_<store>`` whose URL and credentials are ``dg.EnvVar``.

A pull asset writes landing files, which the raw ingestion asset of its platform
(``raw/<platform>_orders``) loads like any other landing file; that asset declares
the pulls as its ``deps`` (``orchestration/defs/ingestion/assets.py``), so the pull
job (``schedules.py``) runs the pulls first and the lineage joins up.
"""

import dagster as dg

from connectors.ingestion import SOURCES_BY_NAME
from connectors.storefronts.base import StorefrontPullError
from connectors.storefronts.base import iso_utc as _iso
from connectors.storefronts.config import StoreConfig
from connectors.storefronts.resources import resource_for_store, resource_key
from connectors.storefronts.state import store_dir
from orchestration.resources import WarehouseResource

STOREFRONT_PULLS_GROUP = "storefront_pulls"


def pull_asset_key(store: StoreConfig) -> dg.AssetKey:
    return dg.AssetKey([STOREFRONT_PULLS_GROUP, store.platform, store.name])


def raw_orders_key(platform: str) -> dg.AssetKey | None:
    """The raw ingestion asset that loads a platform's orders, if ingestion has one yet."""
    source = SOURCES_BY_NAME.get(f"{platform}_orders")
    return dg.AssetKey(["raw", source.raw_table]) if source else None


def build_pull_asset(store: StoreConfig) -> dg.AssetsDefinition:
    """The asset that pulls one store (see the module docstring)."""
    raw = raw_orders_key(store.platform)
    loaded_by = f"`{raw.to_user_string()}`" if raw else "no raw table yet (ingestion to add)"
    settings = ", ".join(f"`{store.env_var(s)}`" for s, _, _ in store.settings())

    @dg.asset(
        key=pull_asset_key(store),
        group_name=STOREFRONT_PULLS_GROUP,
        kinds={"python", store.platform},
        required_resource_keys={resource_key(store), "warehouse"},
        description=(
            f"Pulls the {store.platform} store `{store.name}`: orders updated since its "
            f"high-water mark (minus {store.overlap_minutes:g} minutes of overlap; every order "
            f"on the first run) land as raw {store.platform} objects in "
            f"`orders/{store.platform}/{store.name}/pull_*.jsonl`, loaded by {loaded_by}. "
            f"Settings: {settings}."
        ),
        metadata={"store": store.name, "platform": store.platform},
    )
    def _pull(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        resource = getattr(context.resources, resource_key(store))
        warehouse: WarehouseResource = context.resources.warehouse
        try:
            report = resource.pull(store.ref(), warehouse.landing_path, log=context.log.info)
        except StorefrontPullError as exc:
            # The message names the store and what to fix; a stack trace would add nothing.
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        mark = report.mark_after
        return dg.MaterializeResult(
            metadata={
                "backfill": report.backfill,
                "pages": report.pages,
                "orders_read": report.orders_read,
                "snapshots_landed": report.snapshots_landed,
                "already_landed": report.already_landed,
                "files": dg.MetadataValue.json(report.files),
                "high_water_mark": _iso(mark.updated_at) if mark else "none",
                "landing_folder": str(
                    store_dir(warehouse.landing_path, store.platform, store.name)
                ),
            }
        )

    return _pull


def storefront_pull_definitions(stores: list[StoreConfig]) -> dg.Definitions:
    """Assets and resources for ``stores`` (the schedule is in ``schedules.py``)."""
    return dg.Definitions(
        assets=[build_pull_asset(store) for store in stores],
        resources={resource_key(store): resource_for_store(store) for store in stores},
    )
