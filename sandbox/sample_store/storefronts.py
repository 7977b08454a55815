"""Storefront writers: Shopify, WooCommerce and YouCan order snapshots, TikTok leads."""

from __future__ import annotations

from sandbox.sample_store import attribution as ads
from sandbox.sample_store import vendors as v
from sandbox.sample_store import world as w
from sandbox.sample_store.order import _OrderCtx, _product


class _StorefrontMixin:
    """Writes the order as its storefront (or TikTok lead form) shows it."""

    def _snapshot(self, order: _OrderCtx, ts: int, state: str, *, clean: bool = False) -> bool:
        """Write the order as its storefront shows it in ``state`` at ``ts``; False when
        nothing was written (after the end date). ``clean``: no mess, so that the record
        draws nothing from the mess stream (see ``_emit``)."""
        platform = order.platform
        if state == "delivered" and order.closed_ts is None:
            order.closed_ts = ts
        if platform == "shopify":
            record = self._shopify(order, ts, state)
            record["customerJourneySummary"] = ads.shopify_journey(
                self._storefront_ad(order),
                visit_ts=order.placed_ts,
                visit_number=int(order.platform_id),
                product_path=_product_path(order),
            )
            return self._emit(ts, "shopify", "shopify_orders", record, clean=clean)
        if platform == "woocommerce":
            record = self._woocommerce(order, ts, state)
            record["meta_data"] = ads.woocommerce_attribution_meta(
                self._storefront_ad(order),
                order_id=int(order.platform_id),
                product_path=_product_path(order),
            )
            return self._emit(ts, "woocommerce", "woocommerce_orders", record, clean=clean)
        if platform == "youcan":
            record = self._youcan(order, ts, state)
            return self._emit(ts, "youcan", "youcan_orders", record, clean=clean)
        if state == "placed":
            record = self._tiktok(order)
            return self._emit(order.placed_ts, "tiktok", "tiktok_leads", record)
        return False

    def _storefront_ad(self, order: _OrderCtx) -> ads.AdPlacement | None:
        """The ad in the UTM of the order's visit; None for a direct visit."""
        if ads.is_direct_visit(order.ref):
            return None
        return ads.placement(order.creative, self.creative_ids.index(order.creative))

    def _shopify(self, order: _OrderCtx, ts: int, state: str) -> dict:
        tags: list[str] = []
        cancelled_ts = cancel_reason = None
        financial = "PAID" if order.prepaid else "PENDING"
        fulfillment = "UNFULFILLED"
        history = order.history
        if state != "placed":
            history.append(state)
        if "confirmed" in history:
            tags.append("cod-confirmed")
        if "unreachable" in history:
            tags.append("cod-unreachable")
        if state == "cancelled":
            tags.append("cod-cancelled")
            cancelled_ts, cancel_reason = ts, "CUSTOMER"
            financial = "REFUNDED" if order.prepaid else "VOIDED"
        elif state == "shipped":
            fulfillment = "FULFILLED"
        elif state == "delivered":
            fulfillment = "FULFILLED"
            tags.append("cod-delivered")
            financial = "PAID"
        elif state == "returned":
            fulfillment = "FULFILLED"
            tags.append("cod-returned")
            cancelled_ts, cancel_reason = ts, "OTHER"
            financial = "REFUNDED" if order.prepaid else "VOIDED"
        if order.prepaid:
            tags = [t for t in tags if t in ("cod-delivered", "cod-returned")]
        phone = order.phone
        customer_phone = (
            None
            if self.c_invalid_raw.get(order.customer) is not None
            else "+212" + self._national(order.customer)
        )
        return v.shopify_order(
            numeric_id=int(order.platform_id),
            number=order.shopify_number,
            created_ts=order.placed_ts,
            updated_ts=ts,
            customer_gid=f"gid://shopify/Customer/{7_104_000_000_000 + order.customer * 7919}",
            first_name=order.first_name,
            last_name=order.last_name,
            phone=phone,
            customer_phone=customer_phone,
            email=order.email,
            address1=order.address1,
            address2=order.address2,
            city=order.city.name,
            province=order.city.region,
            zip_code=order.city.zip_code,
            items=order.items,
            shipping_fee=order.shipping_fee,
            total=order.total,
            prepaid=order.prepaid,
            tags=sorted(tags),
            cancelled_ts=cancelled_ts,
            closed_ts=order.closed_ts if state == "delivered" else cancelled_ts,
            note=order.note or None,
            cancel_reason=cancel_reason,
            financial_status=financial,
            fulfillment_status=fulfillment,
        )

    def _woocommerce(self, order: _OrderCtx, ts: int, state: str) -> dict:
        status = {
            "placed": "processing" if order.prepaid else "pending",
            "confirmed": "processing",
            "unreachable": "on-hold",
            "cancelled": "cancelled",
            "shipped": "processing",
            "delivered": "completed",
            "returned": "failed",
        }[state]
        paid_ts = order.placed_ts if order.prepaid else (ts if state == "delivered" else None)
        return v.woocommerce_order(
            order_id=int(order.platform_id),
            order_key=order.woo_key,
            status=status,
            created_ts=order.placed_ts,
            modified_ts=ts,
            paid_ts=paid_ts,
            completed_ts=order.closed_ts if state == "delivered" else None,
            first_name=order.first_name,
            last_name=order.last_name,
            phone=order.phone,
            email=order.email or "",
            address1=order.address1,
            address2=order.address2,
            city=order.city.name,
            state=order.city.region,
            postcode=order.city.zip_code,
            items=order.items,
            product_ids=[100 + w.CATALOGUE.index(_product(sku)) for sku, *_ in order.items],
            shipping_fee=order.shipping_fee,
            total=order.total,
            prepaid=order.prepaid,
            customer_note=order.note,
        )

    def _youcan(self, order: _OrderCtx, ts: int, state: str) -> dict:
        slug = {
            "placed": "pending",
            "confirmed": "confirmed",
            "unreachable": "unreachable",
            "cancelled": "cancelled",
            "shipped": "shipped",
            "delivered": "delivered",
            "returned": "returned",
        }[state]
        if order.prepaid and state == "placed":
            slug = "confirmed"
        return v.youcan_order(
            order_id=order.platform_id,
            ref=order.youcan_ref,
            slug=slug,
            created_ts=order.placed_ts,
            updated_ts=ts,
            first_name=order.first_name,
            last_name=order.last_name,
            phone=order.phone,
            email=order.email,
            address1=order.address1,
            address2=order.address2,
            city=order.city.name,
            region=order.city.region,
            zip_code=order.city.zip_code,
            items=order.items,
            variant_ids=order.youcan_variants,
            product_ids=order.youcan_products,
            shipping_fee=order.shipping_fee,
            total=order.total,
            prepaid=order.prepaid,
            paid=order.prepaid or state == "delivered",
        )

    def _tiktok(self, order: _OrderCtx) -> dict:
        _sku, title, price, quantity = order.items[0]
        creative_index = self.creative_ids.index(order.creative)
        if self.mess and self.mess_rnd.random() < 0.3:
            create_time: str | int = order.placed_ts  # pushed by webhook: unix seconds
        else:
            create_time = v.iso_z(order.placed_ts)  # downloaded: ISO 8601
        return v.tiktok_lead(
            lead_id=order.platform_id,
            create_time=create_time,
            advertiser_id=ads.TIKTOK_ADVERTISER_ID,
            campaign_id=ads.TIKTOK_CAMPAIGN_ID,
            ad_id=ads.tiktok_ad_id(creative_index),
            ad_name=order.creative,
            form_id=ads.TIKTOK_FORM_ID,
            form_name=ads.TIKTOK_FORM_NAME,
            full_name=f"{order.first_name} {order.last_name}",
            phone=order.phone,
            city=order.city.name,
            address=f"{order.address1} {order.address2}".strip(),
            offer=f"{quantity} x {title} - {price * quantity} MAD",
        )


def _product_path(order: _OrderCtx) -> str:
    return f"/products/{order.items[0][0].lower()}"
