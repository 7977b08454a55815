"""The storefront pulls domain: the configured stores' pull assets, resources, job and schedule."""

import dagster as dg

from connectors.storefronts.config import load_stores
from orchestration.defs.storefront_pulls.assets import storefront_pull_definitions
from orchestration.defs.storefront_pulls.schedules import storefront_pull_schedule_definitions


@dg.definitions
def storefront_pulls() -> dg.Definitions:
    stores = load_stores()
    return dg.Definitions.merge(
        storefront_pull_definitions(stores), storefront_pull_schedule_definitions(stores)
    )
