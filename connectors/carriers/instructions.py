"""The delivery-code requirement told to the carrier, once per parcel, and recorded.

When cod360 creates a parcel through a carrier API, or a parcel created elsewhere is
going to be delivered with a code, the carrier is told "delivery code required"
through the field its API offers (SPEC §5 "OTP at delivery"):

=========  =====================================================================
carrier    field
=========  =====================================================================
EcoTrack   ``remarque`` (≤ 255, printed on the parcel) at ``create/order``; for a
           parcel that exists, a ``add/maj`` note (seen by the courier, any stage):
           ``update/order`` would overwrite the merchant's remark, which the API
           does not let us read back
Yalidine   none: v1's parcel fields (``POST /v1/parcels``, ``PATCH /v1/parcels/:t``)
/ Guepex   have no remark / notes / instructions field — recorded ``unsupported``
           with that reason, never faked
=========  =====================================================================

Every attempt is a row in the operational store (:class:`InstructionStore`: a SQLite
file apart from the DuckDB warehouse, transactional, one writer at a time without
DuckDB's single-process lock), keyed by (account, order reference) and written
**before** the call: ``sending`` → ``sent`` | ``failed`` (the carrier said no: its
answer is kept) | ``unknown`` (5xx, timeout: it may have been done, never resent
blindly) | ``unsupported`` | ``retry`` (known not done: throttled, credentials
refused; the next run tries again). A row left ``sending`` by a killed run becomes
``unknown``. So a re-run never sends twice, and never creates a parcel twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common.settings import load_settings
from connectors.carriers.config import CarrierAccount
from connectors.carriers.ecotrack import EcoTrackClient
from connectors.carriers.http import CarrierWriteUncertain
from connectors.carriers.parcels import ParcelRequest, ParcelResult
from connectors.carriers.yalidine import YalidineClient
from connectors.storefronts.base import StorefrontAuthError, StorefrontUnavailableError

STORE_ENV = "COD360_CARRIER_INSTRUCTIONS_DB"
# French, the couriers' working language; short enough for EcoTrack's 255 with a note.
DELIVERY_CODE_INSTRUCTION = (
    "CODE DE LIVRAISON OBLIGATOIRE : remettre le colis uniquement contre le code à "
    "6 chiffres que le client a reçu (WhatsApp/SMS). Sans code, ne pas livrer."
)
YALIDINE_UNSUPPORTED = (
    "Yalidine / Guepex API v1 has no remarks, notes or instructions field on a parcel "
    "(POST /v1/parcels and PATCH /v1/parcels/:tracking parameters): the requirement "
    "cannot be sent"
)
FINAL = ("sent", "failed", "unknown", "unsupported")


def outcome_counts(outcomes: Mapping[str, int]) -> dict[str, int]:
    """Parcels per outcome of one asset run, every outcome named (0 when none), for the
    metadata the UI plots: the final ones, ``retry``, and ``already_recorded`` (a parcel
    an earlier run settled)."""
    return {k: outcomes.get(k, 0) for k in (*FINAL, "retry", "already_recorded")}


_DDL = """
create table if not exists parcel_instructions (
    account text not null,
    carrier text not null,
    order_ref text not null,
    tracking_number text,
    instruction text not null,
    instruction_field text,
    status text not null
        check (status in ('sending', 'sent', 'failed', 'unknown', 'unsupported', 'retry')),
    reason text,
    response text,
    attempts integer not null default 0,
    sent_at text,
    created_at text not null,
    updated_at text not null,
    primary key (account, order_ref)
)
"""


def default_store_path() -> Path:
    """``COD360_CARRIER_INSTRUCTIONS_DB``, else ``<data dir>/operational/carrier_instructions.sqlite``."""
    value = os.environ.get(STORE_ENV)
    if value:
        return Path(value)
    return load_settings().data_dir / "operational" / "carrier_instructions.sqlite"


@dataclass(frozen=True)
class InstructionRecord:
    """One parcel's row."""

    account: str
    carrier: str
    order_ref: str
    tracking_number: str | None
    instruction: str
    instruction_field: str | None
    status: str
    reason: str | None
    response: str | None
    attempts: int
    sent_at: str | None


class InstructionStore:
    """The ``parcel_instructions`` table of the operational store (module docstring)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(_DDL)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    def claim(
        self, account: CarrierAccount, order_ref: str, tracking: str | None, instruction: str
    ) -> bool:
        """Write the row as ``sending`` (committed) before the call; ``False`` when the
        parcel already has a final row, or one a killed run left ``sending`` (it is
        settled ``unknown``: the call may have gone through)."""
        now = _now()
        with self._connect() as conn:
            conn.execute("begin immediate")
            row = conn.execute(
                "select status from parcel_instructions where account = ? and order_ref = ?",
                [account.name, order_ref],
            ).fetchone()
            if row is None:
                conn.execute(
                    "insert into parcel_instructions (account, carrier, order_ref, "
                    "tracking_number, instruction, status, attempts, created_at, updated_at) "
                    "values (?, ?, ?, ?, ?, 'sending', 1, ?, ?)",
                    [account.name, account.carrier, order_ref, tracking, instruction, now, now],
                )
            elif row["status"] == "retry":
                conn.execute(
                    "update parcel_instructions set status = 'sending', attempts = attempts + 1, "
                    "instruction = ?, updated_at = ? where account = ? and order_ref = ?",
                    [instruction, now, account.name, order_ref],
                )
            elif row["status"] == "sending":
                conn.execute(
                    "update parcel_instructions set status = 'unknown', reason = ?, "
                    "updated_at = ? where account = ? and order_ref = ?",
                    [
                        "a run stopped during the call: the carrier may have it; not resent",
                        now,
                        account.name,
                        order_ref,
                    ],
                )
                conn.execute("commit")
                return False
            else:
                conn.execute("commit")
                return False
            conn.execute("commit")
            return True

    def settle(
        self,
        account: CarrierAccount,
        order_ref: str,
        status: str,
        *,
        tracking: str | None = None,
        field: str | None = None,
        reason: str | None = None,
        response: Any = None,
    ) -> None:
        now = _now()
        with self._connect() as conn:
            conn.execute(
                "update parcel_instructions set status = ?, "
                "tracking_number = coalesce(?, tracking_number), instruction_field = ?, "
                "reason = ?, response = ?, sent_at = ?, updated_at = ? "
                "where account = ? and order_ref = ?",
                [
                    status,
                    tracking,
                    field,
                    reason,
                    None if response is None else json.dumps(response, ensure_ascii=False)[:2000],
                    now if status == "sent" else None,
                    now,
                    account.name,
                    order_ref,
                ],
            )

    def get(self, account: str, order_ref: str) -> InstructionRecord | None:
        with self._connect() as conn:
            row = conn.execute(
                "select * from parcel_instructions where account = ? and order_ref = ?",
                [account, order_ref],
            ).fetchone()
        return _record(row) if row else None

    def records(self) -> list[InstructionRecord]:
        with self._connect() as conn:
            rows = conn.execute(
                "select * from parcel_instructions order by account, order_ref"
            ).fetchall()
        return [_record(r) for r in rows]


def _record(row: sqlite3.Row) -> InstructionRecord:
    return InstructionRecord(
        **{k: row[k] for k in InstructionRecord.__dataclass_fields__}  # type: ignore[arg-type]
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


Client = EcoTrackClient | YalidineClient


def create_parcel(
    store: InstructionStore,
    client: Client,
    account: CarrierAccount,
    parcel: ParcelRequest,
    instruction: str = DELIVERY_CODE_INSTRUCTION,
) -> InstructionRecord:
    """Create ``parcel`` at the carrier carrying ``instruction`` where the API has a field
    for it; at most once per (account, order reference), whatever the re-runs."""
    if store.claim(account, parcel.order_ref, None, instruction):
        if isinstance(client, EcoTrackClient):
            _settle(
                store, account, parcel.order_ref, lambda: client.create_order(parcel, instruction)
            )
        else:
            _settle(
                store,
                account,
                parcel.order_ref,
                lambda: client.create_parcel(parcel),
                unsupported=YALIDINE_UNSUPPORTED,
            )
    return store.get(account.name, parcel.order_ref)  # type: ignore[return-value]


def instruct_parcel(
    store: InstructionStore,
    client: Client,
    account: CarrierAccount,
    order_ref: str,
    tracking: str,
    instruction: str = DELIVERY_CODE_INSTRUCTION,
) -> InstructionRecord:
    """Tell the carrier about a parcel that already exists (created in its back office
    or by the store's plugin); at most once per (account, order reference)."""
    if store.claim(account, order_ref, tracking, instruction):
        if isinstance(client, EcoTrackClient):
            _settle(
                store,
                account,
                order_ref,
                lambda: client.add_note(order_ref, tracking, instruction),
            )
        else:  # no field to write to, so no call at all
            store.settle(account, order_ref, "unsupported", reason=YALIDINE_UNSUPPORTED)
    return store.get(account.name, order_ref)  # type: ignore[return-value]


def _settle(
    store: InstructionStore,
    account: CarrierAccount,
    order_ref: str,
    call: Any,
    *,
    unsupported: str | None = None,
) -> None:
    try:
        result: ParcelResult = call()
    except CarrierWriteUncertain as exc:
        store.settle(account, order_ref, "unknown", reason=str(exc))
        return
    except StorefrontAuthError as exc:
        store.settle(account, order_ref, "retry", reason=str(exc))
        raise  # every parcel of the account would fail the same way: stop
    except StorefrontUnavailableError as exc:  # throttled past the retries: nothing was done
        store.settle(account, order_ref, "retry", reason=str(exc))
        return
    if not result.ok:
        store.settle(
            account,
            order_ref,
            "failed",
            field=result.instruction_field,
            reason=result.message or "refused by the carrier",
            response=result.detail,
        )
    elif unsupported:
        store.settle(
            account,
            order_ref,
            "unsupported",
            tracking=result.tracking_number,
            reason=unsupported,
            response=result.detail,
        )
    else:
        store.settle(
            account,
            order_ref,
            "sent",
            tracking=result.tracking_number,
            field=result.instruction_field,
            response=result.detail,
        )
