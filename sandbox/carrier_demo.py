"""The demo's carrier APIs: parcels created through Yalidine and EcoTrack, their scans pulled back.

The sample store ships with Moroccan carriers, which publish no API (docs/carriers.md):
their tracking arrives as files. The two carrier APIs cod360 speaks (Yalidine / Guepex
and the EcoTrack platform) are exercised beside them, the way an operator would use
them, against their contract servers on loopback:

1. a few open orders that no carrier holds yet are handed to two demo accounts
   (``yalidine_demo``, ``dhd_demo`` on EcoTrack) by the product's own
   :func:`connectors.carriers.instructions.create_parcel`: the parcel carries the
   delivery-code requirement where the API has a field for it (EcoTrack's
   ``remarque``) and the instruction store records every outcome (Yalidine:
   ``unsupported``, with the reason);
2. the servers then scan those parcels (picked up, in transit, out for delivery, some
   delivered) at the sample store's simulated time;
3. the accounts are configured by environment only (``COD360_CARRIER_ACCOUNTS`` and
   ``COD360_CARRIER_<NAME>_…``), so the Dagster assets ``carrier_pulls/…`` exist for the
   run and pull those scans through the clients into the landing folder, and
   ``raw/carrier_tracking_events`` loads them.

Both APIs are Algerian: their servers accept only wilaya codes 1–58 and Algerian
commune names, so the demo gives each Moroccan order a demo wilaya by its zone
(:data:`DEMO_WILAYA_BY_ZONE`) — a sandbox mapping, not product code: a real account
ships within its carrier's country. A re-run creates no parcel twice: the instruction
store is keyed by (account, order reference) and the demo hands parcels over once.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from activations.warehouse_tables import ORDERS_MODEL, relation_exists
from common.marts import mart
from common.warehouse import connect, table_exists
from connectors.carriers.config import ACCOUNTS_FILE_ENV, CarrierAccount
from connectors.carriers.instructions import InstructionStore, create_parcel
from connectors.carriers.parcels import ParcelRequest
from connectors.carriers.resources import EcoTrackPullResource, YalidinePullResource
from sandbox.contract_servers import serve
from sandbox.contract_servers.ecotrack import EcoTrackContractServer
from sandbox.contract_servers.yalidine import YalidineContractServer
from sandbox.sample_store import world

YALIDINE = CarrierAccount(name="yalidine_demo", api="yalidine", carrier="yalidine")
ECOTRACK = CarrierAccount(
    name="dhd_demo", api="ecotrack", carrier="dhd", delivery_code_instruction=True
)
DEMO_ACCOUNTS = (YALIDINE, ECOTRACK)
PARCELS_PER_ACCOUNT = 6
# Sandbox only (module docstring): the Algerian servers' wilaya for a Moroccan zone.
DEMO_WILAYA_BY_ZONE = {
    "centre": (16, "Alger", "Bab Ezzouar"),
    "north": (31, "Oran", "Bir El Djir"),
    "east": (25, "Constantine", "El Khroub"),
    "south": (30, "Ouargla", "Hassi Messaoud"),
}
# The scans each parcel gets, hours after it was handed over: the Yalidine status, the
# EcoTrack activity key and the EcoTrack list status it leaves.
SCANS = (
    (2, "Vers Wilaya", "picked", "en_ramassage"),
    (9, "Centre", "picked", "vers_wilaya"),
    (20, "Sorti en livraison", "dispatched_to_driver", "en_livraison"),
)
DELIVERED = ("Livré", "livred", "livre_non_encaisse")
SCAN_SPAN = timedelta(hours=36)
FAILED = ("Tentative échouée", "attempt_delivery", "suspendu")


@dataclass
class CarrierDemo:
    """The servers, the env that points the accounts at them, and what was handed over."""

    yalidine: YalidineContractServer
    ecotrack: EcoTrackContractServer
    env: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    created: Counter = field(default_factory=Counter)  # (account, status) -> parcels


def accounts_file(folder: Path) -> Path:
    """The demo's accounts file (both accounts; the instruction switched on for EcoTrack)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "carrier_accounts.yml"
    entries = [
        a.model_dump(include={"name", "api", "carrier", "delivery_code_instruction"})
        for a in DEMO_ACCOUNTS
    ]
    path.write_text(yaml.safe_dump({"accounts": entries}, sort_keys=False), encoding="utf-8")
    return path


def demo_env(folder: Path, urls: dict[str, str], tokens: dict[str, str]) -> dict[str, str]:
    return {
        ACCOUNTS_FILE_ENV: str(accounts_file(folder)),
        YALIDINE.env_var("base_url"): urls["yalidine"],
        YALIDINE.env_var("api_id"): tokens["yalidine_id"],
        YALIDINE.env_var("api_token"): tokens["yalidine_token"],
        ECOTRACK.env_var("base_url"): urls["ecotrack"],
        ECOTRACK.env_var("token"): tokens["ecotrack"],
    }


def orders_to_hand_over(warehouse: Path, store: InstructionStore) -> list[tuple]:
    """Open orders no carrier holds yet, oldest first; none if the demo already did it."""
    if any(r.account in {a.name for a in DEMO_ACCOUNTS} for r in store.records()):
        return []
    with connect(warehouse, read_only=True) as conn:
        orders = mart(ORDERS_MODEL)
        if not relation_exists(conn, orders):
            return []
        return conn.execute(
            f"""
            select order_ref, customer_name, customer_phone, city, total_amount, placed_at
            from {orders}
            where outcome = 'open' and tracking_number is null and carrier is null
                and customer_phone is not null
            order by placed_at, order_ref
            limit ?
            """,
            [PARCELS_PER_ACCOUNT * len(DEMO_ACCOUNTS)],
        ).fetchall()


def _parcel(row: tuple) -> ParcelRequest:
    order_ref, name, phone, city, amount, _placed = row
    first, _, last = (name or "Client").partition(" ")
    zone = next((c.zone for c in world.CITIES if c.name == city), "centre")
    code, wilaya, commune = DEMO_WILAYA_BY_ZONE.get(zone, DEMO_WILAYA_BY_ZONE["centre"])
    return ParcelRequest(
        order_ref=order_ref,
        first_name=first,
        last_name=last or first,
        # The servers check Algerian formats (9–10 digits): the national number.
        phone="0" + str(phone)[-9:],
        address=f"{city or 'ville inconnue'} (adresse de la commande)",
        commune=commune,
        wilaya_name=wilaya,
        wilaya_code=code,
        amount=float(amount or 0),
        products="commande cod360",
    )


def hand_over_parcels(
    demo: CarrierDemo,
    warehouse: Path,
    store: InstructionStore,
    now: datetime,
    *,
    yalidine: YalidinePullResource,
    ecotrack: EcoTrackPullResource,
) -> None:
    """Create the parcels through the APIs, then script the couriers' scans."""
    rows = orders_to_hand_over(warehouse, store)
    for index, row in enumerate(rows):
        account, resource = (YALIDINE, yalidine) if index % 2 == 0 else (ECOTRACK, ecotrack)
        with resource.client(account) as client:
            record = create_parcel(store, client, account, _parcel(row))
        demo.created[(account.name, record.status)] += 1
        if record.tracking_number:
            # The scans end by the store's clock: an event stamped after the load time is
            # quarantined by ingestion (as it should be), so they start 36 h before it.
            _scan(demo, account, record.tracking_number, now - SCAN_SPAN, outcome=index % 5)


def _scan(demo: CarrierDemo, account: CarrierAccount, tracking: str, now: datetime, outcome: int):
    events = list(SCANS)
    if outcome == 0:
        events.append((30, *DELIVERED))
    elif outcome == 1:
        events.append((30, *FAILED))
    for hours, yalidine_word, ecotrack_word, list_status in events:
        at = now + timedelta(hours=hours)
        if account.api == "yalidine":
            demo.yalidine.add_history(
                [
                    {
                        "tracking": tracking,
                        "status": yalidine_word,
                        "date_status": at.strftime("%Y-%m-%d %H:%M:%S"),
                        "reason": "Client injoignable" if yalidine_word == FAILED[0] else "",
                        "center_name": "",
                        "wilaya_name": "",
                    }
                ]
            )
        else:
            demo.ecotrack.add_activity(
                tracking, ecotrack_word, at.strftime("%Y-%m-%d %H:%M:%S"), list_status=list_status
            )


def simulated_datetime(seconds: float | None) -> datetime:
    return (
        datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
        if seconds is not None
        else datetime.now(UTC).replace(tzinfo=None)
    )


@contextmanager
def carrier_demo(data_dir: Path, now_seconds: float | None) -> Iterator[CarrierDemo]:
    """Both carrier contract servers on 127.0.0.1; yields them with the env of the accounts."""
    now = simulated_datetime(now_seconds)
    tokens = {name: secrets.token_urlsafe(24) for name in ("yalidine_id", "ecotrack")}
    tokens["yalidine_token"] = secrets.token_urlsafe(32)
    demo = CarrierDemo(
        yalidine=YalidineContractServer(
            api_id=tokens["yalidine_id"], api_token=tokens["yalidine_token"]
        ),
        # EcoTrack stamps a created parcel at noon of its `today`: the day before the scans
        # begin, so the creation comes first in the parcel's history, as at a real courier.
        ecotrack=EcoTrackContractServer(
            token=tokens["ecotrack"], today=(now - SCAN_SPAN - timedelta(days=1)).date()
        ),
    )
    with serve(demo.yalidine) as yalidine_url, serve(demo.ecotrack) as ecotrack_url:
        # The APIs' own base paths (docs/carriers.md): /v1/ and /api/v1/.
        demo.urls = {"yalidine": f"{yalidine_url}/v1/", "ecotrack": f"{ecotrack_url}/api/v1/"}
        demo.env = demo_env(data_dir, demo.urls, tokens)
        demo.now = now
        yield demo


def demo_resources(demo: CarrierDemo) -> dict[str, YalidinePullResource | EcoTrackPullResource]:
    """Each demo account's resource with the values its environment variables hold (what
    Dagster resolves from ``resource_for_account``'s ``EnvVar``s in the pull assets)."""
    env = demo.env
    return {
        YALIDINE.name: YalidinePullResource(
            base_url=env[YALIDINE.env_var("base_url")],
            api_id=env[YALIDINE.env_var("api_id")],
            api_token=env[YALIDINE.env_var("api_token")],
        ),
        ECOTRACK.name: EcoTrackPullResource(
            base_url=env[ECOTRACK.env_var("base_url")], token=env[ECOTRACK.env_var("token")]
        ),
    }


def hand_over(demo: CarrierDemo, warehouse: Path, store: InstructionStore | None = None) -> None:
    """:func:`hand_over_parcels` with clients configured the way the pull assets are."""
    resources = demo_resources(demo)
    hand_over_parcels(
        demo,
        warehouse,
        store or InstructionStore(),
        demo.now,
        yalidine=resources[YALIDINE.name],  # type: ignore[arg-type]
        ecotrack=resources[ECOTRACK.name],  # type: ignore[arg-type]
    )


def pull_and_instruct_keys() -> list[str]:
    """The asset keys the demo's second pass adds: both pulls, the raw table, the instruction."""
    return [
        *(f"carrier_pulls/{a.carrier}/{a.name}" for a in DEMO_ACCOUNTS),
        "raw/carrier_tracking_events",
        *(
            f"carrier_instructions/{a.carrier}/{a.name}"
            for a in DEMO_ACCOUNTS
            if a.delivery_code_instruction
        ),
    ]


def carrier_lines(warehouse: Path, store: InstructionStore | None = None) -> list[str]:
    """The summary: parcels per account and instruction status, scans pulled per carrier."""
    records = [
        r
        for r in (store or InstructionStore()).records()
        if r.account in {a.name for a in DEMO_ACCOUNTS}
    ]
    by = Counter((r.account, r.status) for r in records)
    lines = ["  carrier APIs (local Yalidine and EcoTrack contract servers):"]
    for account in DEMO_ACCOUNTS:
        statuses = ", ".join(f"{s} {n}" for (a, s), n in sorted(by.items()) if a == account.name)
        lines.append(
            f"    {account.name} ({account.api}): parcels recorded with the delivery-code "
            f"instruction: {statuses or 'none'}"
        )
    with connect(warehouse, read_only=True) as conn:
        if table_exists(conn, "raw", "carrier_tracking_events"):
            # The receiver lands Yalidine's pushed events in tracking/<carrier>/webhooks/.
            rows = conn.execute(
                "select json_extract_string(payload, '$.carrier') as carrier, "
                "source_file like '%/webhooks/%' as pushed, count(*) "
                "from raw.carrier_tracking_events "
                "where json_extract_string(payload, '$.carrier') in (?, ?) "
                "group by 1, 2 order by 1, 2",
                [a.carrier for a in DEMO_ACCOUNTS],
            ).fetchall()
            pulled = ", ".join(f"{c} {n}" for c, p, n in rows if not p) or "none"
            pushed = ", ".join(f"{c} {n}" for c, p, n in rows if p) or "none"
            lines.append(f"    tracking events pulled through the APIs, in raw: {pulled}")
            lines.append(f"    tracking events pushed by webhooks, in raw: {pushed}")
    return lines
