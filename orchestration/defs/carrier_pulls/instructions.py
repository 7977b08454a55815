"""One asset per account that opted in: tell the carrier which dispatched parcels need a code.

An account with ``delivery_code_instruction: true`` in ``accounts.yml`` gets an asset
``carrier_instructions/<carrier>/<account>``. It reads the ``orders`` mart for the open
parcels the account's carrier holds (``order_status`` dispatched, in transit or out for
delivery, a tracking number) and, for each, sends the delivery-code requirement through
the carrier's field (:func:`connectors.carriers.instructions.instruct_parcel`): once per
parcel, recorded in the operational store. Accounts that did not opt in get no asset,
so nothing is sent by default.
"""

from collections import Counter

import dagster as dg

from activations.warehouse_tables import ORDERS_MODEL
from common.marts import mart, mart_exists
from connectors.carriers.config import CarrierAccount
from connectors.carriers.instructions import InstructionStore, instruct_parcel, outcome_counts
from connectors.carriers.resources import resource_key
from orchestration.defs.activations.common import ORDERS_KEY
from orchestration.resources import WarehouseResource

CARRIER_INSTRUCTIONS_GROUP = "carrier_instructions"
# The carrier has the parcel and has not delivered it yet: the courier must know.
STATUSES_TO_INSTRUCT = ("dispatched", "in_transit", "out_for_delivery")


def instruction_asset_key(account: CarrierAccount) -> dg.AssetKey:
    return dg.AssetKey([CARRIER_INSTRUCTIONS_GROUP, account.carrier, account.name])


def parcels_to_instruct(conn, carrier: str) -> list[tuple[str, str]]:
    """(order_ref, tracking_number) of the carrier's open parcels not yet delivered."""
    orders = mart(ORDERS_MODEL)
    if not mart_exists(conn, orders):
        return []
    placeholders = ", ".join("?" for _ in STATUSES_TO_INSTRUCT)
    return conn.execute(
        f"""
        select order_ref, tracking_number from {orders}
        where outcome = 'open' and lower(carrier) = ? and tracking_number is not null
            and order_status in ({placeholders})
        order by order_ref
        """,
        [carrier, *STATUSES_TO_INSTRUCT],
    ).fetchall()


def build_instruction_asset(account: CarrierAccount) -> dg.AssetsDefinition:
    @dg.asset(
        key=instruction_asset_key(account),
        group_name=CARRIER_INSTRUCTIONS_GROUP,
        deps=[ORDERS_KEY],
        kinds={"python", account.api},
        required_resource_keys={resource_key(account), "warehouse"},
        description=(
            f"Tells {account.api} (account `{account.name}`) that a delivery code is required "
            f"for each open `{account.carrier}` parcel of the orders mart "
            f"({', '.join(STATUSES_TO_INSTRUCT)}), through the API's field where it has one, "
            "once per parcel; every outcome is a row in the operational store "
            "(docs/carriers.md)."
        ),
        metadata={"account": account.name, "carrier": account.carrier, "api": account.api},
    )
    def _instruct(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        resource = getattr(context.resources, resource_key(account))
        warehouse: WarehouseResource = context.resources.warehouse
        with warehouse.connect(read_only=True) as conn:
            parcels = parcels_to_instruct(conn, account.carrier)
        store = InstructionStore()
        outcomes: Counter[str] = Counter()
        with resource.client(account) as client:
            for order_ref, tracking in parcels:
                before = store.get(account.name, order_ref)
                record = instruct_parcel(store, client, account, order_ref, tracking)
                outcomes["already_recorded" if before else record.status] += 1
        context.log.info(
            f"{account.name}: {len(parcels)} parcels to instruct: "
            + (", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "none")
        )
        return dg.MaterializeResult(
            metadata={
                "parcels": len(parcels),
                **outcome_counts(outcomes),
                "store": str(store.path),
            }
        )

    return _instruct


def carrier_instruction_definitions(accounts: list[CarrierAccount]) -> dg.Definitions:
    """The instruction assets of the accounts that opted in (resources: ``assets.py``)."""
    return dg.Definitions(
        assets=[build_instruction_asset(a) for a in accounts if a.delivery_code_instruction]
    )
