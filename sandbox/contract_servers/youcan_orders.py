"""The read side of the YouCan contract server: ``GET /orders`` (Store Admin API listing).

As documented: ``page``, ``limit``, ``sort_field`` / ``sort_order`` (default
``created_at`` / ``desc``), ``filters[i][field|operator|value]``, ``include``
(``customer``, ``variants``, ``payment``, ``shipping``: left out of each order
unless asked for) and ``{"data": [...], "meta": {"pagination": {total, count,
per_page, current_page, total_pages, links}}}``. Not documented and assumed, as
the puller assumes it: ``updated_at`` as a sort field and filter field, and
filter dates as ``YYYY-MM-DD HH:MM:SS`` (ISO 8601 is accepted too) in UTC.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.contract_servers.order_feed import parse_time

SUBRESOURCES = ("customer", "variants", "payment", "shipping")
SORT_FIELDS = ("ref", "total", "created_at", "updated_at")
_FILTER = re.compile(r"^filters\[(\d+)\]\[(field|operator|value)\]$")
_OPS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def youcan_key(record: dict[str, Any]) -> tuple[str, datetime] | None:
    order_id, stamp = record.get("id"), parse_time(record.get("updated_at"))
    if not order_id or stamp is None:
        return None
    return str(order_id), stamp


def _error(status: int, detail: str, meta: Any = None) -> JSONResponse:
    return JSONResponse(
        {"status": status, "detail": detail, "meta": meta or []}, status_code=status
    )


def _value(record: dict[str, Any], field: str) -> Any:
    value = record.get(field)
    if field in ("created_at", "updated_at"):
        return parse_time(value)
    if field == "total":
        return float(value or 0)
    return value


def list_orders(request: Request, rows: list[dict[str, Any]]) -> Response:
    """The ``GET /orders`` answer over ``rows`` (each order's current state)."""
    params = request.query_params
    try:
        page = int(params.get("page", 1))
        limit = int(params.get("limit", 10))
    except ValueError:
        return _error(
            422, "The given data was invalid.", {"fields": {"page": ["must be an integer"]}}
        )
    if page < 1 or not 1 <= limit <= 100:
        return _error(
            422, "The given data was invalid.", {"fields": {"limit": ["between 1 and 100"]}}
        )
    filters: dict[int, dict[str, str]] = {}
    for name, value in params.items():
        match = _FILTER.match(name)
        if match:
            filters.setdefault(int(match[1]), {})[match[2]] = value
    selected = rows
    for spec in filters.values():
        field, op, raw = spec.get("field"), spec.get("operator", "="), spec.get("value")
        if not field or raw is None or op not in _OPS:
            return _error(
                422, "The given data was invalid.", {"fields": {"filters": [f"bad filter {spec}"]}}
            )
        bound: Any = parse_time(raw) if field in ("created_at", "updated_at") else raw
        if field == "total":
            bound = float(raw)
        if bound is None:
            return _error(
                422, "The given data was invalid.", {"fields": {"filters": [f"bad date {raw}"]}}
            )
        selected = [
            r for r in selected if (v := _value(r, field)) is not None and _OPS[op](v, bound)
        ]
    sort_field = params.get("sort_field", "created_at")
    if sort_field not in SORT_FIELDS:
        return _error(422, "The given data was invalid.", {"fields": {"sort_field": ["invalid"]}})
    descending = params.get("sort_order", "desc").lower() == "desc"

    def sort_key(record: dict[str, Any]) -> tuple[Any, ...]:
        value = _value(record, sort_field)
        return (value is None, value if value is not None else 0, str(record["id"]))

    selected = sorted(selected, key=sort_key, reverse=descending)
    included = {p.strip() for p in params.get("include", "").split(",") if p.strip()}
    total = len(selected)
    pages = max(1, math.ceil(total / limit)) if total else 0
    chunk = [
        {k: v for k, v in r.items() if k not in SUBRESOURCES or k in included}
        for r in selected[(page - 1) * limit : page * limit]
    ]
    links: dict[str, str] | list[Any] = {}
    base = str(request.url).split("?", 1)[0]
    others = {k: v for k, v in params.items() if k != "page"}
    if page < pages:
        links["next"] = f"{base}?{urlencode({**others, 'page': page + 1})}"
    if 1 < page <= pages + 1:
        links["previous"] = f"{base}?{urlencode({**others, 'page': page - 1})}"
    pagination = {
        "total": total,
        "count": len(chunk),
        "per_page": limit,
        "current_page": page,
        "total_pages": pages,
        "links": links or [],  # PHP serialises an empty links array as []
    }
    return JSONResponse({"data": chunk, "meta": {"pagination": pagination}})
