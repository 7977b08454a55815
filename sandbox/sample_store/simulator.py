"""The sample-store simulator: a Moroccan COD brand's year, written as landing files.

How the world works (what later models must find):

* every customer has a hidden *reliability* r ~ Beta(a, b) (by acquisition
  platform; TikTok leads are the riskiest). Each order gets an *intent*
  z = logit(r) + channel effect + ad-creative effect + noise;
* z drives the landing-page behaviour (time on page, scroll depth, products
  viewed, form completion time, visits: correlated with z but noisy), the
  WhatsApp confirmation behaviour (read, reply CONFIRM / CANCEL / nothing), the
  SMS reply and the call-centre reach;
* a dispatched COD parcel is delivered with probability
  p = sigmoid(B0 + z + city + carrier + carrier × zone + basket size), prepaid
  parcels with 0.985; p is written to the truth file;
* repeat buying is heavy-tailed (gamma-Poisson) and higher for reliable
  customers; 30 % of customers also buy on a second platform.

Orders are simulated in the order they are placed; their records are handed to
:class:`~sandbox.sample_store.writer.LandingWriter`, which writes them in
arrival order into monthly files. Memory stays bounded by the traffic of the
couple of weeks an order lives, whatever the number of orders.

This module holds the driver (``generate`` and the run loop); the rest of the
simulation lives in mixins, one module per concern:

* ``population``: customers and the order skeleton;
* ``order``: the timeline of one order and the truth ``orders.csv``;
* ``confirmation``: WhatsApp / SMS / call-centre confirmation of COD orders;
* ``storefronts``, ``lead_signals``, ``whatsapp``, ``sms``, ``tracking``: the
  vendor-shaped writers, one per source family;
* ``remittances``: the carriers' COD remittance statements (cash paid back);
* ``mess``: emission into the landing writer, with the deliberate mess;
* ``summary``: the sources, the run summary and ``summary.json``;
* ``timing``: the time window and small random helpers.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np

from sandbox.sample_store import world as w
from sandbox.sample_store.channels import _ChannelsMixin
from sandbox.sample_store.confirmation import _ConfirmationMixin
from sandbox.sample_store.lead_signals import _LeadSignalMixin
from sandbox.sample_store.mess import _EmitMixin, _make_injectors
from sandbox.sample_store.order import TRUTH_ORDER_COLUMNS, _OrderMixin
from sandbox.sample_store.population import TRUTH_CUSTOMER_COLUMNS, _PopulationMixin
from sandbox.sample_store.remittances import _RemittanceMixin
from sandbox.sample_store.sms import _SmsMixin
from sandbox.sample_store.storefronts import _StorefrontMixin
from sandbox.sample_store.summary import SOURCES, SampleStoreSummary, write_summary_json
from sandbox.sample_store.timing import DEFAULT_END_DATE, _month_starts, _window
from sandbox.sample_store.tracking import _file_kinds, _TrackingMixin
from sandbox.sample_store.whatsapp import _WhatsAppMixin
from sandbox.sample_store.writer import LandingWriter, StreamingCsv, write_csv_atomic

__all__ = ["DEFAULT_END_DATE", "SOURCES", "LandingWriter", "SampleStoreSummary", "generate"]


class _Simulator(
    _PopulationMixin,
    _OrderMixin,
    _ConfirmationMixin,
    _StorefrontMixin,
    _LeadSignalMixin,
    _WhatsAppMixin,
    _SmsMixin,
    _ChannelsMixin,
    _TrackingMixin,
    _RemittanceMixin,
    _EmitMixin,
):
    def __init__(
        self,
        out_dir: Path,
        truth_dir: Path,
        *,
        customers: int | None,
        months: int,
        seed: int,
        orders: int | None,
        end_date: date,
        mess: bool,
    ):
        self.out_dir = out_dir
        self.truth_dir = truth_dir
        self.months = months
        self.seed = seed
        self.mess = mess
        self.end_date = end_date
        self.start_ts, self.end_ts, self.start_date = _window(end_date, months)
        self.np_rng = np.random.default_rng(seed)
        self.rnd = random.Random(seed * 1_000_003 + 17)
        # The mess has its own stream, so that the world itself does not depend on it.
        self.mess_rnd = random.Random(seed * 7_919 + 5)
        # Later edits of closed orders too (order.py `_later_edit`).
        self.edit_rnd = random.Random(seed * 104_729 + 11)
        # Bots, fraud rings (order.py `_behaviour`): their own stream as well.
        self.behaviour_rnd = random.Random(seed * 15_485_863 + 3)
        self.later_edits = 0
        self.writer = LandingWriter(
            out_dir, _file_kinds(), _month_starts(self.start_ts, self.end_ts), self.end_ts
        )
        self._requested_customers = customers
        self._requested_orders = orders
        self.bad: dict[str, dict[str, int]] = {source: {} for source in SOURCES}
        self.duplicates: dict[str, int] = dict.fromkeys(SOURCES, 0)
        self.out_of_order: dict[str, int] = dict.fromkeys(SOURCES, 0)
        self.unknown_statuses = 0
        self.read_without_delivered = 0
        self.wa_counts: dict[str, int] = {}
        self.sms_counts: dict[str, int] = {}
        self.outcomes: dict[str, int] = {"delivered": 0, "returned": 0, "cancelled": 0, "open": 0}
        self.orders_by_platform: dict[str, int] = dict.fromkeys(w.PLATFORMS, 0)
        self.injectors = _make_injectors(seed, mess)
        # fixed lookups
        self.city_weights = [c.share for c in w.CITIES]
        self.carrier_by_zone: dict[str, tuple[list[w.Carrier], list[float]]] = {}
        for zone in ("centre", "north", "east", "south"):
            self.carrier_by_zone[zone] = (
                list(w.CARRIERS),
                [c.routing[zone] for c in w.CARRIERS],
            )
        self.creative_ids = [c[0] for c in w.AD_CREATIVES]
        self.creative_weights = [c[1] for c in w.AD_CREATIVES]
        self.creative_effect = {c[0]: c[2] for c in w.AD_CREATIVES}
        self.product_weights = list(w.PRODUCT_WEIGHTS)
        self._init_remittances()

    def run(self, progress: Callable[[int, int], None] | None = None) -> SampleStoreSummary:
        started = time.perf_counter()
        self._make_customers()
        self.truth_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        truth_orders = StreamingCsv(self.truth_dir / "orders.csv", TRUTH_ORDER_COLUMNS)
        self._truth_orders = truth_orders
        self._ids = {
            "shopify": 5_612_345_000_000,
            "shopify_number": 1000,
            "woocommerce": 10_240,
            "youcan_ref": 100_000,
            "tiktok": 7_412_000_000_000_000_000,
            "tracking": 0,
            "sms": 0,
        }
        try:
            total = self.n_orders
            chunk = 50_000
            done = 0
            for begin in range(0, total, chunk):
                customers = self.o_customer[begin : begin + chunk].tolist()
                placed = self.o_placed[begin : begin + chunk].tolist()
                for offset, (customer, placed_ts) in enumerate(zip(customers, placed, strict=True)):
                    self._remit_due(placed_ts)  # before the flush: payouts come days later
                    self.writer.flush_before(placed_ts)
                    self._order(begin + offset, customer, placed_ts)
                done = min(total, begin + chunk)
                if progress is not None:
                    progress(done, total)
            self._remit_finish()
            files = self.writer.close()
            truth_orders.close()
        except BaseException:
            self.writer.abort()
            truth_orders.abort()
            raise
        customers_rows = write_csv_atomic(
            self.truth_dir / "customers.csv", TRUTH_CUSTOMER_COLUMNS, self._customer_rows()
        )
        del customers_rows
        summary = SampleStoreSummary(
            seed=self.seed,
            customers=self.n_customers,
            orders=self.n_orders,
            months=self.months,
            start_date=self.start_date.isoformat(),
            end_date=self.end_date.isoformat(),
            mess=self.mess,
            out_dir=str(self.out_dir),
            truth_dir=str(self.truth_dir),
            files=files,
            truth_files=["customers.csv", "orders.csv", "summary.json"],
            lines_by_file=dict(sorted(self.writer.stats.lines_by_file.items())),
            records_by_source={s: self.writer.stats.lines_by_source.get(s, 0) for s in SOURCES},
            bad_records_by_source={s: dict(sorted(self.bad[s].items())) for s in SOURCES},
            duplicates_by_source=self.duplicates,
            out_of_order_by_source=self.out_of_order,
            unknown_carrier_statuses=self.unknown_statuses,
            read_without_delivered=self.read_without_delivered,
            invalid_phone_customers=len(self.c_invalid_raw),
            orders_by_platform=self.orders_by_platform,
            outcomes=self.outcomes,
            whatsapp=dict(sorted(self.wa_counts.items())),
            sms=dict(sorted(self.sms_counts.items())),
            remittances=self._remittance_summary(),
            records_dropped_after_end=self.writer.stats.dropped_after_end,
        )
        write_summary_json(summary, self.truth_dir)
        summary.elapsed_s = round(time.perf_counter() - started, 2)
        return summary


def generate(
    out_dir: str | os.PathLike,
    truth_dir: str | os.PathLike,
    *,
    customers: int | None = None,
    months: int = 12,
    seed: int = 7,
    orders: int | None = None,
    end_date: date | str = DEFAULT_END_DATE,
    mess: bool = True,
    progress: bool | Callable[[int, int], None] = False,
) -> SampleStoreSummary:
    """Simulate the store and write its landing files and truth files.

    ``customers``: number of customers; None means 5000, or about orders / 1.9
    when ``orders`` is given. ``orders``: the total number of orders, instead of
    deriving it from customers × months (heavy-tailed orders per customer).
    ``end_date``: last simulated day (local time); orders of its last days are
    still open. ``mess``: write the deliberate mess (phone spellings, invalid
    numbers, duplicated and late webhooks, unknown carrier statuses, malformed
    and incomplete records, all counted in the summary). ``progress``: True for
    a progress line on stderr, or a callback ``(done, total)``.

    Files are written as ``*.tmp`` and renamed at the end; a failed run removes
    its temporary files. Same arguments → same bytes.
    """
    if isinstance(end_date, str):
        end_date = date.fromisoformat(end_date)
    if customers is not None and customers < 1:
        raise ValueError("customers must be >= 1")
    if orders is not None and orders < 1:
        raise ValueError("orders must be >= 1")
    simulator = _Simulator(
        Path(out_dir),
        Path(truth_dir),
        customers=customers,
        months=months,
        seed=seed,
        orders=orders,
        end_date=end_date,
        mess=mess,
    )
    callback: Callable[[int, int], None] | None
    if progress is True:
        callback = _stderr_progress()
    elif callable(progress):
        callback = progress
    else:
        callback = None
    return simulator.run(callback)


def _stderr_progress() -> Callable[[int, int], None]:
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        rate = done / elapsed if elapsed > 0 else 0.0
        sys.stderr.write(f"\rsample store: {done:,}/{total:,} orders ({rate:,.0f}/s)")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report
