"""PrestaShop orders through the webservice (``/api/orders``; the key is the Basic-auth user).

``GET /api/orders?display=full&output_format=JSON&date=1
&filter[date_upd]=[from,to]&sort=[date_upd_ASC,id_ASC]&limit=offset,count``
(devdocs.prestashop-project.org, webservice "Additional list parameters" and
"Cheat sheet"; ``date=1`` is what makes a date filter work, PrestaShop issue
#10822). The interval is inclusive; dates are the shop's wall-clock time
(``PS_TIMEZONE``), so ``shop_timezone`` must match it. An empty list comes back
as ``[]``, not ``{"orders": []}``.

An order only points at its delivery address and customer by id, and a COD
order without a phone is useless, so each page's addresses
(``/api/addresses?display=full&filter[id]=[a|b]``) and customers
(``display=[id,firstname,lastname,email]``, never the password hash) are
fetched too and kept beside the order under ``cod360_related`` — a name no
PrestaShop field has, so the vendor's own fields stay as sent. The key needs GET
on orders, addresses and customers. 401 bodies carry PrestaShop's codes
(17 empty key, 18 bad format, 20 inactive, 21 no permission).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from common.transport import basic_auth
from connectors.storefronts.base import (
    Page,
    SnapshotKey,
    StorefrontPuller,
    StorefrontPullError,
    safe_key,
)
from connectors.storefronts.http import HttpSettings, StorefrontHttp, StoreRef
from connectors.storefronts.paging import Fetched, seek_pages

RELATED_KEY = "cod360_related"
CUSTOMER_FIELDS = "[id,firstname,lastname,email]"
UNTIL = "9999-12-31 23:59:59"  # the top of MySQL's DATETIME: an open-ended interval


class PrestaShopOrdersPuller(StorefrontPuller):
    """Orders of one PrestaShop shop, oldest update first, with address and customer."""

    platform = "prestashop"

    def __init__(
        self,
        *,
        store: StoreRef,
        base_url: str,
        api_key: str,
        shop_timezone: str = "Africa/Casablanca",
        page_size: int = 100,
        with_related: bool = True,
        http: HttpSettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = StorefrontHttp(
            store=store,
            base_url=base_url,
            auth=basic_auth(api_key, ""),
            settings=http or HttpSettings(),
            secrets=[api_key],
            describe_error=_error_text,
            transport=transport,
        )
        self.store = store
        self.zone = ZoneInfo(shop_timezone)
        self.page_size = max(1, page_size)
        self.with_related = with_related

    def close(self) -> None:
        self.http.close()

    def snapshot_key(self, record: dict[str, Any]) -> SnapshotKey | None:
        return safe_key(record, "id", "date_upd", naive_tz=self.zone)

    def pages(self, since: datetime | None) -> Iterator[Page]:
        # The interval is inclusive: the order at the cursor is read again and recognised.
        return seek_pages(
            self._fetch,
            since=since,
            page_size=self.page_size,
            updated_at=lambda r: k.updated_at if (k := self.snapshot_key(r)) else None,
            first_page=0,
        )

    def _fetch(self, cursor: datetime | None, index: int) -> Fetched:
        params: dict[str, Any] = {
            "display": "full",
            "output_format": "JSON",
            "sort": "[date_upd_ASC,id_ASC]",
            "limit": f"{index * self.page_size},{self.page_size}",
        }
        if cursor is not None:
            local = cursor.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")
            params |= {"date": "1", "filter[date_upd]": f"[{local},{UNTIL}]"}
        orders = self._list("orders", params, f"orders from offset {index * self.page_size}")
        if self.with_related and orders:
            self._attach_related(orders)
        return Fetched(orders)

    def _attach_related(self, orders: list[dict[str, Any]]) -> None:
        address_ids = sorted(
            {str(o.get("id_address_delivery")) for o in orders} - {"None", "0", ""}
        )
        customer_ids = sorted({str(o.get("id_customer")) for o in orders} - {"None", "0", ""})
        addresses = self._by_id("addresses", address_ids, "full")
        customers = self._by_id("customers", customer_ids, CUSTOMER_FIELDS)
        for order in orders:
            order[RELATED_KEY] = {
                "address_delivery": addresses.get(str(order.get("id_address_delivery"))),
                "customer": customers.get(str(order.get("id_customer"))),
            }

    def _by_id(self, resource: str, ids: list[str], display: str) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        params = {
            "display": display,
            "output_format": "JSON",
            "filter[id]": f"[{'|'.join(ids)}]",
        }
        return {str(r.get("id")): r for r in self._list(resource, params, f"{resource} of a page")}

    def _list(self, resource: str, params: dict[str, Any], what: str) -> list[dict[str, Any]]:
        response = self.http.call("GET", f"/api/{resource}", what=what, params=params)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or body is None:
            raise StorefrontPullError(
                f"{self.store.label()}: {resource} listing refused (HTTP {response.status_code}: "
                f"{_error_text(response)})"
            )
        if body == []:  # PrestaShop's JSON for an empty list
            return []
        items = body.get(resource) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise StorefrontPullError(f"{self.store.label()}: no '{resource}' list in the answer")
        return items


def _error_text(response: httpx.Response) -> str:
    """PrestaShop's ``{"errors": [{"code", "message"}]}``."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return response.text[:200]
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return f"code {errors[0].get('code')}: {errors[0].get('message', '')}"
    return response.reason_phrase
