"""The carrier API accounts a deployment pulls: ``accounts.yml`` (or ``COD360_CARRIER_ACCOUNTS``).

::

    accounts:
      - name: yalidine_main      # [a-z0-9_]+: asset key, landing folder, env var names
        api: yalidine            # yalidine (Yalidine and Guepex) | ecotrack
        carrier: yalidine        # the envelope's `carrier` value (seed carrier_status_map)
        order_ref_prefix: shopify  # optional: for parcels whose order id is a bare number
        overlap_minutes: 360     # optional: how far below the high-water mark a pull starts
        pages_per_commit: 10     # optional
        active_days: 45          # optional, EcoTrack: parcels created this long before
                                 # the mark are still asked for their activity
        delivery_code_instruction: false  # optional: tell the carrier, per dispatched
                                 # parcel, that a delivery code is required (off by default)
        create_parcels: false    # optional: create the parcels of the confirmed orders
                                 # given to this carrier (off by default)
        wilaya_codes: {Alger: 16}  # with create_parcels: the API's wilaya code per city

Secrets and base URLs come from ``COD360_CARRIER_<NAME>_<SETTING>``:
Yalidine ``BASE_URL`` (default ``https://api.yalidine.app/v1/``), ``API_ID``,
``API_TOKEN``; EcoTrack ``BASE_URL`` (``https://<courier>.ecotrack.dz/api/v1/``,
no default: one per courier) and ``TOKEN``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.carriers import ecotrack, yalidine
from connectors.storefronts.http import StoreRef

ACCOUNTS_FILE_ENV = "COD360_CARRIER_ACCOUNTS"
DEFAULT_ACCOUNTS_FILE = Path(__file__).with_name("accounts.yml")
Api = Literal["yalidine", "ecotrack"]
# Per API: (setting, is_secret, default).
SETTINGS: dict[str, tuple[tuple[str, bool, str | None], ...]] = {
    "yalidine": (
        ("base_url", False, yalidine.DEFAULT_BASE_URL),
        ("api_id", True, None),
        ("api_token", True, None),
    ),
    "ecotrack": (("base_url", False, None), ("token", True, None)),
}
PERMISSIONS = {"yalidine": yalidine.PERMISSION, "ecotrack": ecotrack.PERMISSION}
# Tracking events arrive late (scans synced from a depot hours later): a wider overlap
# than the storefronts' 10 minutes; the engine remembers the events inside it.
DEFAULT_OVERLAP_MINUTES = 360.0


class CarrierConfigError(ValueError):
    """The accounts file is wrong; the message names the file, the account and the field."""


class CarrierAccount(BaseModel):
    """One carrier API account to pull."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=60)
    api: Api
    carrier: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=60)
    order_ref_prefix: str | None = Field(default=None, pattern=r"^[a-z_]+$")
    overlap_minutes: float = Field(default=DEFAULT_OVERLAP_MINUTES, ge=0)
    pages_per_commit: int = Field(default=10, ge=1)
    page_size: int = Field(default=100, ge=1, le=1000)
    active_days: int = Field(default=45, ge=1, le=90)  # EcoTrack lists the last 90 days
    # Nothing is sent to a carrier unless the operator switches it on for the account.
    delivery_code_instruction: bool = False
    # Create the parcels of the confirmed orders given to this carrier (assigned, else
    # recommended: activations.carrier_choice) through the API; off unless switched on.
    create_parcels: bool = False
    # The API's wilaya code of each delivery city (EcoTrack's code_wilaya, 1-58): a city
    # without one is not sent (the asset counts and names it), never guessed.
    wilaya_codes: dict[str, int] = Field(default_factory=dict)

    @property
    def overlap(self) -> timedelta:
        return timedelta(minutes=self.overlap_minutes)

    def env_var(self, setting: str) -> str:
        return f"COD360_CARRIER_{self.name.upper()}_{setting.upper()}"

    def settings(self) -> tuple[tuple[str, bool, str | None], ...]:
        return SETTINGS[self.api]

    def ref(self) -> StoreRef:
        secrets = tuple(self.env_var(s) for s, secret, _ in self.settings() if secret)
        return StoreRef(self.name, f"{self.api} carrier account", secrets, PERMISSIONS[self.api])

    def missing_settings(self, environ: dict[str, str] | None = None) -> list[str]:
        env = os.environ if environ is None else environ
        return [
            self.env_var(s)
            for s, _, default in self.settings()
            if default is None and not env.get(self.env_var(s))
        ]


def accounts_file() -> Path:
    value = os.environ.get(ACCOUNTS_FILE_ENV)
    return Path(value) if value else DEFAULT_ACCOUNTS_FILE


def load_accounts(path: Path | None = None) -> list[CarrierAccount]:
    """The accounts of ``path`` (default: :func:`accounts_file`); a missing file means none."""
    path = Path(path) if path else accounts_file()
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("accounts") or [] if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise CarrierConfigError(f"{path}: expected a mapping with an 'accounts' list")
    accounts: list[CarrierAccount] = []
    for index, entry in enumerate(entries, start=1):
        try:
            accounts.append(CarrierAccount.model_validate(entry))
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in error["loc"]) or "entry"
            name = entry.get("name") if isinstance(entry, dict) else None
            raise CarrierConfigError(
                f"{path}: account {index}{f' ({name})' if name else ''}: {where}: {error['msg']}"
            ) from None
    names = [a.name for a in accounts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CarrierConfigError(f"{path}: account names must be unique: {', '.join(duplicates)}")
    return accounts
