"""The carrier pulls domain: the configured accounts' pull assets, resources, job and schedule."""

import dagster as dg

from connectors.carriers.config import load_accounts
from orchestration.defs.carrier_pulls.assets import carrier_pull_definitions
from orchestration.defs.carrier_pulls.instructions import carrier_instruction_definitions
from orchestration.defs.carrier_pulls.parcels import carrier_parcel_definitions
from orchestration.defs.carrier_pulls.schedules import carrier_pull_schedule_definitions


@dg.definitions
def carrier_pulls() -> dg.Definitions:
    accounts = load_accounts()
    return dg.Definitions.merge(
        carrier_pull_definitions(accounts),
        carrier_instruction_definitions(accounts),
        carrier_parcel_definitions(accounts),
        carrier_pull_schedule_definitions(accounts),
    )
