"""Vendor record shapes: each function returns one record exactly as the vendor sends it.

The shapes follow docs/landing.md (the contract). Every builder takes plain
values, so the simulator decides *what* happens and these decide *how it looks*.
"""

from __future__ import annotations

import base64
import time

from sandbox.sample_store.world import YOUCAN_STATUSES

# --------------------------------------------------------------------------- time formats


def iso_z(ts: int) -> str:
    """``2026-01-05T19:22:10Z``"""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def iso_naive_utc(ts: int) -> str:
    """``2026-01-05T19:22:10`` (WooCommerce ``*_gmt`` fields)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))


def iso_naive_local(ts: int) -> str:
    """Casablanca wall-clock time without offset (WooCommerce ``date_created``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts + 3600))


def iso_local(ts: int) -> str:
    """``2026-01-05T20:22:10+01:00`` (Morocco's usual offset)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts + 3600)) + "+01:00"


def iso_youcan(ts: int) -> str:
    """``2026-01-05T19:22:10.000000Z``"""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(ts))


def carrier_time(ts: int, offset: str) -> str:
    return iso_z(ts) if offset == "Z" else iso_local(ts)


def money(amount: float) -> str:
    return f"{amount:.2f}"


# --------------------------------------------------------------------------- storefronts

COD_GATEWAY_SHOPIFY = "Cash on Delivery (COD)"


def shopify_order(
    *,
    numeric_id: int,
    number: int,
    created_ts: int,
    updated_ts: int,
    customer_gid: str,
    first_name: str,
    last_name: str,
    phone: str,
    customer_phone: str | None,
    email: str | None,
    address1: str,
    address2: str,
    city: str,
    province: str,
    zip_code: str,
    items: list[tuple],
    shipping_fee: int,
    total: int,
    prepaid: bool,
    tags: list[str],
    cancelled_ts: int | None,
    closed_ts: int | None,
    note: str | None,
    cancel_reason: str | None,
    financial_status: str,
    fulfillment_status: str,
) -> dict:
    """Admin GraphQL ``Order`` node."""
    shop_money = _shopify_money
    return {
        "id": f"gid://shopify/Order/{numeric_id}",
        "name": f"#{number}",
        "createdAt": iso_z(created_ts),
        "updatedAt": iso_z(updated_ts),
        "processedAt": iso_z(created_ts),
        "cancelledAt": iso_z(cancelled_ts) if cancelled_ts is not None else None,
        "cancelReason": cancel_reason,
        "closed": closed_ts is not None,
        "closedAt": iso_z(closed_ts) if closed_ts is not None else None,
        "displayFinancialStatus": financial_status,
        "displayFulfillmentStatus": fulfillment_status,
        "paymentGatewayNames": ["CMI"] if prepaid else [COD_GATEWAY_SHOPIFY],
        "currencyCode": "MAD",
        "tags": tags,
        "note": note,
        "phone": phone,
        "email": email,
        "customer": {
            "id": customer_gid,
            "firstName": first_name,
            "lastName": last_name,
            "phone": customer_phone,
            "email": email,
        },
        "shippingAddress": {
            "firstName": first_name,
            "lastName": last_name,
            "address1": address1,
            "address2": address2 or None,
            "city": city,
            "province": province,
            "zip": zip_code,
            "countryCodeV2": "MA",
            "phone": phone,
        },
        "subtotalPriceSet": shop_money(total - shipping_fee),
        "totalShippingPriceSet": shop_money(shipping_fee),
        "totalPriceSet": shop_money(total),
        "lineItems": {
            "nodes": [
                {
                    "id": f"gid://shopify/LineItem/{numeric_id * 10 + index + 1}",
                    "title": title,
                    "quantity": quantity,
                    "sku": sku,
                    "originalUnitPriceSet": shop_money(price),
                }
                for index, (sku, title, price, quantity) in enumerate(items)
            ]
        },
    }


def _shopify_money(amount: float) -> dict:
    return {"shopMoney": {"amount": money(amount), "currencyCode": "MAD"}}


def woocommerce_order(
    *,
    order_id: int,
    order_key: str,
    status: str,
    created_ts: int,
    modified_ts: int,
    paid_ts: int | None,
    completed_ts: int | None,
    first_name: str,
    last_name: str,
    phone: str,
    email: str,
    address1: str,
    address2: str,
    city: str,
    state: str,
    postcode: str,
    items: list[tuple],
    product_ids: list[int],
    shipping_fee: int,
    total: int,
    prepaid: bool,
    customer_note: str,
) -> dict:
    """REST v3 order object."""
    return {
        "id": order_id,
        "parent_id": 0,
        "number": str(order_id),
        "order_key": order_key,
        "created_via": "checkout",
        "version": "9.4.2",
        "status": status,
        "currency": "MAD",
        "date_created": iso_naive_local(created_ts),
        "date_created_gmt": iso_naive_utc(created_ts),
        "date_modified": iso_naive_local(modified_ts),
        "date_modified_gmt": iso_naive_utc(modified_ts),
        "discount_total": "0.00",
        "shipping_total": money(shipping_fee),
        "total": money(total),
        "total_tax": "0.00",
        "prices_include_tax": False,
        "customer_id": 0,
        "customer_note": customer_note,
        "billing": {
            "first_name": first_name,
            "last_name": last_name,
            "company": "",
            "address_1": address1,
            "address_2": address2,
            "city": city,
            "state": state,
            "postcode": postcode,
            "country": "MA",
            "email": email,
            "phone": phone,
        },
        "shipping": {
            "first_name": first_name,
            "last_name": last_name,
            "company": "",
            "address_1": address1,
            "address_2": address2,
            "city": city,
            "state": state,
            "postcode": postcode,
            "country": "MA",
            "phone": phone,
        },
        "payment_method": "stripe" if prepaid else "cod",
        "payment_method_title": "Carte bancaire" if prepaid else "Paiement à la livraison",
        "transaction_id": f"pi_{order_key[9:]}" if prepaid else "",
        "date_paid": iso_naive_local(paid_ts) if paid_ts is not None else None,
        "date_paid_gmt": iso_naive_utc(paid_ts) if paid_ts is not None else None,
        "date_completed": iso_naive_local(completed_ts) if completed_ts is not None else None,
        "date_completed_gmt": iso_naive_utc(completed_ts) if completed_ts is not None else None,
        "line_items": [
            {
                "id": order_id * 10 + index + 1,
                "name": title,
                "product_id": product_ids[index],
                "variation_id": 0,
                "quantity": quantity,
                "sku": sku,
                "price": price,
                "subtotal": money(price * quantity),
                "total": money(price * quantity),
            }
            for index, (sku, title, price, quantity) in enumerate(items)
        ],
        "shipping_lines": [
            {
                "id": order_id * 10 + 9,
                "method_title": "Livraison" if shipping_fee else "Livraison gratuite",
                "method_id": "flat_rate" if shipping_fee else "free_shipping",
                "total": money(shipping_fee),
            }
        ],
        "meta_data": [],
    }


# confirmation_status / shipping_status integers that go with each slug
_YOUCAN_SUB_STATUS = {
    "pending": (0, 0),
    "confirmed": (1, 0),
    "unreachable": (3, 0),
    "cancelled": (2, 0),
    "shipped": (1, 1),
    "delivered": (1, 2),
    "returned": (1, 3),
}


def youcan_order(
    *,
    order_id: str,
    ref: str,
    slug: str,
    created_ts: int,
    updated_ts: int,
    first_name: str,
    last_name: str,
    phone: str,
    email: str | None,
    address1: str,
    address2: str,
    city: str,
    region: str,
    zip_code: str,
    items: list[tuple],
    variant_ids: list[str],
    product_ids: list[str],
    shipping_fee: int,
    total: int,
    prepaid: bool,
    paid: bool,
) -> dict:
    """Store Admin API order entity."""
    status_int, status_name, color = YOUCAN_STATUSES[slug]
    confirmation_status, shipping_status = _YOUCAN_SUB_STATUS[slug]
    return {
        "id": order_id,
        "ref": ref,
        "total": float(total),
        "vat": 0,
        "currency": "MAD",
        "customer_currency": "MAD",
        "customer_currency_rate": 1,
        "notes": None,
        "status": status_int,
        "status_new": status_name,
        "status_object": {"slug": slug, "name": status_name, "color": color},
        "payment_status": 1 if paid else 0,
        "payment_status_new": "Payé" if paid else "Non payé",
        "confirmation_status": confirmation_status,
        "shipping_status": shipping_status,
        "tags": [],
        "extra_fields": [],
        "custom_fields": [],
        "is_refunded_by_platform": False,
        "platform_fee": 0,
        "payment": {
            "method": "youcanpay" if prepaid else "cod",
            "status": 1 if paid else 0,
        },
        "customer": {
            "first_name": first_name,
            "last_name": last_name,
            "full_name": f"{first_name} {last_name}",
            "phone": phone,
            "email": email,
            "city": city,
            "country": "MA",
        },
        "shipping": {
            "price": float(shipping_fee),
            "address": {
                "first_line": address1,
                "second_line": address2 or None,
                "city": city,
                "region": region,
                "country_code": "MA",
                "zip_code": zip_code,
                "phone": phone,
            },
        },
        "variants": [
            {
                "id": variant_ids[index],
                "quantity": quantity,
                "price": float(price),
                "product": {"id": product_ids[index], "name": title, "sku": sku},
            }
            for index, (sku, title, price, quantity) in enumerate(items)
        ],
        "created_at": iso_youcan(created_ts),
        "updated_at": iso_youcan(updated_ts),
        "links": {"show": f"https://seller-area.youcan.shop/admin/orders/{order_id}"},
    }


def tiktok_lead(
    *,
    lead_id: str,
    create_time: str | int,
    advertiser_id: str,
    campaign_id: str,
    ad_id: str,
    ad_name: str,
    form_id: str,
    form_name: str,
    full_name: str,
    phone: str,
    city: str,
    address: str,
    offer: str,
) -> dict:
    """Lead Generation lead, as downloaded (ISO time) or pushed (unix seconds)."""
    return {
        "lead_id": lead_id,
        "create_time": create_time,
        "advertiser_id": advertiser_id,
        "campaign_id": campaign_id,
        "ad_id": ad_id,
        "ad_name": ad_name,
        "form_id": form_id,
        "form_name": form_name,
        "field_data": [
            {"name": "full_name", "values": [full_name]},
            {"name": "phone_number", "values": [phone]},
            {"name": "city", "values": [city]},
            {"name": "address", "values": [address]},
            {"name": "offer", "values": [offer]},
        ],
    }


# --------------------------------------------------------------------------- WhatsApp

WABA_ID = "104857362910583"
PHONE_NUMBER_ID = "109384756102938"
BUSINESS_DISPLAY_PHONE = "212522450000"
ERROR_CODES_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

WHATSAPP_ERRORS: dict[int, tuple[str, str]] = {
    131026: ("Message undeliverable", "Message Undeliverable."),
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.",
    ),
    131049: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    131050: (
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing "
        "messages on WhatsApp from your business",
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing "
        "messages on WhatsApp from your business",
    ),
}


def wamid(wa: str, hex_id: str, inbound: bool) -> str:
    """A message id shaped like Meta's (base64 of a small binary header + the number)."""
    raw = (
        b"\x1c\x18"
        + bytes([len(wa)])
        + wa.encode()
        + b"\x15\x02\x00"
        + (b"\x12\x18\x14" if inbound else b"\x11\x18\x12")
        + hex_id.encode()
        + b"\x00"
    )
    return "wamid." + base64.b64encode(raw).decode()


def _envelope(value: dict, field: str = "messages") -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": field}]}],
    }


def _metadata() -> dict:
    return {"display_phone_number": BUSINESS_DISPLAY_PHONE, "phone_number_id": PHONE_NUMBER_ID}


def wa_status(
    *,
    message_id: str,
    status: str,
    ts: int,
    recipient: str,
    callback: str,
    category: str,
    conversation_id: str,
    conversation_expires_ts: int | None,
    error_code: int | None = None,
) -> dict:
    """A ``statuses`` webhook for one message the brand sent."""
    entry: dict = {
        "id": message_id,
        "status": status,
        "timestamp": str(ts),
        "recipient_id": recipient,
    }
    if status in ("sent", "delivered"):
        conversation: dict = {"id": conversation_id}
        if conversation_expires_ts is not None:
            conversation["expiration_timestamp"] = str(conversation_expires_ts)
        conversation["origin"] = {"type": category}
        entry["conversation"] = conversation
        entry["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "category": category,
            "type": "regular",
        }
    if status == "failed" and error_code is not None:
        title, details = WHATSAPP_ERRORS[error_code]
        entry["errors"] = [
            {
                "code": error_code,
                "title": title,
                "message": title,
                "error_data": {"details": details},
                "href": ERROR_CODES_HREF,
            }
        ]
    entry["biz_opaque_callback_data"] = callback
    return _envelope(
        {"messaging_product": "whatsapp", "metadata": _metadata(), "statuses": [entry]}
    )


def wa_inbound(
    *,
    message_id: str,
    ts: int,
    sender: str,
    profile_name: str,
    kind: str,
    text: str,
    payload: str | None = None,
    context_id: str | None = None,
) -> dict:
    """A ``messages`` webhook: a customer's text or quick-reply button tap."""
    message: dict = {}
    if context_id is not None:
        message["context"] = {"from": BUSINESS_DISPLAY_PHONE, "id": context_id}
    message["from"] = sender
    message["id"] = message_id
    message["timestamp"] = str(ts)
    if kind == "button":
        message["type"] = "button"
        message["button"] = {"payload": payload, "text": text}
    else:
        message["text"] = {"body": text}
        message["type"] = "text"
    return _envelope(
        {
            "messaging_product": "whatsapp",
            "metadata": _metadata(),
            "contacts": [{"profile": {"name": profile_name}, "wa_id": sender}],
            "messages": [message],
        }
    )


def wa_user_preference(*, ts: int, user: str, profile_name: str, value: str) -> dict:
    """A ``user_preferences`` webhook: marketing messages stopped or resumed."""
    detail = (
        "User requested to stop marketing messages"
        if value == "stop"
        else "User requested to resume marketing messages"
    )
    return _envelope(
        {
            "messaging_product": "whatsapp",
            "metadata": _metadata(),
            "contacts": [{"profile": {"name": profile_name}, "wa_id": user}],
            "user_preferences": [
                {
                    "wa_id": user,
                    "detail": detail,
                    "category": "marketing_messages",
                    "value": value,
                    "timestamp": ts,
                }
            ],
        },
        field="user_preferences",
    )


# --------------------------------------------------------------------------- envelopes


def carrier_event(
    *,
    carrier: str,
    tracking_number: str,
    order_ref: str,
    raw_status: str,
    event_time: str,
    city: str | None,
    comment: str | None,
    event_id: str | None,
) -> dict:
    record = {
        "carrier": carrier,
        "tracking_number": tracking_number,
        "order_ref": order_ref,
        "raw_status": raw_status,
        "event_time": event_time,
        "city": city,
        "comment": comment,
    }
    if event_id is not None:
        record["event_id"] = event_id
    return record


CARRIER_CSV_COLUMNS: tuple[str, ...] = (
    "carrier",
    "tracking_number",
    "order_ref",
    "raw_status",
    "event_time",
    "city",
    "comment",
    "event_id",
)


def sms_event(
    *,
    provider: str,
    message_id: str,
    direction: str,
    phone: str,
    status: str,
    event_time: str,
    body: str | None,
    order_ref: str | None,
) -> dict:
    record = {
        "provider": provider,
        "message_id": message_id,
        "direction": direction,
        "phone": phone,
        "status": status,
        "event_time": event_time,
        "body": body,
    }
    if order_ref is not None:
        record["order_ref"] = order_ref
    return record


def lead_signal(
    *,
    order_ref: str,
    session_id: str,
    event_time: str,
    time_on_page_s: float,
    scroll_depth_pct: int,
    products_viewed: int,
    form_completion_s: float,
    visits: int,
    ad_creative: str,
    device: str,
) -> dict:
    return {
        "order_ref": order_ref,
        "session_id": session_id,
        "event_time": event_time,
        "time_on_page_s": time_on_page_s,
        "scroll_depth_pct": scroll_depth_pct,
        "products_viewed": products_viewed,
        "form_completion_s": form_completion_s,
        "visits": visits,
        "ad_creative": ad_creative,
        "device": device,
    }
