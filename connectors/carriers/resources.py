"""Dagster resources for the carrier pulls: configuration only, fed by ``dg.EnvVar``.

One resource per configured account (``carrier_<account name>``).
:meth:`CarrierPullResource.pull` builds the puller and runs one pull through the
storefront engine into ``tracking/<carrier>/<account>/pull_*.jsonl``, state in
``_state/carriers/<carrier>/<account>.json``. Pointing at a contract server is a
change of ``base_url``. Credential fields are excluded from reprs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from pydantic import Field

from connectors.carriers.config import CarrierAccount
from connectors.carriers.ecotrack import EcoTrackClient, EcoTrackTrackingPuller
from connectors.carriers.envelope import CarrierTrackingPuller
from connectors.carriers.yalidine import (
    DEFAULT_BASE_URL,
    YalidineClient,
    YalidineTrackingPuller,
)
from connectors.storefronts.engine import PullReport, pull_store
from connectors.storefronts.http import HttpSettings
from connectors.storefronts.state import StateStore

CARRIER_STATE_ROOT = Path("_state") / "carriers"
TRACKING_ROOT = "tracking"


def tracking_states(landing_dir: Path) -> StateStore:
    """The engine's bookkeeping for carrier pulls (``tracking/`` files, ``_state/carriers``)."""
    return StateStore(Path(landing_dir), state_root=CARRIER_STATE_ROOT, files_root=TRACKING_ROOT)


def pull_account(
    puller: CarrierTrackingPuller,
    account: CarrierAccount,
    landing_dir: Path,
    log: Callable[[str], None] | None = None,
) -> PullReport:
    """One incremental pull of ``account`` (the storefront engine, carrier folders)."""
    report = pull_store(
        puller,
        store=account.name,
        landing_dir=landing_dir,
        overlap=account.overlap,
        pages_per_commit=account.pages_per_commit,
        log=log,
        states=tracking_states(landing_dir),
    )
    puller.completed()
    return report


def status_memory_path(landing_dir: Path, account: CarrierAccount) -> Path:
    """Where an EcoTrack account's last-seen parcel statuses are kept (beside its state)."""
    return (
        Path(landing_dir) / CARRIER_STATE_ROOT / account.carrier / f"{account.name}.statuses.json"
    )


class CarrierPullResource(dg.ConfigurableResource):
    """What every carrier account's pull shares: HTTP behaviour."""

    timeout_s: float = Field(default=30.0, description="Per-request timeout, seconds.")
    max_retries: int = Field(default=5, description="Retries after the first attempt.")
    rate_limit_per_s: float = Field(default=4.0, description="Client-side pacing (0: off).")
    backoff_base_s: float = 0.5
    backoff_max_s: float = Field(
        default=60.0, description="Longest wait between retries (a minute quota needs 60 s)."
    )

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            rate_limit_per_s=self.rate_limit_per_s or None,
            backoff_base_s=self.backoff_base_s,
            backoff_max_s=self.backoff_max_s,
        )

    def build_puller(self, account: CarrierAccount, landing_dir: Path) -> CarrierTrackingPuller:
        raise NotImplementedError

    def pull(
        self, account: CarrierAccount, landing_dir: Path, log: Callable[[str], None] | None = None
    ) -> PullReport:
        with self.build_puller(account, landing_dir) as puller:
            return pull_account(puller, account, landing_dir, log)  # type: ignore[arg-type]


class YalidinePullResource(CarrierPullResource):
    """A Yalidine or Guepex API account."""

    base_url: str = Field(default=DEFAULT_BASE_URL, description="https://api.yalidine.app/v1/")
    api_id: str = Field(repr=False, description="X-API-ID (secret).")
    api_token: str = Field(repr=False, description="X-API-TOKEN (secret).")

    def client(self, account: CarrierAccount) -> YalidineClient:
        return YalidineClient(
            account=account.ref(),
            base_url=self.base_url,
            api_id=self.api_id,
            api_token=self.api_token,
            settings=self.http_settings(),
        )

    def build_puller(self, account: CarrierAccount, landing_dir: Path) -> CarrierTrackingPuller:
        return YalidineTrackingPuller(
            self.client(account),
            carrier=account.carrier,
            order_ref_prefix=account.order_ref_prefix,
            page_size=account.page_size,
        )


class EcoTrackPullResource(CarrierPullResource):
    """A courier account on the EcoTrack platform."""

    base_url: str = Field(description="https://<courier>.ecotrack.dz/api/v1/")
    token: str = Field(repr=False, description="Bearer API token (secret).")

    def client(self, account: CarrierAccount) -> EcoTrackClient:
        return EcoTrackClient(
            account=account.ref(),
            base_url=self.base_url,
            token=self.token,
            settings=self.http_settings(),
        )

    def build_puller(self, account: CarrierAccount, landing_dir: Path) -> CarrierTrackingPuller:
        return EcoTrackTrackingPuller(
            self.client(account),
            carrier=account.carrier,
            order_ref_prefix=account.order_ref_prefix,
            page_size=account.page_size,
            active_days=account.active_days,
            status_memory=status_memory_path(landing_dir, account),
        )


def resource_key(account: CarrierAccount) -> str:
    return f"carrier_{account.name}"


def resource_for_account(account: CarrierAccount) -> CarrierPullResource:
    """The account's resource with every setting a ``dg.EnvVar`` (defaults where unset)."""
    values: dict[str, object] = {}
    for setting, _, default in account.settings():
        name = account.env_var(setting)
        if default is not None and not os.environ.get(name):
            values[setting] = default
        else:
            values[setting] = dg.EnvVar(name)
    cls = YalidinePullResource if account.api == "yalidine" else EcoTrackPullResource
    return cls(**values)
