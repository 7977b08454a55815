"""The read side of the Shopify contract server: the ``orders`` connection and its cost.

- ``orders(first, after, sortKey, reverse, query)`` over an :class:`OrderFeed`,
  with opaque base64 cursors (keyset: an order updated during a pull is met
  again later, as at Shopify), ``pageInfo``, and the search syntax's date terms
  (``updated_at:>'2026-01-01T00:00:00Z'``, ``>=``, ``<``, ``<=``; other terms are
  ignored, as Shopify ignores what it cannot parse);
- the calculated query cost of an ``orders`` query: objects 1, connections
  ``2 + first × (node cost)``, scalars 0; over 1000 is ``MAX_COST_EXCEEDED``.
  The bucket is charged the requested cost and refunded down to the actual
  cost (the nodes really returned), as Shopify does.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType
from graphql.language import FieldNode, InlineFragmentNode, IntValueNode, VariableNode

from sandbox.contract_servers.order_feed import id_order, parse_time

MAX_QUERY_COST = 1000
MAX_PAGE_SIZE = 250
_TERM = re.compile(r"(?P<field>[a-z_]+):(?P<op><=|>=|<|>|=)?(?P<value>'[^']*'|\"[^\"]*\"|\S+)")
_DATE_FIELDS = {"updated_at": "updatedAt", "created_at": "createdAt", "processed_at": "processedAt"}
_SORT_FIELDS = {"UPDATED_AT": "updatedAt", "CREATED_AT": "createdAt", "PROCESSED_AT": "processedAt"}


def shopify_key(record: dict[str, Any]) -> tuple[str, datetime] | None:
    """``(numeric id, updatedAt)`` of an ``Order`` node."""
    gid, stamp = str(record.get("id") or ""), parse_time(record.get("updatedAt"))
    number = gid.rpartition("/")[2]
    if not gid.startswith("gid://shopify/Order/") or not number.isdigit() or stamp is None:
        return None
    return number, stamp


# --- cost ---------------------------------------------------------------------------------


def reads_orders(document: Any) -> bool:
    operation = _operation(document)
    return operation.operation is OperationType.QUERY and any(
        isinstance(s, FieldNode) and s.name.value == "orders"
        for s in operation.selection_set.selections
    )


def query_cost(document: Any, variables: dict[str, Any] | None) -> int:
    """The requested cost of a query, Shopify's way (see the module docstring)."""
    return _cost(_operation(document).selection_set, variables or {})


def actual_cost(
    requested: int, document: Any, variables: dict[str, Any] | None, returned: int
) -> int:
    """The cost of what was returned: the ``orders`` page's size instead of ``first``."""
    first = _orders_first(document, variables or {})
    if not first or returned >= first:
        return requested
    per_node = (requested - 2) / first
    return round(2 + returned * per_node)


def max_cost_exceeded(cost: int) -> dict[str, Any]:
    message = (
        f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\n"
        "To query larger amounts of data with fewer limits, bulk operations should be used instead."
    )
    return {
        "errors": [
            {
                "message": message,
                "extensions": {
                    "code": "MAX_COST_EXCEEDED",
                    "cost": cost,
                    "maxCost": MAX_QUERY_COST,
                },
            }
        ]
    }


def _operation(document: Any) -> OperationDefinitionNode:
    return next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))


def _int_argument(field: FieldNode, name: str, variables: dict[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value != name:
            continue
        if isinstance(argument.value, IntValueNode):
            return int(argument.value.value)
        if isinstance(argument.value, VariableNode):
            value = variables.get(argument.value.name.value)
            return int(value) if isinstance(value, int) else None
    return None


def _cost(selection_set: Any, variables: dict[str, Any]) -> int:
    total = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, InlineFragmentNode):
            total += _cost(selection.selection_set, variables)
        elif isinstance(selection, FieldNode) and selection.selection_set is not None:
            size = _int_argument(selection, "first", variables) or _int_argument(
                selection, "last", variables
            )
            if size is None:
                total += 1 + _cost(selection.selection_set, variables)
            else:
                total += 2 + size * _node_cost(selection.selection_set, variables)
    return total


def _node_cost(connection: Any, variables: dict[str, Any]) -> int:
    cost = 0
    for selection in connection.selections:
        if not isinstance(selection, FieldNode) or selection.selection_set is None:
            continue
        if selection.name.value == "nodes":
            cost += 1 + _cost(selection.selection_set, variables)
        elif selection.name.value == "edges":
            for part in selection.selection_set.selections:
                if isinstance(part, FieldNode) and part.name.value == "node" and part.selection_set:
                    cost += 1 + _cost(part.selection_set, variables)
    return cost


def _orders_first(document: Any, variables: dict[str, Any]) -> int | None:
    for selection in _operation(document).selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value == "orders":
            return _int_argument(selection, "first", variables)
    return None


# --- the connection -------------------------------------------------------------------------


def encode_cursor(value: str, order_id: str) -> str:
    raw = json.dumps({"last_id": order_id, "last_value": value}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(data["last_value"]), str(data["last_id"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from None


def _matches(record: dict[str, Any], search: str | None) -> bool:
    for term in _TERM.finditer(search or ""):
        field = _DATE_FIELDS.get(term["field"])
        if field is None:
            continue
        wanted = parse_time(term["value"].strip("'\""))
        actual = parse_time(record.get(field))
        if wanted is None or actual is None:
            continue
        op = term["op"] or "="
        if not {
            ">": actual > wanted,
            ">=": actual >= wanted,
            "<": actual < wanted,
            "<=": actual <= wanted,
            "=": actual == wanted,
        }[op]:
            return False
    return True


def orders_connection(
    rows: list[tuple[datetime, str, dict[str, Any]]],
    *,
    first: int | None,
    after: str | None,
    sort_key: str | None,
    reverse: bool,
    query: str | None,
) -> dict[str, Any]:
    """One page of ``orders`` from the feed's visible rows."""
    if first is None:
        raise GraphQLError("you must provide one of first or last (only first is modelled here)")
    if not 0 < first <= MAX_PAGE_SIZE:
        raise GraphQLError(f"The first argument must be between 1 and {MAX_PAGE_SIZE}.")
    field = _SORT_FIELDS.get(sort_key or "ID")

    def sort_value(row: tuple[datetime, str, dict[str, Any]]) -> tuple[Any, ...]:
        stamp = parse_time(row[2].get(field)) if field else None
        return (stamp.isoformat() if stamp else "", id_order(row[1]))

    ordered = sorted((r for r in rows if _matches(r[2], query)), key=sort_value, reverse=reverse)
    if after:
        value, last_id = decode_cursor(after)
        mark = (value, id_order(last_id))
        ordered = [
            r for r in ordered if (sort_value(r) < mark if reverse else sort_value(r) > mark)
        ]
    page = ordered[:first]
    cursors = [encode_cursor(sort_value(r)[0], r[1]) for r in page]
    nodes = [order_node(r[2]) for r in page]
    return {
        "nodes": nodes,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
        "pageInfo": {
            "hasNextPage": len(ordered) > first,
            "hasPreviousPage": bool(after),
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def order_node(record: dict[str, Any]) -> dict[str, Any]:
    """A feed record as an ``Order`` the schema can resolve (connections take ``first``)."""
    items = list((record.get("lineItems") or {}).get("nodes") or [])

    def line_items(info: Any, first: int | None = None, **_: Any) -> dict[str, Any]:
        shown = items[:first] if first is not None else items
        return {
            "nodes": shown,
            "pageInfo": {
                "hasNextPage": len(shown) < len(items),
                "hasPreviousPage": False,
                "startCursor": None,
                "endCursor": None,
            },
        }

    return {
        **record,
        "__typename": "Order",
        "lineItems": line_items,
        "fulfillmentOrders": lambda info, **_: {"nodes": []},
    }
