"""The life of one order: basket, intent, ids, confirmation, dispatch, outcome.

``_order`` draws the order and walks it through its timeline, calling the
vendor-shaped writers (storefronts, lead signals, WhatsApp / SMS, carrier
tracking) as each step happens, then writes its row of the truth ``orders.csv``.
"""

from __future__ import annotations

import math

from sandbox.sample_store import vendors as v
from sandbox.sample_store import world as w
from sandbox.sample_store.timing import HOUR, _pickup_slot, _randint, _sigmoid
from sandbox.sample_store.writer import DAY

# Logit intercept of the delivery probability of a dispatched COD parcel, tuned
# so that ~30 % of resolved COD orders end in RTO.
B0 = 0.12


TRUTH_ORDER_COLUMNS = [
    "order_ref",
    "customer_id",
    "platform",
    "placed_at",
    "payment_method",
    "total_mad",
    "carrier",
    "city",
    "confirmation",
    "confirmation_channel",
    "final_outcome",
    "simulated_outcome",
    "resolved_at",
    "delivered_at",
    "returned_at",
    "cancelled_at",
    "failed_attempts",
    "last_failure_reason",
    "p_delivery",
    "intent",
    "reliability",
]


# Share of delivered storefront orders edited again days later (a note added).
LATER_EDIT_SHARE = 0.08

_PRODUCTS_BY_SKU = {product.sku: product for product in w.CATALOGUE}


def _product(sku: str) -> w.Product:
    return _PRODUCTS_BY_SKU[sku]


class _OrderCtx:
    """Everything about one order that its records need."""

    __slots__ = (
        "address1",
        "address2",
        "city",
        "closed_ts",
        "creative",
        "customer",
        "eager",
        "email",
        "first_name",
        "history",
        "index",
        "items",
        "last_name",
        "note",
        "phone",
        "placed_ts",
        "platform",
        "platform_id",
        "prepaid",
        "profile_name",
        "ref",
        "shipping_fee",
        "shopify_number",
        "total",
        "tracking_number",
        "wa",
        "woo_key",
        "youcan_products",
        "youcan_ref",
        "youcan_variants",
    )

    def __init__(self, **values):
        self.history: list[str] = []
        # A fraud-ring member reads and confirms the WhatsApp template within a minute.
        self.eager = False
        # When the storefront closed the order (WooCommerce date_completed_gmt, Shopify
        # closedAt): set once, carried by every later snapshot, never moved by an edit.
        self.closed_ts: int | None = None
        self.note = ""
        self.shopify_number = 0
        self.woo_key = ""
        self.youcan_ref = ""
        self.youcan_variants: list[str] = []
        self.youcan_products: list[str] = []
        for key, value in values.items():
            setattr(self, key, value)


class _OrderMixin:
    """Draws each order and runs its timeline."""

    def _hex(self, bits: int) -> str:
        return f"{self.rnd.getrandbits(bits):0{bits // 4}X}"

    def _uuid(self) -> str:
        value = self.rnd.getrandbits(128)
        value = (value & ~(0xF << 76)) | (4 << 76)  # version 4
        value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _basket(self, platform: str) -> tuple[list[tuple], int, int]:
        rnd = self.rnd
        catalogue = w.CATALOGUE
        if platform == "tiktok":
            n_lines = 1
        else:
            roll = rnd.random()
            n_lines = 1 if roll < 0.7 else 2 if roll < 0.95 else 3
        chosen: list[w.Product] = []
        while len(chosen) < n_lines:
            product = rnd.choices(catalogue, weights=self.product_weights)[0]
            if product not in chosen:
                chosen.append(product)
        items = []
        for product in chosen:
            roll = rnd.random()
            quantity = 1 if roll < 0.75 else 2 if roll < 0.95 else 3
            items.append([product.sku, product.title, product.price, quantity])
        shipping_fee = (
            0 if platform == "tiktok" or rnd.random() < 0.7 else rnd.choice((20, 25, 30, 35))
        )
        subtotal = sum(item[2] * item[3] for item in items)
        while subtotal + shipping_fee > 1500:
            biggest = max(items, key=lambda item: item[2] * item[3])
            if biggest[3] > 1:
                biggest[3] -= 1
            else:
                items.remove(biggest)
            subtotal = sum(item[2] * item[3] for item in items)
        return [tuple(item) for item in items], shipping_fee, subtotal + shipping_fee

    def _order(self, index: int, customer: int, placed_ts: int) -> None:
        rnd = self.rnd
        seen = self.c_orders_seen.item(customer)
        self.c_orders_seen[customer] = seen + 1
        acq = self.c_acq.item(customer)
        second = self.c_second.item(customer)
        platform_index = acq if seen == 0 or second < 0 or rnd.random() < 0.7 else second
        platform = w.PLATFORMS[platform_index]
        self.c_platforms[customer] |= 1 << platform_index
        self.orders_by_platform[platform] += 1

        home = self.c_city.item(customer)
        city_index = (
            home if rnd.random() < 0.95 else rnd.choices(range(len(w.CITIES)), self.city_weights)[0]
        )
        city = w.CITIES[city_index]
        behaviour = self._behaviour(platform)
        if behaviour == "ring":
            city = next(c for c in w.CITIES if c.name == w.FRAUD_RING_CITY)
        prepaid = rnd.random() < w.PREPAID_SHARE[platform]
        items, shipping_fee, total = self._basket(platform)
        creative = rnd.choices(self.creative_ids, self.creative_weights)[0]
        intent = (
            self.c_logit.item(customer)
            + w.PLATFORM_INTENT[platform]
            + self.creative_effect[creative]
            + rnd.gauss(0.0, 0.6)
        )
        if behaviour == "bot":
            intent += w.BOT_INTENT_SHIFT
        carriers, weights = self.carrier_by_zone[city.zone]
        carrier = rnd.choices(carriers, weights)[0]
        invalid_phone = self.c_invalid_raw.get(customer) is not None
        if prepaid:
            p_delivery = 0.985
        else:
            logit_p = (
                B0
                + intent
                + city.delivery_effect
                + carrier.base_effect
                + carrier.zone_effect[city.zone]
                - 0.3 * math.log(total / 250.0)
                - self._channel_drift(platform, placed_ts)
            )
            p_delivery = _sigmoid(logit_p)
            if behaviour == "ring":
                p_delivery = min(p_delivery, w.FRAUD_RING_DELIVERY)
            if invalid_phone:
                p_delivery *= 0.35

        # ids
        ids = self._ids
        if platform == "shopify":
            ids["shopify"] += _randint(rnd, 40_000, 2_500_000)
            ids["shopify_number"] += 1
            platform_id = str(ids["shopify"])
        elif platform == "woocommerce":
            ids["woocommerce"] += _randint(rnd, 1, 3)
            platform_id = str(ids["woocommerce"])
        elif platform == "youcan":
            platform_id = self._uuid()
            ids["youcan_ref"] += 1
        else:
            ids["tiktok"] += _randint(rnd, 10**9, 10**11)
            platform_id = str(ids["tiktok"])
        ref = f"{platform}:{platform_id}"

        first_name = w.FIRST_NAMES[self.c_first.item(customer)]
        last_name = w.LAST_NAMES[self.c_last.item(customer)]
        national = self._national(customer)
        wa = "212" + national
        profile_name = first_name if rnd.random() < 0.6 else f"{first_name} {last_name[0]}."
        order = _OrderCtx(
            index=index,
            ref=ref,
            platform=platform,
            platform_id=platform_id,
            customer=customer,
            placed_ts=placed_ts,
            city=city,
            prepaid=prepaid,
            items=items,
            shipping_fee=shipping_fee,
            total=total,
            first_name=first_name,
            last_name=last_name,
            phone=self._phone_as_typed(customer),
            email=(
                f"{first_name.lower()}.{last_name.lower().replace(' ', '')}{customer % 97}@gmail.com"
                if self.c_email.item(customer)
                else None
            ),
            address1=w.STREETS[self.c_street.item(customer)].format(
                n=self.c_street_no.item(customer)
            ),
            address2=w.ADDRESS2[self.c_address2.item(customer)],
            creative=creative,
            wa=wa,
            profile_name=profile_name,
        )
        if behaviour == "ring":
            order.address1 = self.behaviour_rnd.choice(w.FRAUD_RING_ADDRESSES)
            order.address2 = ""
            order.eager = True
        if platform == "shopify":
            order.shopify_number = ids["shopify_number"]
        if platform == "youcan":
            order.youcan_ref = str(ids["youcan_ref"])
            order.youcan_variants = [self._uuid() for _ in items]
            order.youcan_products = [self._uuid() for _ in items]
        if platform == "woocommerce":
            order.woo_key = "wc_order_" + "".join(
                rnd.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=13)
            )

        # 1. the order lands on its storefront (or as a lead)
        self._snapshot(order, placed_ts, "placed")
        # 2. landing-page session
        if platform != "tiktok" and rnd.random() < 0.85:
            self._lead_signal(order, intent, bot=behaviour == "bot")
        # 3. confirmation
        if prepaid:
            confirmation, channel, decided_ts = "not_required", "none", placed_ts
        else:
            # A ring member is eager to confirm whatever its parcel's fate.
            eagerness = w.FRAUD_RING_INTENT_SHIFT if behaviour == "ring" else 0.0
            confirmation, channel, decided_ts = self._confirm(
                order, intent + eagerness, invalid_phone
            )
        # 4. dispatch and delivery
        outcome: str
        delivered_ts = returned_ts = cancelled_ts = None
        failed_attempts = 0
        last_reason = ""
        dispatched = confirmation in ("confirmed", "not_required") or (
            confirmation == "unreachable" and rnd.random() < 0.45
        )
        if confirmation == "cancelled":
            cancelled_ts = decided_ts
        elif not dispatched:  # unreachable and the store gives up
            cancelled_ts = decided_ts + _randint(rnd, 20 * HOUR, 48 * HOUR)
        if confirmation != "not_required" and self._storefront_sees(order):
            if confirmation == "unreachable":
                self._snapshot(order, decided_ts + _randint(rnd, 60, 1800), "unreachable")
            elif confirmation == "confirmed":
                self._snapshot(order, decided_ts + _randint(rnd, 60, 1800), "confirmed")
            if cancelled_ts is not None:
                self._snapshot(order, cancelled_ts, "cancelled")
        if dispatched:
            dispatch_ts = _pickup_slot(decided_ts + 3 * HOUR, rnd)
            delivered = rnd.random() < p_delivery
            end_ts_parcel, failed_attempts, last_reason = self._parcel(
                order, carrier, dispatch_ts, delivered, intent
            )
            if platform != "tiktok" and rnd.random() < 0.6:
                self._snapshot(order, dispatch_ts + _randint(rnd, 600, 4 * HOUR), "shipped")
            if delivered:
                outcome = "delivered"
                delivered_ts = end_ts_parcel
                self._remit_delivered(order, carrier, order.tracking_number, delivered_ts)
                if platform != "tiktok" and rnd.random() < 0.85:
                    self._snapshot(order, delivered_ts + _randint(rnd, HOUR, 2 * DAY), "delivered")
                    self._later_edit(order, "delivered")
                if rnd.random() < 0.25:
                    self._post_delivery_offer(order, delivered_ts)
            else:
                outcome = "returned"
                returned_ts = end_ts_parcel
                if platform != "tiktok" and rnd.random() < 0.85:
                    self._snapshot(order, returned_ts + _randint(rnd, HOUR, 2 * DAY), "returned")
        else:
            outcome = "cancelled"
        # 5. marketing preference changes now and then
        if rnd.random() < 0.012 and customer not in self.c_pref_stop:
            stop_ts = placed_ts + _randint(rnd, DAY, 20 * DAY)
            self.c_pref_stop[customer] = stop_ts
            self._wa_emit(
                stop_ts,
                v.wa_user_preference(ts=stop_ts, user=wa, profile_name=profile_name, value="stop"),
                "user_preferences:stop",
            )
            if rnd.random() < 0.35:
                resume_ts = stop_ts + _randint(rnd, 5 * DAY, 60 * DAY)
                self.c_pref_resume[customer] = resume_ts
                self._wa_emit(
                    resume_ts,
                    v.wa_user_preference(
                        ts=resume_ts, user=wa, profile_name=profile_name, value="resume"
                    ),
                    "user_preferences:resume",
                )

        resolved_ts = delivered_ts or returned_ts or cancelled_ts
        final = outcome if resolved_ts is not None and resolved_ts <= self.end_ts else "open"
        self.outcomes[final] += 1
        # no field here can hold a comma or a quote: a plain join is a valid CSV row
        self._truth_orders.write_values(
            (
                ref,
                f"C{customer + 1:07d}",
                platform,
                v.iso_z(placed_ts),
                "prepaid" if prepaid else "cod",
                str(total),
                carrier.name if dispatched else "",
                city.name,
                confirmation,
                channel,
                final,
                outcome,
                v.iso_z(resolved_ts) if resolved_ts else "",
                v.iso_z(delivered_ts) if delivered_ts else "",
                v.iso_z(returned_ts) if returned_ts else "",
                v.iso_z(cancelled_ts) if cancelled_ts else "",
                str(failed_attempts),
                last_reason,
                f"{p_delivery:.5f}",
                f"{intent:.4f}",
                f"{self.c_reliability.item(customer):.4f}",
            )
        )

    def _behaviour(self, platform: str) -> str | None:
        """'bot', 'ring' (fraud ring) or None, on the behaviour stream (world.py)."""
        roll = self.behaviour_rnd.random()
        if platform != "tiktok" and roll < w.BOT_SHARE:
            return "bot"
        if roll > 1.0 - w.FRAUD_RING_SHARE:
            return "ring"
        return None

    def _channel_drift(self, platform: str, placed_ts: int) -> float:
        """Loss of delivery log-odds of TikTok parcels, growing over the last months."""
        start = self.end_ts - w.TIKTOK_DRIFT_DAYS * DAY
        if platform != "tiktok" or placed_ts <= start:
            return 0.0
        return w.TIKTOK_DRIFT_LOGIT * (placed_ts - start) / (self.end_ts - start)

    def _later_edit(self, order: _OrderCtx, state: str) -> None:
        """Now and then the store edits a closed order days later (a note added): a new
        snapshot in the same state with a later update time, which must not move the
        time the order reached that state. Own random stream, and written clean (no mess,
        no injector count): the rest of the world and of its mess is unchanged."""
        edit_rnd = self.edit_rnd
        if edit_rnd.random() >= LATER_EDIT_SHARE:
            return
        order.note = "Client a appelé: satisfait"
        edit_ts = order.closed_ts + _randint(edit_rnd, 5 * DAY, 25 * DAY)
        if self._snapshot(order, edit_ts, state, clean=True):
            self.later_edits += 1

    def _storefront_sees(self, order: _OrderCtx) -> bool:
        return order.platform != "tiktok" and self.rnd.random() < 0.9
