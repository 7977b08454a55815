"""Run one contract server in the foreground.

    python -m sandbox.contract_servers whatsapp --port 8081 --landing data/landing
    python -m sandbox.contract_servers shopify --port 8082 --config servers.yaml

Credentials the server expects come from the same environment variables the
Dagster resources read (``WHATSAPP_ACCESS_TOKEN``, ``SHOPIFY_ACCESS_TOKEN``,
``WOOCOMMERCE_CONSUMER_KEY`` / ``WOOCOMMERCE_CONSUMER_SECRET``,
``YOUCAN_ACCESS_TOKEN``, ``SMS_API_KEY``); unset, a fixed demo credential is
used. ``--config`` is a YAML mapping of constructor arguments (``templates``,
``orders``, ``faults``, ``replies``, ``rate_limit_per_s``…). WhatsApp webhooks
and SMS events are flushed to the landing folder every ``--flush-every``
seconds and on exit.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from pathlib import Path
from typing import Any

import uvicorn
import yaml

from sandbox.contract_servers.common import ContractServer
from sandbox.contract_servers.shopify import ShopifyContractServer
from sandbox.contract_servers.sms import SmsContractServer
from sandbox.contract_servers.whatsapp import (
    ApprovedTemplate,
    RecipientFailure,
    ScriptedReply,
    WhatsAppContractServer,
)
from sandbox.contract_servers.woocommerce import WooCommerceContractServer
from sandbox.contract_servers.youcan import YouCanContractServer

logger = logging.getLogger("cod360.contract_servers")
DEMO_CREDENTIAL = "cod360-demo-credential"
VENDORS = ("whatsapp", "shopify", "woocommerce", "youcan", "sms")


def _credential(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        logger.warning("%s is not set: the server accepts the built-in demo credential", name)
    return value or DEMO_CREDENTIAL


def build_server(vendor: str, landing: Path | None, config: dict[str, Any]) -> ContractServer:
    """The contract server for ``vendor``, configured from a plain mapping (e.g. YAML)."""
    config = dict(config)
    if vendor == "whatsapp":
        if "templates" in config:
            config["templates"] = [
                ApprovedTemplate(
                    **{k: tuple(v) if isinstance(v, list) else v for k, v in t.items()}
                )
                for t in config["templates"]
            ]
        config["replies"] = {k: ScriptedReply(**v) for k, v in config.get("replies", {}).items()}
        config["failures"] = {
            k: RecipientFailure(**v) if isinstance(v, dict) else int(v)
            for k, v in config.get("failures", {}).items()
        }
        return WhatsAppContractServer(
            access_token=_credential("WHATSAPP_ACCESS_TOKEN"), landing_dir=landing, **config
        )
    if vendor == "shopify":
        return ShopifyContractServer(access_token=_credential("SHOPIFY_ACCESS_TOKEN"), **config)
    if vendor == "woocommerce":
        return WooCommerceContractServer(
            consumer_key=_credential("WOOCOMMERCE_CONSUMER_KEY"),
            consumer_secret=_credential("WOOCOMMERCE_CONSUMER_SECRET"),
            **config,
        )
    if vendor == "youcan":
        return YouCanContractServer(access_token=_credential("YOUCAN_ACCESS_TOKEN"), **config)
    if vendor == "sms":
        return SmsContractServer(api_key=_credential("SMS_API_KEY"), landing_dir=landing, **config)
    raise ValueError(f"unknown vendor {vendor!r} (one of {', '.join(VENDORS)})")


def _flush(server: ContractServer) -> None:
    if isinstance(server, WhatsAppContractServer) and server.landing_dir:
        path = server.flush_webhooks()
    elif isinstance(server, SmsContractServer) and server.landing_dir:
        path = server.flush_events()
    else:
        return
    if path:
        logger.info("flushed %s", path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.contract_servers", description=__doc__.split("\n")[0]
    )
    parser.add_argument("vendor", choices=VENDORS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--landing", type=Path, default=None, help="landing folder (WhatsApp webhooks, SMS events)"
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="YAML mapping of constructor arguments"
    )
    parser.add_argument(
        "--flush-every", type=float, default=5.0, help="seconds between landing flushes"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = yaml.safe_load(args.config.read_text()) if args.config else {}
    server = build_server(args.vendor, args.landing, config or {})
    stop = threading.Event()

    def flush_loop() -> None:
        while not stop.wait(args.flush_every):
            _flush(server)

    flusher = threading.Thread(target=flush_loop, name="landing-flush", daemon=True)
    flusher.start()
    try:
        uvicorn.run(server.app, host=args.host, port=args.port, log_level="info")
    finally:
        stop.set()
        _flush(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
