"""The customers of the store: hidden reliability, platforms, phones, order skeleton.

Customer attributes stay in compact numpy arrays (read with ``.item()``); the
truth file ``customers.csv`` is written from them at the end of the run.
"""

from __future__ import annotations

import random

import numpy as np

from sandbox.sample_store import world as w
from sandbox.sample_store.phones import (
    FORMAT_WEIGHTS,
    PHONE_FORMATS,
    draw_phone_codes,
    format_phone,
    invalid_variant,
    national_from_code,
)
from sandbox.sample_store.timing import HOUR, HOUR_WEIGHTS
from sandbox.sample_store.writer import DAY

TRUTH_CUSTOMER_COLUMNS = [
    "customer_id",
    "phone_e164",
    "phone_valid",
    "phone_as_typed_when_invalid",
    "reliability",
    "home_city",
    "acquisition_platform",
    "platforms",
    "orders",
    "first_name",
    "last_name",
    "on_whatsapp",
]


class _PopulationMixin:
    """Draws the customers and the placement times of their orders."""

    def _make_customers(self) -> None:
        rng = self.np_rng
        n_orders = self._requested_orders
        n_customers = self._requested_customers
        if n_customers is None:
            n_customers = 5000 if n_orders is None else max(1, round(n_orders / 1.9))
        if n_orders is not None:
            n_customers = max(1, min(n_customers, n_orders))
        self.n_customers = n_customers

        platform_p = np.array([w.PLATFORM_SHARE[p] for p in w.PLATFORMS])
        acquisition = rng.choice(
            len(w.PLATFORMS), size=n_customers, p=platform_p / platform_p.sum()
        )
        reliability = np.empty(n_customers)
        for index, platform in enumerate(w.PLATFORMS):
            mask = acquisition == index
            a, b = w.RELIABILITY_BETA[platform]
            reliability[mask] = rng.beta(a, b, size=int(mask.sum()))
        reliability = np.clip(reliability, 0.005, 0.995)
        multi = rng.random(n_customers) < 0.30
        second = (acquisition + rng.integers(1, len(w.PLATFORMS), size=n_customers)) % len(
            w.PLATFORMS
        )
        city_p = np.array(self.city_weights)
        home_city = rng.choice(len(w.CITIES), size=n_customers, p=city_p / city_p.sum())
        phone_codes = draw_phone_codes(rng, n_customers)
        invalid = rng.random(n_customers) < 0.008
        on_whatsapp = rng.random(n_customers) < 0.95
        first = rng.integers(0, len(w.FIRST_NAMES), size=n_customers)
        last = rng.integers(0, len(w.LAST_NAMES), size=n_customers)
        street = rng.integers(0, len(w.STREETS), size=n_customers)
        street_no = rng.integers(1, 120, size=n_customers)
        address2 = rng.integers(0, len(w.ADDRESS2), size=n_customers)
        has_email = rng.random(n_customers) < 0.25
        habit = rng.choice(
            len(PHONE_FORMATS), size=n_customers, p=np.array(FORMAT_WEIGHTS) / sum(FORMAT_WEIGHTS)
        )
        # heavy-tailed repeat buying, more for reliable customers
        propensity = rng.gamma(0.45, 1.0, size=n_customers) * (0.4 + reliability)
        if n_orders is None:
            extra = rng.poisson(propensity * 0.12 * self.months)
            counts = 1 + extra
        else:
            counts = np.ones(n_customers, dtype=np.int64)
            remaining = n_orders - n_customers
            if remaining > 0:
                counts += rng.multinomial(remaining, propensity / propensity.sum())
        self.n_orders = int(counts.sum())

        # Customer attributes stay in compact numpy arrays (read with .item()): a
        # million-order run has half a million customers.
        self.c_reliability = reliability
        self.c_logit = np.log(reliability / (1 - reliability))
        self.c_acq = acquisition.astype(np.int8)
        self.c_second = np.where(multi, second, -1).astype(np.int8)
        self.c_city = home_city.astype(np.int8)
        self.c_phone_code = phone_codes
        self.c_invalid_raw: dict[int, str] = {}
        if self.mess:
            invalid_rnd = random.Random(self.seed * 13 + 1)
            for index in np.flatnonzero(invalid).tolist():
                self.c_invalid_raw[index] = invalid_variant(self._national(index), invalid_rnd)
        self.c_on_wa = on_whatsapp
        self.c_first = first.astype(np.int16)
        self.c_last = last.astype(np.int16)
        self.c_street = street.astype(np.int16)
        self.c_street_no = street_no.astype(np.int16)
        self.c_address2 = address2.astype(np.int8)
        self.c_email = has_email
        self.c_habit = habit.astype(np.int8)
        self.c_orders_seen = np.zeros(n_customers, dtype=np.int32)
        self.c_platforms = np.zeros(n_customers, dtype=np.uint8)  # bit mask of platforms ordered on
        self.c_stop_text = np.zeros(n_customers, dtype=bool)
        self.c_pref_stop: dict[int, int] = {}  # customer -> ts of a marketing stop
        self.c_pref_resume: dict[int, int] = {}

        # order skeleton: customer and placement time, then sorted by time
        ndays = (self.end_ts + 1 - self.start_ts) // DAY
        customer_of_order = np.repeat(np.arange(n_customers), counts)
        days = rng.integers(0, ndays, size=self.n_orders)
        hours = rng.choice(24, size=self.n_orders, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
        seconds = rng.integers(0, HOUR, size=self.n_orders)
        placed = self.start_ts + days * DAY + hours * HOUR + seconds
        order = np.argsort(placed, kind="stable")
        self.o_customer = customer_of_order[order].astype(np.int64)
        self.o_placed = placed[order].astype(np.int64)

    def _national(self, customer: int) -> str:
        return national_from_code(self.c_phone_code.item(customer))

    def _customer_rows(self):
        for index in range(self.n_customers):
            if self.c_orders_seen.item(index) == 0:
                continue
            mask = self.c_platforms.item(index)
            invalid_raw = self.c_invalid_raw.get(index)
            yield {
                "customer_id": f"C{index + 1:07d}",
                "phone_e164": "+212" + self._national(index),
                "phone_valid": "false" if invalid_raw is not None else "true",
                "phone_as_typed_when_invalid": invalid_raw or "",
                "reliability": f"{self.c_reliability.item(index):.4f}",
                "home_city": w.CITIES[self.c_city.item(index)].name,
                "acquisition_platform": w.PLATFORMS[self.c_acq.item(index)],
                "platforms": ";".join(p for bit, p in enumerate(w.PLATFORMS) if mask >> bit & 1),
                "orders": self.c_orders_seen.item(index),
                "first_name": w.FIRST_NAMES[self.c_first.item(index)],
                "last_name": w.LAST_NAMES[self.c_last.item(index)],
                "on_whatsapp": "true" if self.c_on_wa.item(index) else "false",
            }

    def _phone_as_typed(self, customer: int) -> str:
        raw = self.c_invalid_raw.get(customer)
        if raw is not None:
            return raw
        national = self._national(customer)
        if not self.mess:
            return "+212" + national
        mess_rnd = self.mess_rnd
        if mess_rnd.random() < 0.7:
            style = PHONE_FORMATS[self.c_habit.item(customer)]
        else:
            style = mess_rnd.choices(PHONE_FORMATS, weights=FORMAT_WEIGHTS)[0]
        return format_phone(national, style)
