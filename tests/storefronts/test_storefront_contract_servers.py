"""The read side of the contract servers answers as the vendors document it."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
from storefront_helpers import TOKEN, WRONG, harness

from sandbox.contract_servers import (
    LightFunnelsContractServer,
    PrestaShopContractServer,
    ShopifyContractServer,
)


def _basic(user: str, password: str = "") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_woocommerce_pages_with_wordpress_headers_and_keeps_the_include_listing(sample, start):
    server = harness("woocommerce").server(sample)
    server.seed_orders([{"id": 999001, "status": "pending"}])  # a write-side order
    url = start(server) + "/wp-json/wc/v3/orders"
    auth = _basic(TOKEN, TOKEN)
    total = len(server.feed.visible())
    first = httpx.get(
        url, headers=auth, params={"per_page": 5, "orderby": "modified", "order": "asc"}
    )
    last = httpx.get(
        url,
        headers=auth,
        params={"per_page": 5, "page": -(-total // 5), "orderby": "modified", "order": "asc"},
    )
    assert first.headers["X-WP-Total"] == str(total)
    assert first.headers["X-WP-TotalPages"] == str(-(-total // 5))
    assert 'rel="next"' in first.headers["Link"] and "page=2" in first.headers["Link"]
    assert 'rel="next"' not in last.headers["Link"] and 'rel="prev"' in last.headers["Link"]
    stamps = [o["date_modified_gmt"] for o in first.json()]
    assert stamps == sorted(stamps)
    newest = server.feed.visible()[-1][0]
    since = (newest - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    recent = httpx.get(url, headers=auth, params={"modified_after": since, "dates_are_gmt": "true"})
    assert [o["id"] for o in recent.json()] == [int(server.feed.visible()[-1][1])]
    # The write-back's listing (include=…) still answers from the write-side orders.
    legacy = httpx.get(url, headers=auth, params={"include": "999001", "per_page": 100})
    assert [o["id"] for o in legacy.json()] == [999001] and "X-WP-Total" not in legacy.headers
    bad = httpx.get(url, headers=auth, params={"per_page": 101})
    assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"


def test_youcan_lists_with_pagination_meta_and_subresources_only_when_included(sample, start):
    server = harness("youcan").server(sample)
    url = start(server) + "/orders"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    bare = httpx.get(url, headers=auth, params={"limit": 4}).json()
    full = httpx.get(
        url, headers=auth, params={"limit": 4, "page": 2, "include": "customer,payment"}
    ).json()
    meta = bare["meta"]["pagination"]
    assert meta["per_page"] == 4 and meta["count"] == 4 and meta["current_page"] == 1
    assert meta["total"] == len(server.feed.visible()) and "next" in meta["links"]
    assert "customer" not in bare["data"][0] and "payment" not in bare["data"][0]
    assert "customer" in full["data"][0] and "variants" not in full["data"][0]
    created = [o["created_at"] for o in bare["data"]]
    assert created == sorted(created, reverse=True)  # default: latest created first
    assert httpx.get(url, headers={"Authorization": "Bearer nope"}).json() == {
        "status": 401,
        "detail": "Unauthenticated.",
        "meta": [],
    }


def test_shopify_orders_connection_cursor_cost_and_search(sample, start):
    server: ShopifyContractServer = harness("shopify").server(sample)
    url = start(server) + "/admin/api/2025-07/graphql.json"
    headers = {"X-Shopify-Access-Token": TOKEN}
    query = "query($after: String, $q: String) { orders(first: 3, after: $after, sortKey: UPDATED_AT, query: $q) { pageInfo { hasNextPage endCursor } nodes { id updatedAt } } }"
    page1 = httpx.post(url, headers=headers, json={"query": query}).json()
    cursor = page1["data"]["orders"]["pageInfo"]["endCursor"]
    page2 = httpx.post(
        url, headers=headers, json={"query": query, "variables": {"after": cursor}}
    ).json()
    ids = [n["id"] for p in (page1, page2) for n in p["data"]["orders"]["nodes"]]
    assert ids == [f"gid://shopify/Order/{r[1]}" for r in server.feed.visible()[:6]]
    assert page1["extensions"]["cost"]["requestedQueryCost"] == 2 + 3 * 1
    newest = server.feed.visible()[-1]
    search = f"updated_at:>='{newest[0]:%Y-%m-%dT%H:%M:%SZ}'"
    found = httpx.post(
        url, headers=headers, json={"query": query, "variables": {"q": search}}
    ).json()
    assert [n["id"] for n in found["data"]["orders"]["nodes"]] == [
        f"gid://shopify/Order/{newest[1]}"
    ]
    costly = "{ orders(first: 250) { nodes { id lineItems(first: 50) { nodes { id } } } } }"
    refused = httpx.post(url, headers=headers, json={"query": costly}).json()
    assert refused["errors"][0]["extensions"] == {
        "code": "MAX_COST_EXCEEDED",
        "cost": 2 + 250 * 53,
        "maxCost": 1000,
    }
    misspelt = httpx.post(
        url, headers=headers, json={"query": "{ orders(first: 1) { nodes { totalPrice } } }"}
    ).json()
    assert "Cannot query field 'totalPrice'" in misspelt["errors"][0]["message"]


def test_prestashop_webservice_keys_filters_and_empty_lists(sample, start):
    server: PrestaShopContractServer = harness("prestashop").server(sample)
    url = start(server) + "/api/orders"
    json_out = {"output_format": "JSON", "display": "full"}
    assert httpx.get(url, params=json_out).json()["errors"][0]["code"] == 16
    assert (
        httpx.get(url, params=json_out, headers=_basic("short")).json()["errors"][0]["code"] == 18
    )
    revoked = httpx.get(url, params=json_out, headers=_basic(WRONG))
    assert revoked.status_code == 401 and revoked.json()["errors"][0]["code"] == 20
    assert "WWW-Authenticate" in revoked.headers
    interval = {"filter[date_upd]": "[2000-01-01 00:00:00,2000-01-02 00:00:00]"}
    empty = httpx.get(url, params={**json_out, **interval, "date": "1"}, headers=_basic(TOKEN))
    assert empty.json() == []  # PrestaShop's JSON for no result
    everything = {"filter[date_upd]": "[2000-01-01 00:00:00,9999-12-31 23:59:59]"}
    without_date = httpx.get(url, params={**json_out, **everything}, headers=_basic(TOKEN))
    with_date = httpx.get(
        url,
        params={
            **json_out,
            **everything,
            "date": "1",
            "limit": "2,3",
            "sort": "[date_upd_ASC,id_ASC]",
        },
        headers=_basic(TOKEN),
    )
    assert without_date.json() == []  # a date filter needs date=1 (PrestaShop issue #10822)
    rows = with_date.json()["orders"]
    assert [str(r["id"]) for r in rows] == [r[1] for r in server.feed.visible()[2:5]]
    assert all(isinstance(v, str) for k, v in rows[0].items() if k not in ("id", "associations"))


def test_lightfunnels_cursor_is_sort_value_and_id_and_timestamps_need_a_format(sample, start):
    server: LightFunnelsContractServer = harness("lightfunnels").server(sample)
    url = start(server) + "/api/v2"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    query = 'query($q: String!) { orders(query: $q, first: 2) { edges { cursor node { _id updated_at relative: created_at exact: updated_at(format: "YYYY-MM-DD HH:mm:ss") } } pageInfo { hasNextPage endCursor } } }'
    body = httpx.post(
        url,
        headers=headers,
        json={"query": query, "variables": {"q": "order_by:updated_at order_dir:asc"}},
    ).json()
    edges = body["data"]["orders"]["edges"]
    first = server.feed.visible()[0]
    assert edges[0]["node"]["_id"] == int(first[1])
    assert edges[0]["node"]["exact"] == f"{first[0]:%Y-%m-%d %H:%M:%S}"
    assert edges[0]["node"]["relative"].endswith("ago")  # TimeStamp without a format
    assert json.loads(base64.b64decode(edges[0]["cursor"])) == [
        edges[0]["node"]["exact"],
        int(first[1]),
    ]
    denied = httpx.post(url, headers={"Authorization": "Bearer nope"}, json={"query": query})
    assert (
        denied.status_code == 401
        and denied.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    )


def test_a_moving_clock_serves_each_order_as_it_was(sample):
    server = harness("youcan").server(sample)
    times = server.feed.update_times()
    middle = times[len(times) // 2]
    server.feed.set_clock(middle)
    assert all(t <= middle for t, _, _ in server.feed.visible())
    earlier = len(server.feed.visible())
    server.feed.set_clock(None)
    assert len(server.feed.visible()) > earlier
    assert server.feed.snapshot_count() > len(server.feed.visible())  # orders changed over time
