"""A local PrestaShop webservice: ``GET /api/orders``, ``/api/addresses``, ``/api/customers``.

From devdocs.prestashop-project.org (webservice cheat sheet, "Additional list
parameters") and PrestaShop's ``WebserviceRequest``:

- the key is the Basic-auth user (password empty) or ``ws_key=``; 401 with
  ``WWW-Authenticate`` and the error codes 16 (no key), 17 (empty), 18 (not 32
  characters), 20 (not active: unknown, revoked);
- ``display=full`` or ``display=[a,b]``; ``filter[field]=[a|b]`` (any of),
  ``[a,b]`` (inclusive interval), ``[x]`` (equal); a filter on a date field
  only matches with ``date=1`` (PrestaShop issue #10822), otherwise nothing;
- ``sort=[field_ASC,other_DESC]``; ``limit=count`` or ``limit=offset,count``;
- ``output_format=JSON``: ``{"<resource>": [...]}``, and ``[]`` for an empty
  list; errors ``{"errors": [{"code", "message"}]}`` (XML otherwise).

Dates are the shop's wall-clock time (``PS_TIMEZONE``). PrestaShop has no rate
limit of its own; with ``rate_limit_per_s`` this answers 429 + ``Retry-After``
as a host's limiter would.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.contract_servers.common import ContractServer, Fault, retry_after_header
from sandbox.contract_servers.order_feed import OrderFeed, SeedReport, parse_time
from sandbox.contract_servers.sample_shapes import prestashop_records
from sandbox.contract_servers.woocommerce_orders import woocommerce_key

RESOURCES = ("orders", "addresses", "customers")
DATE_FIELDS = ("date_add", "date_upd", "invoice_date", "delivery_date")
_FILTER = re.compile(r"^filter\[(\w+)\]$")
_REALM = 'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required."'


def _errors(status: int, code: int, message: str, *, json_output: bool = True) -> Response:
    if not json_output:
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">'
            f"<errors><error><code><![CDATA[{code}]]></code><message><![CDATA[{message}]]></message>"
            "</error></errors></prestashop>"
        )
        return Response(xml, status_code=status, media_type="text/xml")
    return JSONResponse({"errors": [{"code": code, "message": message}]}, status_code=status)


class PrestaShopContractServer(ContractServer):
    vendor = "prestashop"

    def __init__(
        self,
        *,
        api_key: str,
        shop_timezone: str = "Africa/Casablanca",
        faults: Any = None,
        rate_limit_per_s: float | None = None,
        rate_limit_burst: float | None = None,
    ) -> None:
        super().__init__(
            faults=faults, rate_limit_per_s=rate_limit_per_s, rate_limit_burst=rate_limit_burst
        )
        self._key = api_key
        self.zone = ZoneInfo(shop_timezone)
        self.feed = OrderFeed(self._order_key)
        self.addresses: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}

    def _order_key(self, record: dict[str, Any]) -> tuple[str, datetime] | None:
        stamp = parse_time(record.get("date_upd"), naive_tz=self.zone)
        return (str(record["id"]), stamp) if record.get("id") and stamp else None

    # -- state -----------------------------------------------------------------------------

    def add_records(
        self,
        orders: Iterable[dict[str, Any]] = (),
        addresses: Iterable[dict[str, Any]] = (),
        customers: Iterable[dict[str, Any]] = (),
    ) -> SeedReport:
        """Add order snapshots (a later ``date_upd`` is an update), addresses and customers."""
        with self.lock:
            self.addresses.update({str(a["id"]): a for a in addresses})
            self.customers.update({str(c["id"]): c for c in customers})
        return self.feed.add(orders)

    def seed_from_sample_store(self, landing_dir: Any) -> SeedReport:
        """Serve the sample store's WooCommerce orders re-expressed as PrestaShop orders."""
        staging = OrderFeed(woocommerce_key)
        read = staging.seed_from_landing(landing_dir, "orders/woocommerce")
        converted = [prestashop_records(o, str(self.zone)) for o in staging.all_snapshots()]
        added = self.add_records(
            [c["order"] for c in converted],
            [c["address"] for c in converted],
            [c["customer"] for c in converted],
        )
        return SeedReport(read.files, read.lines, added.snapshots, read.duplicates, read.unusable)

    # -- contract --------------------------------------------------------------------------

    def vendor_routes(self) -> list[Route]:
        return [self.route("/api/{resource}", self._list, ["GET"])]

    def authenticate(self, request: Request) -> Response | None:
        json_output = request.query_params.get("output_format", "").upper() == "JSON"
        key = request.query_params.get("ws_key")
        header = request.headers.get("authorization", "")
        if key is None and header.lower().startswith("basic "):
            try:
                key = base64.b64decode(header.split(" ", 1)[1]).decode().split(":", 1)[0]
            except ValueError:
                key = ""
        if key is None:
            response = _errors(
                401,
                16,
                "Please enter the authentication key as the login. No password required",
                json_output=json_output,
            )
        elif not key.strip():
            response = _errors(401, 17, "Authentication key is empty", json_output=json_output)
        elif len(key.strip()) != 32:
            response = _errors(
                401, 18, "Invalid authentication key format", json_output=json_output
            )
        elif not hmac.compare_digest(key.strip().encode(), self._key.encode()):
            response = _errors(
                401, 20, "Authentification key is not active", json_output=json_output
            )
        else:
            return None
        response.headers["WWW-Authenticate"] = _REALM
        return response

    def fault_response(self, fault: Fault) -> Response:
        return _errors(fault.status, 0, "Internal error")

    def throttled_response(self, retry_after_s: float) -> Response:
        response = _errors(429, 0, "Too many requests")
        response.headers.update(retry_after_header(retry_after_s))
        return response

    # -- listing ---------------------------------------------------------------------------

    def _list(self, request: Request, body: Any) -> Response:
        resource = request.path_params["resource"]
        params = request.query_params
        json_output = params.get("output_format", "").upper() == "JSON"
        if resource not in RESOURCES:
            return _errors(
                400, 22, f'Resource of type "{resource}" does not exists', json_output=json_output
            )
        if not json_output:
            return _errors(
                400, 0, "This contract server only answers output_format=JSON", json_output=False
            )
        rows = self._rows(resource)
        for name, value in params.items():
            match = _FILTER.match(name)
            if match:
                field = match[1]
                if field in DATE_FIELDS and params.get("date") != "1":
                    rows = []  # PrestaShop: a date filter without date=1 matches nothing
                rows = [r for r in rows if _filter_matches(r.get(field), value, field, self.zone)]
        for part in reversed(_bracketed(params.get("sort", ""))):
            field, _, direction = part.rpartition("_")
            rows.sort(
                key=lambda r, f=field: _sort_value(r.get(f), f, self.zone),
                reverse=direction == "DESC",
            )
        offset, count = _limit(params.get("limit"))
        if count is not None:
            rows = rows[offset : offset + count]
        display = params.get("display")
        if display and display != "full":
            fields = set(_bracketed(display))
            rows = [{k: v for k, v in r.items() if k in fields} for r in rows]
        elif not display:
            rows = [{"id": r["id"]} for r in rows]
        return JSONResponse({resource: rows} if rows else [])

    def _rows(self, resource: str) -> list[dict[str, Any]]:
        with self.lock:
            if resource == "orders":
                return sorted((r for _, _, r in self.feed.visible()), key=lambda r: int(r["id"]))
            source = self.addresses if resource == "addresses" else self.customers
            return [source[k] for k in sorted(source, key=int)]


def _bracketed(value: str) -> list[str]:
    inner = value.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    return [p.strip() for p in inner.split(",") if p.strip()] if inner else []


def _limit(value: str | None) -> tuple[int, int | None]:
    if not value:
        return 0, None
    first, _, second = value.partition(",")
    return (int(first), int(second)) if second else (0, int(first))


def _typed(value: Any, field: str, zone: ZoneInfo) -> Any:
    if field in DATE_FIELDS:
        return parse_time(value, naive_tz=zone)
    text = str(value)
    return int(text) if text.lstrip("-").isdigit() else text.lower()


def _sort_value(value: Any, field: str, zone: ZoneInfo) -> tuple[bool, Any]:
    typed = _typed(value, field, zone) if value is not None else None
    return (typed is None, typed if typed is not None else 0)


def _filter_matches(actual: Any, spec: str, field: str, zone: ZoneInfo) -> bool:
    if actual is None:
        return False
    inner = spec[1:-1] if spec.startswith("[") and spec.endswith("]") else spec
    value = _typed(actual, field, zone)
    if "|" in inner:
        return value in {_typed(v, field, zone) for v in inner.split("|")}
    if "," in inner:
        low, high = (_typed(v, field, zone) for v in inner.split(",", 1))
        return low is not None and high is not None and low <= value <= high
    return value == _typed(inner, field, zone)
