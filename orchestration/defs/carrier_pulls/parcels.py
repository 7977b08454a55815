"""One asset per account that opted in: create the parcels of the orders given to its carrier.

An account with ``create_parcels: true`` in ``accounts.yml`` gets an asset
``carrier_parcels/<carrier>/<account>``, after the carrier recommendation. It takes the
confirmed orders waiting for pickup (mart ``orders_to_dispatch``) whose carrier — the one
assigned, else the recommended one (``ml.carrier_recommendations``) — is the account's,
and creates each parcel through the API (:func:`connectors.carriers.instructions.create_parcel`):
once per order, recorded in the operational store before the call, carrying the
delivery-code instruction when the account also has ``delivery_code_instruction: true``.
A city without a wilaya code in the account's ``wilaya_codes`` is not sent (counted and
logged). Accounts that did not opt in get no asset, so nothing is created by default.
"""

from collections import Counter

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from activations.dispatch_manifest import manifest_rows
from activations.warehouse_tables import ORDERS_TO_DISPATCH_MODEL
from connectors.carriers.config import CarrierAccount
from connectors.carriers.instructions import (
    DELIVERY_CODE_INSTRUCTION,
    InstructionStore,
    create_parcel,
    outcome_counts,
)
from connectors.carriers.parcels import ParcelRequest
from connectors.carriers.resources import resource_key
from orchestration.defs.carrier_choice.assets import carrier_recommendations
from orchestration.defs.transform.assets import cod360_dbt_models
from orchestration.resources import WarehouseResource

CARRIER_PARCELS_GROUP = "carrier_parcels"


def parcel_asset_key(account: CarrierAccount) -> dg.AssetKey:
    return dg.AssetKey([CARRIER_PARCELS_GROUP, account.carrier, account.name])


def parcel_request(row: dict, wilaya_code: int) -> ParcelRequest:
    """A pickup-sheet row as the vendor-neutral parcel (first word of the name = first name)."""
    first, _, last = (row["name"] or "").strip().partition(" ")
    return ParcelRequest(
        order_ref=row["reference"],
        first_name=first,
        last_name=last,
        phone=row["phone"] or "",
        address=row["address"] or "",
        commune=row["city"] or "",
        wilaya_name=row["city"] or "",
        wilaya_code=wilaya_code,
        amount=float(row["cod_amount"] or 0),
        products="",
    )


def build_parcel_asset(account: CarrierAccount) -> dg.AssetsDefinition:
    instruction = DELIVERY_CODE_INSTRUCTION if account.delivery_code_instruction else ""

    @dg.asset(
        key=parcel_asset_key(account),
        group_name=CARRIER_PARCELS_GROUP,
        deps=[
            carrier_recommendations,
            get_asset_key_for_model([cod360_dbt_models], ORDERS_TO_DISPATCH_MODEL),
        ],
        kinds={"python", account.api},
        required_resource_keys={resource_key(account), "warehouse"},
        description=(
            f"Creates, through {account.api} (account `{account.name}`), the parcel of every "
            f"confirmed order waiting for pickup whose carrier (assigned, else recommended) is "
            f"`{account.carrier}`, once per order"
            + (", with the delivery-code instruction" if instruction else "")
            + "; every outcome is a row in the operational store (docs/carriers.md)."
        ),
        metadata={"account": account.name, "carrier": account.carrier, "api": account.api},
    )
    def _create(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        resource = getattr(context.resources, resource_key(account))
        warehouse: WarehouseResource = context.resources.warehouse
        with warehouse.connect(read_only=True) as conn:
            rows = manifest_rows(conn, delivery_codes_on=bool(instruction))
        mine = rows[rows["carrier"] == account.carrier].to_dict("records")
        store = InstructionStore()
        outcomes: Counter[str] = Counter()
        without_code = []
        with resource.client(account) as client:
            for row in mine:
                code = account.wilaya_codes.get(row["city"] or "")
                if code is None:
                    without_code.append(row["reference"])
                    continue
                before = store.get(account.name, row["reference"])
                record = create_parcel(
                    store, client, account, parcel_request(row, code), instruction
                )
                outcomes["already_recorded" if before else record.status] += 1
        if without_code:
            context.log.warning(
                f"{account.name}: {len(without_code)} order(s) in a city without a wilaya code "
                f"in accounts.yml, not sent: {', '.join(without_code[:10])}"
            )
        return dg.MaterializeResult(
            metadata={
                "orders": len(mine),
                **outcome_counts(outcomes),
                "city_without_wilaya_code": len(without_code),
                "store": str(store.path),
            }
        )

    return _create


def carrier_parcel_definitions(accounts: list[CarrierAccount]) -> dg.Definitions:
    """The parcel-creation assets of the accounts that opted in (resources: ``assets.py``)."""
    return dg.Definitions(assets=[build_parcel_asset(a) for a in accounts if a.create_parcels])
