"""Every record has the shape docs/landing.md documents, and every reference resolves.

Checked on the clean store (--no-mess), where every line must be a good record;
the mess store's broken lines are reconciled in test_mess.py.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs

import pytest

from sandbox.sample_store.world import CARRIER_STATUSES, YOUCAN_STATUSES

DECIMAL = re.compile(r"^\d+\.\d{2}$")
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ORDER_REF = re.compile(r"^(shopify:\d+|woocommerce:\d+|youcan:[0-9a-f-]{36}|tiktok:\d{19})$")
WA_ID = re.compile(r"^2126\d{8}$|^2127\d{8}$")
CALLBACK = re.compile(r"^order_ref=[a-z]+:[^&]+&template=[a-z_]+&campaign=[a-z_]+$")


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.tzinfo is not None, text
    return value


def _has(record: dict, *paths: str) -> None:
    for path in paths:
        node = record
        for part in path.split("."):
            assert isinstance(node, dict) and part in node, f"missing {path!r} in {record!r:.300}"
            node = node[part]


@pytest.fixture(scope="module")
def truth_refs(clean_store) -> set[str]:
    return {row["order_ref"] for row in clean_store.truth_orders()}


def test_clean_store_has_no_broken_lines(clean_store):
    summary = clean_store.summary
    assert all(n == 0 for n in summary.expected_quarantine_by_source.values())
    assert all(n == 0 for n in summary.duplicates_by_source.values())
    assert summary.unknown_carrier_statuses == 0
    for pattern in (
        "orders/**/*.jsonl",
        "leads/**/*.jsonl",
        "tracking/**/*.jsonl",
        "messages/**/*.jsonl",
        "signals/**/*.jsonl",
    ):
        _, broken = clean_store.json_lines(pattern)
        assert broken == [], pattern


def test_shopify_orders(clean_store, truth_refs):
    records, _ = clean_store.json_lines("orders/shopify/*.jsonl")
    assert records
    seen = set()
    for r in records:
        _has(
            r,
            "id", "name", "createdAt", "updatedAt", "cancelledAt", "cancelReason",
            "displayFinancialStatus", "displayFulfillmentStatus", "paymentGatewayNames", "tags",
            "phone", "email", "customer.id", "customer.firstName", "customer.lastName",
            "customer.phone", "customer.email", "shippingAddress.firstName", "shippingAddress.lastName",
            "shippingAddress.address1", "shippingAddress.address2", "shippingAddress.city",
            "shippingAddress.province", "shippingAddress.zip", "shippingAddress.countryCodeV2",
            "shippingAddress.phone", "totalPriceSet.shopMoney.amount",
            "totalPriceSet.shopMoney.currencyCode", "lineItems.nodes",
        )  # fmt: skip
        assert re.fullmatch(r"gid://shopify/Order/\d{13}", r["id"])
        assert re.fullmatch(r"#\d+", r["name"])
        assert UTC_Z.match(r["createdAt"]) and UTC_Z.match(r["updatedAt"])
        assert r["updatedAt"] >= r["createdAt"]
        assert r["displayFinancialStatus"] in {"PENDING", "PAID", "REFUNDED", "VOIDED"}
        assert r["displayFulfillmentStatus"] in {"UNFULFILLED", "FULFILLED"}
        assert set(r["tags"]) <= {
            "cod-confirmed",
            "cod-unreachable",
            "cod-cancelled",
            "cod-delivered",
            "cod-returned",
        }
        assert (r["cancelledAt"] is None) == (r["cancelReason"] is None)
        assert r["cancelReason"] in {None, "CUSTOMER", "OTHER"}
        assert r["paymentGatewayNames"] in (["Cash on Delivery (COD)"], ["CMI"])
        money = r["totalPriceSet"]["shopMoney"]
        assert DECIMAL.match(money["amount"]) and money["currencyCode"] == "MAD"
        assert 99 <= Decimal(money["amount"]) <= 1500
        for item in r["lineItems"]["nodes"]:
            _has(item, "title", "quantity", "sku", "originalUnitPriceSet.shopMoney.amount")
        seen.add("shopify:" + r["id"].rsplit("/", 1)[1])
    assert seen == {ref for ref in truth_refs if ref.startswith("shopify:")}


def test_woocommerce_orders(clean_store, truth_refs):
    records, _ = clean_store.json_lines("orders/woocommerce/*.jsonl")
    assert records
    statuses = set()
    for r in records:
        _has(
            r,
            "id", "number", "status", "currency", "date_created_gmt", "date_modified_gmt", "total",
            "payment_method", "payment_method_title", "billing.first_name", "billing.last_name",
            "billing.address_1", "billing.address_2", "billing.city", "billing.state",
            "billing.postcode", "billing.country", "billing.email", "billing.phone",
            "shipping.first_name", "shipping.last_name", "shipping.address_1", "shipping.city",
            "shipping.state", "shipping.postcode", "shipping.country", "shipping.phone",
            "line_items", "customer_note",
        )  # fmt: skip
        assert isinstance(r["id"], int) and r["number"] == str(r["id"])
        assert NAIVE.match(r["date_created_gmt"]) and NAIVE.match(r["date_modified_gmt"])
        assert DECIMAL.match(r["total"]) and r["currency"] == "MAD"
        assert r["payment_method"] in {"cod", "stripe"}
        for item in r["line_items"]:
            _has(item, "id", "name", "product_id", "quantity", "sku", "price", "total")
        statuses.add(r["status"])
    assert statuses <= {"pending", "processing", "on-hold", "completed", "cancelled", "failed"}
    assert {"pending", "processing", "completed", "cancelled"} <= statuses
    assert {f"woocommerce:{r['id']}" for r in records} == {
        ref for ref in truth_refs if ref.startswith("woocommerce:")
    }


def test_youcan_orders(clean_store, truth_refs):
    records, _ = clean_store.json_lines("orders/youcan/*.jsonl")
    assert records
    slugs = set()
    for r in records:
        _has(
            r,
            "id", "ref", "total", "currency", "status", "status_object.slug", "status_object.name",
            "payment_status", "payment.method", "customer.first_name", "customer.last_name",
            "customer.full_name", "customer.phone", "customer.email", "customer.city",
            "customer.country", "shipping.address.first_line", "shipping.address.second_line",
            "shipping.address.city", "shipping.address.region", "shipping.address.country_code",
            "shipping.address.zip_code", "shipping.address.phone", "variants", "created_at",
            "updated_at",
        )  # fmt: skip
        assert UUID.match(r["id"])
        assert isinstance(r["total"], float) and isinstance(r["status"], int)
        slug = r["status_object"]["slug"]
        assert YOUCAN_STATUSES[slug][:2] == (r["status"], r["status_object"]["name"])
        assert r["payment"]["method"] in {"cod", "youcanpay"}
        _aware(r["created_at"])
        _aware(r["updated_at"])
        for variant in r["variants"]:
            _has(variant, "id", "quantity", "price", "product.name")
        slugs.add(slug)
    assert {"pending", "confirmed", "delivered", "returned"} <= slugs
    assert {f"youcan:{r['id']}" for r in records} == {
        ref for ref in truth_refs if ref.startswith("youcan:")
    }


def test_tiktok_leads(clean_store, truth_refs):
    records, _ = clean_store.json_lines("leads/tiktok/*.jsonl")
    assert records
    for r in records:
        _has(
            r,
            "lead_id",
            "create_time",
            "advertiser_id",
            "ad_id",
            "ad_name",
            "form_id",
            "form_name",
            "field_data",
        )
        answers = {field["name"]: field["values"] for field in r["field_data"]}
        assert set(answers) == {"full_name", "phone_number", "city", "address", "offer"}
        assert re.fullmatch(r"\d+ x .+ - \d+ MAD", answers["offer"][0])
        assert UTC_Z.match(r["create_time"])  # clean store: always the ISO form
    assert {f"tiktok:{r['lead_id']}" for r in records} == {
        ref for ref in truth_refs if ref.startswith("tiktok:")
    }


def test_carrier_events(clean_store, truth_refs):
    jsonl, _ = clean_store.json_lines("tracking/**/*.jsonl")
    rows = clean_store.csv_rows("tracking/**/*.csv")
    assert jsonl and rows
    known = {
        word
        for carrier in CARRIER_STATUSES.values()
        for words in carrier.values()
        for word in words
    }
    carriers = set()
    for r in jsonl + rows:
        for name in ("carrier", "tracking_number", "order_ref", "raw_status", "event_time"):
            assert r.get(name), (name, r)
        assert r["order_ref"] in truth_refs
        assert r["raw_status"] in {
            w for words in CARRIER_STATUSES[r["carrier"]].values() for w in words
        }
        assert r["raw_status"] in known
        _aware(r["event_time"])
        carriers.add(r["carrier"])
    assert carriers == {"ameex", "ozon_express", "coliix", "sendit", "cathedis"}
    assert {r["carrier"] for r in rows} == {"sendit"}
    assert list(rows[0]) == [
        "carrier",
        "tracking_number",
        "order_ref",
        "raw_status",
        "event_time",
        "city",
        "comment",
        "event_id",
    ]


def test_whatsapp_webhooks(clean_store, truth_refs):
    records, _ = clean_store.json_lines("messages/whatsapp/*.jsonl")
    assert records
    templates, contexts, kinds = set(), [], set()
    for body in records:
        assert body["object"] == "whatsapp_business_account"
        entry = body["entry"][0]
        change = entry["changes"][0]
        value = change["value"]
        assert entry["id"] and value["messaging_product"] == "whatsapp"
        _has(value, "metadata.display_phone_number", "metadata.phone_number_id")
        if change["field"] == "user_preferences":
            preference = value["user_preferences"][0]
            assert WA_ID.match(preference["wa_id"])
            assert preference["category"] == "marketing_messages"
            assert preference["value"] in {"stop", "resume"}
            assert isinstance(preference["timestamp"], int)
            kinds.add("user_preferences:" + preference["value"])
            continue
        assert change["field"] == "messages"
        for status in value.get("statuses", []):
            _has(status, "id", "status", "timestamp", "recipient_id", "biz_opaque_callback_data")
            assert status["id"].startswith("wamid.HBgM")
            assert status["timestamp"].isdigit() and WA_ID.match(status["recipient_id"])
            callback = status["biz_opaque_callback_data"]
            assert CALLBACK.match(callback), callback
            assert parse_qs(callback)["order_ref"][0] in truth_refs
            if status["status"] in ("sent", "delivered"):
                _has(
                    status,
                    "conversation.id",
                    "conversation.origin.type",
                    "pricing.billable",
                    "pricing.category",
                )
            if status["status"] == "failed":
                error = status["errors"][0]
                _has(error, "code", "title", "message", "error_data.details")
                kinds.add(f"failed:{error['code']}")
            else:
                kinds.add(status["status"])
            if "template=order_confirmation" in callback:
                templates.add(status["id"])
        for message in value.get("messages", []):
            _has(message, "from", "id", "timestamp", "type")
            assert message["from"] == value["contacts"][0]["wa_id"]
            if message["type"] == "button":
                assert (
                    message["button"]["payload"] in {"CONFIRM", "CANCEL"}
                    and message["button"]["text"]
                )
                assert message["context"]["from"] == value["metadata"]["display_phone_number"]
            else:
                assert message["type"] == "text" and message["text"]["body"]
            if "context" in message:
                contexts.append(message["context"]["id"])
            kinds.add("message:" + message["type"])
    assert contexts and set(contexts) <= templates
    assert {"sent", "delivered", "read", "failed:131026", "message:button", "message:text"} <= kinds


def test_sms_events_and_lead_signals(clean_store, truth_refs):
    sms, _ = clean_store.json_lines("messages/sms/*.jsonl")
    assert sms
    for r in sms:
        for name in ("provider", "message_id", "direction", "phone", "status", "event_time"):
            assert r.get(name), (name, r)
        assert (r["direction"], r["status"]) in {
            ("outbound", "sent"), ("outbound", "delivered"), ("outbound", "failed"), ("inbound", "received")
        }  # fmt: skip
        _aware(r["event_time"])
        if "order_ref" in r:
            assert r["order_ref"] in truth_refs
    assert {r["direction"] for r in sms} == {"outbound", "inbound"}

    signals, _ = clean_store.json_lines("signals/**/*.jsonl")
    web_refs = {ref for ref in truth_refs if not ref.startswith("tiktok:")}
    assert 0.7 * len(web_refs) < len(signals) < len(web_refs)  # most, not all, web orders
    for r in signals:
        assert ORDER_REF.match(r["order_ref"]) and r["order_ref"] in web_refs
        assert r["session_id"]
        _aware(r["event_time"])
        assert r["time_on_page_s"] >= 0 and 0 <= r["scroll_depth_pct"] <= 100
        assert r["products_viewed"] >= 1 and r["form_completion_s"] > 0 and r["visits"] >= 1
        assert r["device"] in {"mobile", "desktop", "tablet"}


def test_references_resolve_in_the_messy_store_too(small_store):
    truth = {row["order_ref"] for row in small_store.truth_orders()}
    refs = set()
    for pattern in ("tracking/**/*.jsonl", "messages/sms/*.jsonl", "signals/**/*.jsonl"):
        records, _ = small_store.json_lines(pattern)
        refs |= {r["order_ref"] for r in records if "order_ref" in r}
    refs |= {
        r["order_ref"] for r in small_store.csv_rows("tracking/**/*.csv") if r.get("order_ref")
    }
    webhooks, _ = small_store.json_lines("messages/whatsapp/*.jsonl")
    for body in webhooks:
        for status in body["entry"][0]["changes"][0]["value"].get("statuses", []):
            refs.add(parse_qs(status["biz_opaque_callback_data"])["order_ref"][0])
    assert len(refs) > 100
    assert refs <= truth
