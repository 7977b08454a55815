"""The sample store's orders in the shapes of platforms it does not simulate.

The sample store writes Shopify, WooCommerce and YouCan orders. To serve
LightFunnels and PrestaShop orders from the same world, the contract servers
re-express them: a Shopify ``Order`` node as a LightFunnels ``Order``, a
WooCommerce order as a PrestaShop order with its delivery address and customer.
Same customers, phones, cities, totals and update times; only the shape
changes. (Fixtures for tests and the demo: nothing here is a vendor contract.)
"""

from __future__ import annotations

import base64
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.contract_servers.order_feed import parse_time

LF_TIME = "%Y-%m-%d %H:%M:%S"
_LF_FINANCIAL = {"PAID": "paid", "REFUNDED": "refunded", "PARTIALLY_REFUNDED": "partially_refunded"}
# PrestaShop's default order states (ps_order_state) for the WooCommerce statuses the sample uses.
PS_STATES = {
    "pending": "13",  # Awaiting Cash On Delivery validation
    "on-hold": "13",
    "processing": "3",  # Processing in progress
    "completed": "5",  # Delivered
    "cancelled": "6",  # Canceled
    "failed": "7",  # Refunded (the sample's RTO)
    "refunded": "7",
}


def _lf_time(value: Any) -> str | None:
    moment = parse_time(value)
    return moment.astimezone(UTC).strftime(LF_TIME) if moment else None


def lightfunnels_order(node: dict[str, Any]) -> dict[str, Any]:
    """A Shopify ``Order`` node of the sample store as a LightFunnels ``Order``."""
    # LightFunnels ids are 32-bit: the order number (#100123 -> 100123) is unique and small.
    number = (
        int(str(node.get("name") or "").lstrip("#") or 0)
        or int(str(node["id"]).rpartition("/")[2]) % 2**31
    )
    customer = node.get("customer") or {}
    address = node.get("shippingAddress") or {}
    money = lambda key: float(((node.get(key) or {}).get("shopMoney") or {}).get("amount") or 0)  # noqa: E731
    items = []
    for line in (node.get("lineItems") or {}).get("nodes") or []:
        price = float(
            ((line.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount") or 0
        )
        for _unit in range(int(line.get("quantity") or 1)):
            item_id = number * 100 + len(items) + 1
            items.append(
                {
                    "id": base64.b64encode(f"OrderItem:{item_id}".encode()).decode(),
                    "_id": int(item_id),
                    "title": line.get("title"),
                    "sku": line.get("sku"),
                    "price": price,
                }
            )
    full_name = " ".join(p for p in (customer.get("firstName"), customer.get("lastName")) if p)
    return {
        "id": base64.b64encode(f"Order:{number}".encode()).decode(),
        "_id": number,
        "name": node.get("name"),
        "total": money("totalPriceSet"),
        "subtotal": money("subtotalPriceSet"),
        "shipping": money("totalShippingPriceSet"),
        "currency": node.get("currencyCode") or "MAD",
        "financial_status": _LF_FINANCIAL.get(node.get("displayFinancialStatus") or "", "pending"),
        "fulfillment_status": "fulfilled"
        if node.get("displayFulfillmentStatus") == "FULFILLED"
        else "unfulfilled",
        "email": node.get("email"),
        "phone": node.get("phone"),
        "notes": node.get("note"),
        "tags": list(node.get("tags") or []),
        "test": False,
        "created_at": _lf_time(node.get("createdAt")),
        "updated_at": _lf_time(node.get("updatedAt")),
        "cancelled_at": _lf_time(node.get("cancelledAt")),
        "customer": {
            "id": base64.b64encode(f"Customer:{customer.get('id', '')}".encode()).decode(),
            "_id": int(str(customer.get("id") or "0").rpartition("/")[2] or 0) % 2**31,
            "full_name": full_name or None,
            "first_name": customer.get("firstName"),
            "last_name": customer.get("lastName"),
            "email": customer.get("email"),
            "phone": customer.get("phone"),
        },
        "shipping_address": {
            "first_name": address.get("firstName"),
            "last_name": address.get("lastName"),
            "line1": address.get("address1"),
            "line2": address.get("address2"),
            "city": address.get("city"),
            "state": address.get("province"),
            "country": address.get("countryCodeV2"),
            "zip": address.get("zip"),
            "phone": address.get("phone"),
        },
        "items": items,
    }


def prestashop_records(
    order: dict[str, Any], shop_timezone: str = "Africa/Casablanca"
) -> dict[str, Any]:
    """A WooCommerce order of the sample store as PrestaShop ``order``, ``address`` and
    ``customer`` resources (the webservice's JSON: ids as numbers, the rest as text)."""
    zone = ZoneInfo(shop_timezone)

    def local(value: Any) -> str:
        moment = parse_time(value)
        return moment.astimezone(zone).strftime(LF_TIME) if moment else "0000-00-00 00:00:00"

    number = int(order["id"])
    billing, shipping = order.get("billing") or {}, order.get("shipping") or {}
    customer_id = 100_000 + number  # guest checkouts: one customer per order
    added, updated = local(order.get("date_created_gmt")), local(order.get("date_modified_gmt"))
    total = f"{float(order.get('total') or 0):.6f}"
    cod = order.get("payment_method") == "cod"
    rows = [
        {
            "id": str(item.get("id", index)),
            "product_id": str(item.get("product_id", 0)),
            "product_attribute_id": "0",
            "product_quantity": str(item.get("quantity", 1)),
            "product_name": item.get("name"),
            "product_reference": item.get("sku") or "",
            "product_price": f"{float(item.get('price') or 0):.6f}",
            "unit_price_tax_incl": f"{float(item.get('price') or 0):.6f}",
            "unit_price_tax_excl": f"{float(item.get('price') or 0):.6f}",
        }
        for index, item in enumerate(order.get("line_items") or [], start=1)
    ]
    return {
        "order": {
            "id": number,
            "id_address_delivery": str(number),
            "id_address_invoice": str(number),
            "id_cart": str(number),
            "id_currency": "1",
            "id_lang": "1",
            "id_customer": str(customer_id),
            "id_carrier": "1",
            "current_state": PS_STATES.get(order.get("status") or "", "13"),
            "module": "ps_cashondelivery" if cod else "stripe_official",
            "payment": "Paiement à la livraison" if cod else "Carte bancaire",
            "valid": "1" if order.get("status") in ("processing", "completed") else "0",
            "date_add": added,
            "date_upd": updated,
            "reference": f"CD{number:07d}",
            "total_paid": total,
            "total_paid_tax_incl": total,
            "total_paid_tax_excl": total,
            "total_paid_real": total if order.get("status") == "completed" else "0.000000",
            "total_shipping": f"{float(order.get('shipping_total') or 0):.6f}",
            "conversion_rate": "1.000000",
            "note": order.get("customer_note") or "",
            "associations": {"order_rows": rows},
        },
        "address": {
            "id": number,
            "id_customer": str(customer_id),
            "id_country": "113",  # Morocco in PrestaShop's default country list
            "alias": "Mon adresse",
            "lastname": shipping.get("last_name") or billing.get("last_name"),
            "firstname": shipping.get("first_name") or billing.get("first_name"),
            "address1": shipping.get("address_1") or billing.get("address_1"),
            "address2": billing.get("address_2") or "",
            "postcode": billing.get("postcode") or "",
            "city": shipping.get("city") or billing.get("city"),
            "phone": "",
            "phone_mobile": billing.get("phone") or shipping.get("phone") or "",
            "deleted": "0",
            "date_add": added,
            "date_upd": added,
        },
        "customer": {
            "id": customer_id,
            "lastname": billing.get("last_name"),
            "firstname": billing.get("first_name"),
            "email": billing.get("email") or "",
            "is_guest": "1",
            "date_add": added,
            "date_upd": added,
        },
    }
