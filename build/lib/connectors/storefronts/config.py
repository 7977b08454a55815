"""The stores a deployment pulls: ``stores.yml`` (or ``COD360_STOREFRONT_STORES``).

::

    stores:
      - name: casa_main          # [a-z0-9_]+: asset key, landing folder, env var names
        platform: shopify        # shopify | woocommerce | youcan | lightfunnels | prestashop
        overlap_minutes: 10      # optional: how far below the high-water mark each pull starts
        pages_per_commit: 10     # optional: pages per committed landing file
        options:                 # optional, per platform (not secrets): page_size, api_version,
          page_size: 50          #   line_items_per_order, shop_timezone, orders_query, ...
        env:                     # optional: other env var names than the derived ones
          access_token: SHOPIFY_ACCESS_TOKEN

Secrets and base URLs never go in the file: they come from environment
variables, by default ``COD360_STORE_<NAME>_<SETTING>`` (``COD360_STORE_CASA_MAIN_BASE_URL``,
``COD360_STORE_CASA_MAIN_ACCESS_TOKEN``). :data:`SETTINGS` lists each
platform's settings; a setting with a default (YouCan's and LightFunnels'
public API hosts) may be left unset.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.storefronts.http import StoreRef

STORES_FILE_ENV = "COD360_STOREFRONT_STORES"
DEFAULT_STORES_FILE = Path(__file__).with_name("stores.yml")
Platform = Literal["shopify", "woocommerce", "youcan", "lightfunnels", "prestashop"]

# Per platform: (setting, is_secret, default) — the order is the order of the error messages.
SETTINGS: dict[str, tuple[tuple[str, bool, str | None], ...]] = {
    "shopify": (("base_url", False, None), ("access_token", True, None)),
    "woocommerce": (
        ("base_url", False, None),
        ("consumer_key", True, None),
        ("consumer_secret", True, None),
    ),
    "youcan": (("base_url", False, "https://api.youcan.shop"), ("access_token", True, None)),
    "lightfunnels": (
        ("base_url", False, "https://services.lightfunnels.com"),
        ("access_token", True, None),
    ),
    "prestashop": (("base_url", False, None), ("api_key", True, None)),
}
PERMISSIONS = {
    "shopify": "the read_orders scope (read_all_orders for orders older than 60 days)",
    "woocommerce": "a REST API key with Read permission",
    "youcan": "the read-orders scope",
    "lightfunnels": "the orders read scope",
    "prestashop": "GET on orders, addresses and customers",
}


class StoreConfigError(ValueError):
    """The stores file is wrong; the message names the file, the store and the field."""


class StoreConfig(BaseModel):
    """One store to pull."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=60)
    platform: Platform
    overlap_minutes: float = Field(default=10.0, ge=0)
    pages_per_commit: int = Field(default=10, ge=1)
    options: dict[str, Any] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _env_names(self) -> StoreConfig:
        known = {setting for setting, _, _ in SETTINGS[self.platform]}
        for setting, name in self.env.items():
            if setting not in known:
                raise ValueError(
                    f"env: {setting!r} is not a {self.platform} setting ({', '.join(sorted(known))})"
                )
            if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
                raise ValueError(f"env: {name!r} is not an environment variable name")
        return self

    @property
    def overlap(self) -> timedelta:
        return timedelta(minutes=self.overlap_minutes)

    def env_var(self, setting: str) -> str:
        """The environment variable that holds ``setting`` for this store."""
        return self.env.get(setting) or f"COD360_STORE_{self.name.upper()}_{setting.upper()}"

    def settings(self) -> tuple[tuple[str, bool, str | None], ...]:
        return SETTINGS[self.platform]

    def ref(self) -> StoreRef:
        secrets = tuple(self.env_var(s) for s, secret, _ in self.settings() if secret)
        return StoreRef(self.name, self.platform, secrets, PERMISSIONS[self.platform])

    def missing_settings(self, environ: dict[str, str] | None = None) -> list[str]:
        """Env vars this store needs that are unset (settings with a default excluded)."""
        env = os.environ if environ is None else environ
        return [
            self.env_var(s)
            for s, _, default in self.settings()
            if default is None and not env.get(self.env_var(s))
        ]


def stores_file() -> Path:
    value = os.environ.get(STORES_FILE_ENV)
    return Path(value) if value else DEFAULT_STORES_FILE


def load_stores(path: Path | None = None) -> list[StoreConfig]:
    """The stores of ``path`` (default: :func:`stores_file`); a missing file means none."""
    path = Path(path) if path else stores_file()
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("stores") or [] if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise StoreConfigError(f"{path}: expected a mapping with a 'stores' list")
    stores: list[StoreConfig] = []
    for index, entry in enumerate(entries, start=1):
        try:
            stores.append(StoreConfig.model_validate(entry))
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in error["loc"]) or "entry"
            name = entry.get("name") if isinstance(entry, dict) else None
            raise StoreConfigError(
                f"{path}: store {index}{f' ({name})' if name else ''}: {where}: {error['msg']}"
            ) from None
    names = [s.name for s in stores]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise StoreConfigError(f"{path}: store names must be unique: {', '.join(duplicates)}")
    return stores
