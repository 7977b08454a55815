"""Ad attribution of storefront orders: the UTM fields each vendor records, in its own shape.

Every order of the simulator was brought by an ad creative (``world.AD_CREATIVES``, whose
logit effect on the customer's intent is the ad's *quality*: the ranking the ads mart
must find). TikTok leads carry the ad in the lead itself (``advertiser_id``, ``ad_id``,
``form_id``); a storefront order carries it as the UTM parameters of the visit that
ended in the checkout:

* Shopify: ``Order.customerJourneySummary { firstVisit lastVisit }``, each a
  ``CustomerVisit`` with ``source``, ``landingPage``, ``referrerUrl`` and
  ``utmParameters { source medium campaign content term }``;
* WooCommerce (order attribution, WooCommerce ≥ 8.5): ``meta_data`` entries
  ``_wc_order_attribution_source_type`` (``utm`` / ``typein``),
  ``_wc_order_attribution_utm_source`` / ``_medium`` / ``_campaign`` / ``_content``,
  ``_wc_order_attribution_session_entry`` (the landing URL) and ``_device_type``.

A share of the visits is direct (typed-in, bookmarked): no UTM at all. Which one is a
hash of the order reference, not a draw, so adding attribution changes no random stream
of the simulator (every other record of a seed is byte-identical to before).
YouCan orders carry no attribution here: its order entity documents no UTM field.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from sandbox.sample_store import vendors as v

# Share of storefront visits with no UTM (typed in, bookmark, organic search).
DIRECT_SHARE_PCT = 18

# TikTok ids of the brand's ad account (the lead forms use the same ones).
TIKTOK_ADVERTISER_ID = "7301846529364810753"
TIKTOK_CAMPAIGN_ID = "1785123456789012"
TIKTOK_FORM_ID = "7402938475610293847"
TIKTOK_FORM_NAME = "Commande COD - paiement à la livraison"


def tiktok_ad_id(creative_index: int) -> str:
    """The TikTok ad id of a creative (the lead form's ``ad_id``)."""
    return str(1785200000000000 + creative_index * 1117)


@dataclass(frozen=True)
class AdPlacement:
    """Where a creative runs when it sends traffic to the storefronts."""

    utm_source: str  # tiktok | facebook
    utm_campaign: str
    ad_id: str  # what the ad's URL template puts in utm_content


def _meta_ad_id(creative_index: int) -> str:
    return str(23851000000000000 + creative_index * 7001)


# creative id -> placement: the UGC, before/after and influencer creatives run on TikTok
# (their storefront visits carry the TikTok ad id, as TikTok's __CID__ macro writes it),
# the promotion, free-delivery and retargeting creatives on Meta.
_PLACEMENTS = {
    "crt_ugc_review_01": ("tiktok", "tt_cod_ugc_ma"),
    "crt_before_after_02": ("tiktok", "tt_cod_ugc_ma"),
    "crt_promo_50pct_03": ("facebook", "fb_promo_50_ma"),
    "crt_gratuit_livraison_04": ("facebook", "fb_livraison_gratuite_ma"),
    "crt_influencer_05": ("tiktok", "tt_influence_ma"),
    "crt_retarget_06": ("facebook", "fb_retargeting_ma"),
}


def placement(creative: str, creative_index: int) -> AdPlacement:
    source, campaign = _PLACEMENTS[creative]
    ad_id = tiktok_ad_id(creative_index) if source == "tiktok" else _meta_ad_id(creative_index)
    return AdPlacement(utm_source=source, utm_campaign=campaign, ad_id=ad_id)


def is_direct_visit(order_ref: str) -> bool:
    """Whether the order's visit carried no UTM (a hash of the reference, not a draw)."""
    digest = hashlib.sha256(order_ref.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < DIRECT_SHARE_PCT


_REFERRERS = {"tiktok": "https://www.tiktok.com/", "facebook": "https://m.facebook.com/"}
STORE_URL = "https://boutique-argane.ma"


def _utm(ad: AdPlacement) -> dict[str, str]:
    return {
        "utm_source": ad.utm_source,
        "utm_medium": "paid_social",
        "utm_campaign": ad.utm_campaign,
        "utm_content": ad.ad_id,
    }


def landing_url(ad: AdPlacement | None, path: str) -> str:
    if ad is None:
        return f"{STORE_URL}{path}"
    return f"{STORE_URL}{path}?{urlencode(_utm(ad))}"


def shopify_journey(
    ad: AdPlacement | None, *, visit_ts: int, visit_number: int, product_path: str
) -> dict:
    """``Order.customerJourneySummary`` as the Admin GraphQL API returns it."""
    visit = {
        "id": f"gid://shopify/CustomerVisit/{visit_number}",
        "occurredAt": v.iso_z(visit_ts),
        "source": ad.utm_source if ad else "direct",
        "landingPage": landing_url(ad, product_path),
        "referrerUrl": _REFERRERS[ad.utm_source] if ad else None,
        "utmParameters": (
            {
                "source": ad.utm_source,
                "medium": "paid_social",
                "campaign": ad.utm_campaign,
                "content": ad.ad_id,
                "term": None,
            }
            if ad
            else None
        ),
    }
    return {"ready": True, "firstVisit": visit, "lastVisit": visit}


def woocommerce_attribution_meta(
    ad: AdPlacement | None, *, order_id: int, product_path: str
) -> list[dict]:
    """The order-attribution ``meta_data`` entries of a WooCommerce REST v3 order."""
    values = {
        "_wc_order_attribution_source_type": "utm" if ad else "typein",
        "_wc_order_attribution_session_entry": landing_url(ad, product_path),
        "_wc_order_attribution_device_type": "Mobile",
    }
    if ad:
        values |= {f"_wc_order_attribution_{k}": val for k, val in _utm(ad).items()}
        values["_wc_order_attribution_referrer"] = _REFERRERS[ad.utm_source]
    else:
        values["_wc_order_attribution_utm_source"] = "(direct)"
    return [
        {"id": order_id * 100 + index, "key": key, "value": value}
        for index, (key, value) in enumerate(values.items(), start=1)
    ]
