"""``python -m connectors.webhooks``: run the signed webhook receiver."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import uvicorn

from connectors.webhooks.app import create_app
from connectors.webhooks.files import LandingLock
from connectors.webhooks.settings import ENVIRONMENT, Settings, SettingsError

ENDPOINTS = """endpoints:
  GET  /healthz                         liveness and which endpoints are configured
  GET  /metrics                         Prometheus counters
  GET  /webhooks/whatsapp               Meta verification handshake (hub.verify_token)
  POST /webhooks/whatsapp               X-Hub-Signature-256: sha256=<hex>  -> messages/whatsapp/
  POST /webhooks/shopify                X-Shopify-Hmac-Sha256: <base64>     -> orders/shopify_webhooks/<shop>/<topic>/
  POST /webhooks/lightfunnels[/<type>]  lightfunnels-hmac: <base64>         -> orders/lightfunnels/
  POST /webhooks/carriers/<carrier>     X-Cod360-Signature: sha256=<hex>    -> tracking/<carrier>/
  GET  /webhooks/carriers/<c>/events    Yalidine / Guepex ?subscribe&crc_token= handshake
  POST /webhooks/carriers/<c>/events    X-YALIDINE-SIGNATURE: <hex>         -> tracking/<c>/webhooks/
"""


def build_parser() -> argparse.ArgumentParser:
    environment = "\n".join(f"  {name:<36} {meaning}" for name, meaning in ENVIRONMENT.items())
    parser = argparse.ArgumentParser(
        prog="python -m connectors.webhooks",
        description=(
            "cod360 signed webhook receiver: verifies each delivery's HMAC over the raw body "
            "and appends accepted payloads, fsynced, to the landing folder."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"{ENDPOINTS}\nenvironment (secrets are read only from here):\n{environment}\n",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8090, help="port to bind (default 8090; 0 picks one)"
    )
    parser.add_argument(
        "--landing",
        default=None,
        help="landing folder (default $COD360_LANDING_DIR or data/landing)",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("COD360_LOG_LEVEL", "info"),
        choices=["debug", "info", "warning", "error"],
        help="log level (default $COD360_LOG_LEVEL or info; access lines are info)",
    )
    return parser


def server_limits(settings: Settings) -> dict[str, float | int]:
    """uvicorn's bounds on slow clients: at most ``max_connections`` connections and
    requests at once (503 beyond), idle keep-alive connections closed; the body-read
    timeout (408) is the app's own (``app._read_body``)."""
    return {
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": settings.keep_alive_seconds,
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(landing_dir=args.landing)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    # Fail with one clear line, not a lifespan traceback, when the folder is
    # unusable or another receiver owns it (the app takes the lock for real).
    probe = LandingLock(settings.landing_dir)
    try:
        probe.acquire()
    except (RuntimeError, OSError) as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    probe.release()
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = uvicorn.Config(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,  # uvicorn's would log the query string, i.e. hub.verify_token
        lifespan="on",
        server_header=False,
        **server_limits(settings),
    )
    server = uvicorn.Server(config)
    server.run()
    # uvicorn returns normally when startup failed (e.g. the landing lock is held)
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
