"""Hand-written LightFunnels and PrestaShop order lines, as the pulls land them."""

from __future__ import annotations

from typing import Any


def lightfunnels_order(order_id: int, **changes: Any) -> dict[str, Any]:
    """A LightFunnels GraphQL ``Order`` node (times as ``YYYY-MM-DD HH:MM:SS``, UTC)."""
    node = {
        "id": "T3JkZXI6MTAwMTIz",
        "_id": order_id,
        "name": f"#{order_id}",
        "total": 299.0,
        "currency": "MAD",
        "financial_status": "pending",
        "fulfillment_status": "unfulfilled",
        "email": "amina@example.ma",
        "phone": None,
        "tags": [],
        "created_at": "2026-03-01 10:00:00",
        "updated_at": "2026-03-01 10:00:00",
        "cancelled_at": None,
        "customer": {"_id": 7, "full_name": "Amina Alaoui", "phone": "0612345678"},
        "shipping_address": {
            "first_name": "Amina",
            "last_name": "Alaoui",
            "line1": "12 rue Atlas",
            "city": "Casablanca",
            "country": "MA",
            "phone": "0612345678",
        },
        "items": [{"_id": 1, "title": "Sérum", "price": 299.0}],
    }
    return {**node, **changes}


def prestashop_order(order_id: int, **changes: Any) -> dict[str, Any]:
    """A PrestaShop webservice order with the ``cod360_related`` the pull adds (shop time)."""
    order = {
        "id": order_id,
        "id_address_delivery": str(order_id),
        "id_customer": str(100_000 + order_id),
        "current_state": "13",
        "module": "ps_cashondelivery",
        "payment": "Paiement à la livraison",
        "date_add": "2026-03-01 11:00:00",
        "date_upd": "2026-03-01 11:00:00",
        "reference": f"CD{order_id:07d}",
        "total_paid": "199.000000",
        "associations": {"order_rows": [{"id": "1", "product_quantity": "2"}]},
        "cod360_related": {
            "address_delivery": {
                "id": order_id,
                "firstname": "Youssef",
                "lastname": "Bennani",
                "address1": "5 avenue Hassan II",
                "city": "Rabat",
                "phone": "",
                "phone_mobile": "06 61 23 45 67",
            },
            "customer": {
                "id": 100_000 + order_id,
                "firstname": "Youssef",
                "lastname": "Bennani",
                "email": "youssef@example.ma",
            },
        },
    }
    return {**order, **changes}
