"""The read side of the WooCommerce contract server: ``GET /orders`` with WordPress paging.

``modified_after`` / ``modified_before`` / ``after`` / ``before`` (strict, on the
``*_gmt`` dates when ``dates_are_gmt=true``, else in the site's time zone),
``orderby`` (``date`` by default, ``modified``, ``id``) and ``order`` (``desc`` by
default), ``per_page`` (1–100, default 10) and ``page``; the answer carries
``X-WP-Total``, ``X-WP-TotalPages`` and a ``Link`` header with ``rel="prev"`` /
``rel="next"``, as WordPress sends them. A page past the last is an empty list.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.contract_servers.order_feed import parse_time

READ_PARAMS = ("modified_after", "modified_before", "after", "before", "page", "orderby", "order")
_FILTERS = {
    "modified_after": ("date_modified", "gt"),
    "modified_before": ("date_modified", "lt"),
    "after": ("date_created", "gt"),
    "before": ("date_created", "lt"),
}
_ORDERBY = {"date": "date_created_gmt", "modified": "date_modified_gmt", "id": "id"}


def woocommerce_key(record: dict[str, Any]) -> tuple[str, datetime] | None:
    order_id, stamp = record.get("id"), parse_time(record.get("date_modified_gmt"))
    if order_id in (None, "") or stamp is None:
        return None
    return str(order_id), stamp


def _bad(param: str, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": "rest_invalid_param",
            "message": f"Invalid parameter(s): {param}",
            "data": {"status": 400, "params": {param: message}},
        },
        status_code=400,
    )


def _int(request: Request, name: str, default: int) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return default
    return int(value) if value.strip().lstrip("-").isdigit() else None


def list_orders(request: Request, rows: list[dict[str, Any]], site_timezone: str) -> Response:
    """The ``GET /wp-json/wc/v3/orders`` answer over ``rows`` (each order's current state)."""
    params = request.query_params
    per_page, page = _int(request, "per_page", 10), _int(request, "page", 1)
    if per_page is None or not 1 <= per_page <= 100:
        return _bad("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
    if page is None or page < 1:
        return _bad("page", "page must be greater than or equal to 1")
    gmt = params.get("dates_are_gmt", "false").lower() in ("1", "true")
    zone = ZoneInfo(site_timezone)
    selected = rows
    for name, (field, op) in _FILTERS.items():
        if name not in params:
            continue
        bound = parse_time(params[name], naive_tz=ZoneInfo("UTC") if gmt else zone)
        if bound is None:
            return _bad(name, "Invalid date.")
        selected = [r for r in selected if _compare(r, field, op, bound)]
    orderby = params.get("orderby", "date")
    if orderby not in (*_ORDERBY, "include"):
        return _bad("orderby", f"orderby is not one of {', '.join(_ORDERBY)}, include.")
    direction = params.get("order", "desc")
    if direction not in ("asc", "desc"):
        return _bad("order", "order is not one of asc, desc.")
    sort_field = _ORDERBY.get(orderby, "id")
    selected = sorted(
        selected,
        key=lambda r: (_sort_value(r, sort_field), int(r["id"])),
        reverse=direction == "desc",
    )
    total = len(selected)
    pages = math.ceil(total / per_page) if total else 0
    body = selected[(page - 1) * per_page : page * per_page]
    response = JSONResponse(body)
    response.headers["X-WP-Total"] = str(total)
    response.headers["X-WP-TotalPages"] = str(pages)
    links = []
    base = str(request.url).split("?", 1)[0]
    others = {k: v for k, v in params.items() if k != "page"}
    if page > 1:
        links.append(f'<{base}?{urlencode({**others, "page": page - 1})}>; rel="prev"')
    if page < pages:
        links.append(f'<{base}?{urlencode({**others, "page": page + 1})}>; rel="next"')
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


def _compare(record: dict[str, Any], field: str, op: str, bound: datetime) -> bool:
    value = parse_time(record.get(f"{field}_gmt"))
    if value is None:
        return False
    return value > bound if op == "gt" else value < bound


def _sort_value(record: dict[str, Any], field: str) -> Any:
    if field == "id":
        return ""
    value = parse_time(record.get(field))
    return value.isoformat() if value else ""
