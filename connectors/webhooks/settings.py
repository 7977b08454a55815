"""Receiver configuration, read from the environment.

Secrets live only in the environment (SPEC §6): they are never given on the
command line (where ``ps`` shows them) and never appear in a ``repr`` or a log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024  # a large Shopify order is a few hundred KB
DEFAULT_ROTATE_SECONDS = 60.0
DEFAULT_ROTATE_BYTES = 64 * 1024 * 1024
# A sender has this long to deliver the whole body once its headers arrived: Meta and
# Shopify send a few KB at once, so a body still incomplete after 10 s is a stalled or
# hostile client holding a connection open (408).
DEFAULT_BODY_TIMEOUT_SECONDS = 10.0
# At most this many open connections plus running requests (uvicorn counts both) at once;
# uvicorn answers 503 beyond it (well under the usual 1024 open-file limit), so
# slow clients can hold at most this many sockets (senders retry a 503).
DEFAULT_MAX_CONNECTIONS = 512
# An idle keep-alive connection is closed after this long (uvicorn's default is 5 s).
DEFAULT_KEEP_ALIVE_SECONDS = 5.0

CARRIER_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")

# Every variable the receiver reads, with what it means (shown by --help).
ENVIRONMENT = {
    "COD360_LANDING_DIR": f"landing folder (default {DEFAULT_LANDING_DIR}); --landing overrides",
    "COD360_WHATSAPP_APP_SECRET": "Meta app secret: verifies X-Hub-Signature-256",
    "COD360_WHATSAPP_VERIFY_TOKEN": "token Meta echoes in the GET verification handshake",
    "COD360_SHOPIFY_WEBHOOK_SECRET": "Shopify app client secret: verifies X-Shopify-Hmac-Sha256",
    "COD360_LIGHTFUNNELS_WEBHOOK_SECRET": "LightFunnels app client secret: verifies lightfunnels-hmac",
    "COD360_CARRIER_SECRETS": "carrier=secret,carrier=secret: verifies X-Cod360-Signature",
    "COD360_YALIDINE_WEBHOOK_SECRETS": "yalidine=secret,guepex=secret: the webhook secret keys Yalidine / Guepex show; verifies X-YALIDINE-SIGNATURE",
    "COD360_WEBHOOK_MAX_BODY_BYTES": f"largest accepted body (default {DEFAULT_MAX_BODY_BYTES}); larger gets 413",
    "COD360_WEBHOOK_ROTATE_SECONDS": f"close a landing file this long after it opened (default {DEFAULT_ROTATE_SECONDS:g})",
    "COD360_WEBHOOK_ROTATE_BYTES": f"close a landing file once it reaches this size (default {DEFAULT_ROTATE_BYTES})",
    "COD360_WEBHOOK_BODY_TIMEOUT_SECONDS": f"time to receive a whole body (default {DEFAULT_BODY_TIMEOUT_SECONDS:g}); slower gets 408",
    "COD360_WEBHOOK_MAX_CONNECTIONS": f"connections + requests at once (default {DEFAULT_MAX_CONNECTIONS}); beyond gets 503",
    "COD360_WEBHOOK_KEEP_ALIVE_SECONDS": f"close an idle keep-alive connection after (default {DEFAULT_KEEP_ALIVE_SECONDS:g})",
}


class SettingsError(ValueError):
    """A configuration value is unusable; the message names the variable, never a secret."""


@dataclass(frozen=True)
class Settings:
    """Everything the receiver needs; endpoints whose secret is unset answer 503."""

    landing_dir: Path
    whatsapp_app_secret: str | None = field(default=None, repr=False)
    whatsapp_verify_token: str | None = field(default=None, repr=False)
    shopify_webhook_secret: str | None = field(default=None, repr=False)
    lightfunnels_webhook_secret: str | None = field(default=None, repr=False)
    carrier_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Yalidine-platform webhooks (Yalidine, Guepex: one secret key per webhook), by the
    # envelope's carrier name: /webhooks/carriers/<carrier>/events.
    yalidine_webhook_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rotate_seconds: float = DEFAULT_ROTATE_SECONDS
    rotate_bytes: int = DEFAULT_ROTATE_BYTES
    body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    keep_alive_seconds: float = DEFAULT_KEEP_ALIVE_SECONDS

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, landing_dir: str | Path | None = None
    ) -> Settings:
        """Read the ``COD360_*`` variables; ``landing_dir`` (the CLI flag) wins over the env."""
        env = os.environ if environ is None else environ

        def secret(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            landing_dir=Path(landing_dir or env.get("COD360_LANDING_DIR") or DEFAULT_LANDING_DIR),
            whatsapp_app_secret=secret("COD360_WHATSAPP_APP_SECRET"),
            whatsapp_verify_token=secret("COD360_WHATSAPP_VERIFY_TOKEN"),
            shopify_webhook_secret=secret("COD360_SHOPIFY_WEBHOOK_SECRET"),
            lightfunnels_webhook_secret=secret("COD360_LIGHTFUNNELS_WEBHOOK_SECRET"),
            carrier_secrets=parse_carrier_secrets(env.get("COD360_CARRIER_SECRETS", "")),
            yalidine_webhook_secrets=parse_carrier_secrets(
                env.get("COD360_YALIDINE_WEBHOOK_SECRETS", ""),
                variable="COD360_YALIDINE_WEBHOOK_SECRETS",
            ),
            max_body_bytes=_positive(
                env, "COD360_WEBHOOK_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, int
            ),
            rotate_seconds=_positive(
                env, "COD360_WEBHOOK_ROTATE_SECONDS", DEFAULT_ROTATE_SECONDS, float
            ),
            rotate_bytes=_positive(env, "COD360_WEBHOOK_ROTATE_BYTES", DEFAULT_ROTATE_BYTES, int),
            body_timeout_seconds=_positive(
                env, "COD360_WEBHOOK_BODY_TIMEOUT_SECONDS", DEFAULT_BODY_TIMEOUT_SECONDS, float
            ),
            max_connections=_positive(
                env, "COD360_WEBHOOK_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS, int
            ),
            keep_alive_seconds=_positive(
                env, "COD360_WEBHOOK_KEEP_ALIVE_SECONDS", DEFAULT_KEEP_ALIVE_SECONDS, float
            ),
        )

    def enabled_endpoints(self) -> dict[str, bool]:
        """Which endpoints have the secret they need (for /healthz and the startup log)."""
        return {
            "whatsapp": bool(self.whatsapp_app_secret),
            "whatsapp_handshake": bool(self.whatsapp_verify_token),
            "shopify": bool(self.shopify_webhook_secret),
            "lightfunnels": bool(self.lightfunnels_webhook_secret),
            **{f"carrier:{name}": True for name in sorted(self.carrier_secrets)},
            **{f"carrier_events:{name}": True for name in sorted(self.yalidine_webhook_secrets)},
        }


def parse_carrier_secrets(raw: str, *, variable: str = "COD360_CARRIER_SECRETS") -> dict[str, str]:
    """``"ameex=s1,ozon_express=s2"`` → ``{"ameex": "s1", "ozon_express": "s2"}``.

    Carrier names are lower-case ``[a-z0-9_]`` (they become folder names under
    ``tracking/``); a secret may contain ``=`` but not ``,``.
    """
    secrets: dict[str, str] = {}
    for position, item in enumerate(raw.split(","), start=1):
        item = item.strip()
        if not item:
            continue
        name, sep, secret = item.partition("=")
        name, secret = name.strip().lower(), secret.strip()
        if not sep or not secret:
            raise SettingsError(
                f"{variable}: entry {position} is not carrier=secret"
                + (f" (carrier {name!r})" if CARRIER_NAME.match(name) else "")
            )
        if not CARRIER_NAME.match(name):
            raise SettingsError(
                f"{variable}: entry {position}: carrier name must match {CARRIER_NAME.pattern}"
            )
        if name in secrets:
            raise SettingsError(f"{variable}: carrier {name!r} is given twice")
        secrets[name] = secret
    return secrets


def _positive(env: Mapping[str, str], name: str, default, kind):
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}: {raw!r} is not a number") from None
    if value <= 0:
        raise SettingsError(f"{name}: must be greater than 0, got {raw!r}")
    return value
