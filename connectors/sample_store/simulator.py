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
:class:`~connectors.sample_store.writer.LandingWriter`, which writes them in
arrival order into monthly files. Memory stays bounded by the traffic of the
couple of weeks an order lives, whatever the number of orders.
"""

from __future__ import annotations

import calendar
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from connectors.sample_store import vendors as v
from connectors.sample_store import world as w
from connectors.sample_store.phones import (
    FORMAT_WEIGHTS,
    PHONE_FORMATS,
    draw_phone_codes,
    format_phone,
    invalid_variant,
    national_from_code,
)
from connectors.sample_store.writer import (
    DAY,
    FileKind,
    LandingWriter,
    StreamingCsv,
    csv_line,
    dumps,
    write_csv_atomic,
)

DEFAULT_END_DATE = date(2026, 10, 31)
MOROCCO = timezone(timedelta(hours=1))
HOUR = 3600

# Logit intercept of the delivery probability of a dispatched COD parcel, tuned
# so that ~30 % of resolved COD orders end in RTO.
B0 = 0.12

SOURCES: tuple[str, ...] = (
    "shopify_orders",
    "woocommerce_orders",
    "youcan_orders",
    "tiktok_leads",
    "carrier_tracking_events",
    "whatsapp_webhooks",
    "sms_events",
    "lead_signals",
)

# Share of orders placed in each local hour (COD shoppers buy in the evening).
HOUR_WEIGHTS = np.array(
    [2, 1, 0.6, 0.4, 0.3, 0.4, 0.8, 1.5, 2.5, 3.5, 4, 4.2,
     4.5, 4.5, 4.2, 4.2, 4.5, 5, 5.5, 6, 7, 7.5, 6.5, 4],
    dtype=float,
)  # fmt: skip

SMS_PROVIDERS = ("infobip", "twilio")
CONFIRMATION_CALLBACK = "order_ref={ref}&template=order_confirmation&campaign=order_confirmation"
REMINDER_CALLBACK = "order_ref={ref}&template=freeform_reminder&campaign=order_confirmation"
OFFER_CALLBACK = "order_ref={ref}&template=post_delivery_offer&campaign=post_delivery_offer"
BUTTON_TEXT = {"CONFIRM": "Oui, je confirme", "CANCEL": "Annuler la commande"}

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


@dataclass
class SampleStoreSummary:
    """What one run wrote: counts to reconcile the ingestion against."""

    seed: int
    customers: int
    orders: int
    months: int
    start_date: str
    end_date: str
    mess: bool
    out_dir: str
    truth_dir: str
    files: list[str] = field(default_factory=list)
    truth_files: list[str] = field(default_factory=list)
    lines_by_file: dict[str, int] = field(default_factory=dict)
    records_by_source: dict[str, int] = field(default_factory=dict)
    bad_records_by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    duplicates_by_source: dict[str, int] = field(default_factory=dict)
    out_of_order_by_source: dict[str, int] = field(default_factory=dict)
    unknown_carrier_statuses: int = 0
    read_without_delivered: int = 0
    invalid_phone_customers: int = 0
    orders_by_platform: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    whatsapp: dict[str, int] = field(default_factory=dict)
    sms: dict[str, int] = field(default_factory=dict)
    records_dropped_after_end: int = 0
    elapsed_s: float = 0.0

    @property
    def expected_quarantine_by_source(self) -> dict[str, int]:
        """Records the ingestion must quarantine, per source (every deliberately bad line)."""
        return {
            source: sum(self.bad_records_by_source.get(source, {}).values()) for source in SOURCES
        }

    @property
    def malformed_lines_by_source(self) -> dict[str, int]:
        """Lines that are not parseable records at all (truncated JSON or CSV rows)."""
        return {
            source: self.bad_records_by_source.get(source, {}).get("malformed_json", 0)
            + self.bad_records_by_source.get(source, {}).get("malformed_row", 0)
            for source in SOURCES
        }

    def to_dict(self) -> dict:
        data = asdict(self)
        data["expected_quarantine_by_source"] = self.expected_quarantine_by_source
        data["malformed_lines_by_source"] = self.malformed_lines_by_source
        return data


# --------------------------------------------------------------------------- helpers


def _sigmoid(x: float) -> float:
    if x < -35:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def _window(end_date: date, months: int) -> tuple[int, int, date]:
    """(start_ts, end_ts, start_date): ``months`` whole months ending on end_date, local time."""
    if months < 1:
        raise ValueError("months must be >= 1")
    after_end = end_date + timedelta(days=1)
    month_index = after_end.year * 12 + (after_end.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(after_end.day, calendar.monthrange(year, month + 1)[1])
    start_date = date(year, month + 1, day)
    start_ts = int(
        datetime(start_date.year, start_date.month, start_date.day, tzinfo=MOROCCO).timestamp()
    )
    end_ts = (
        int(datetime(after_end.year, after_end.month, after_end.day, tzinfo=MOROCCO).timestamp())
        - 1
    )
    return start_ts, end_ts, start_date


def _month_starts(start_ts: int, end_ts: int) -> list[int]:
    first = datetime.fromtimestamp(start_ts, tz=UTC)
    year, month = first.year, first.month
    starts = []
    while True:
        ts = int(datetime(year, month, 1, tzinfo=UTC).timestamp())
        if ts > end_ts:
            break
        starts.append(ts)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return starts


def _local_day_start(ts: int) -> int:
    return (ts + HOUR) // DAY * DAY - HOUR


def _file_kinds() -> list[FileKind]:
    kinds = [
        FileKind("shopify", "shopify_orders", "orders/shopify/orders_{month}.jsonl"),
        FileKind("woocommerce", "woocommerce_orders", "orders/woocommerce/orders_{month}.jsonl"),
        FileKind("youcan", "youcan_orders", "orders/youcan/orders_{month}.jsonl"),
        FileKind("tiktok", "tiktok_leads", "leads/tiktok/leads_{month}.jsonl"),
        FileKind("whatsapp", "whatsapp_webhooks", "messages/whatsapp/webhooks_{month}.jsonl"),
        FileKind("sms", "sms_events", "messages/sms/events_{month}.jsonl"),
        FileKind("signals", "lead_signals", "signals/landing/sessions_{month}.jsonl"),
    ]
    for carrier in w.CARRIERS:
        if carrier.file_format == "csv":
            kinds.append(
                FileKind(
                    f"tracking:{carrier.name}",
                    "carrier_tracking_events",
                    f"tracking/{carrier.name}/events_{{month}}.csv",
                    v.CARRIER_CSV_COLUMNS,
                )
            )
        else:
            kinds.append(
                FileKind(
                    f"tracking:{carrier.name}",
                    "carrier_tracking_events",
                    f"tracking/{carrier.name}/events_{{month}}.jsonl",
                )
            )
    return kinds


class _Injector:
    """Decides, deterministically, after which good records a bad one is written.

    The first few come early (so even a tiny run has each kind), then about one
    per thousand records.
    """

    def __init__(self, rnd: random.Random, kinds: tuple[str, ...], enabled: bool):
        self.rnd = rnd
        self.kinds = kinds
        self.enabled = enabled
        self.count = 0
        self.injected = 0
        self.next_at = _randint(rnd, 3, 15)

    def due(self) -> str | None:
        if not self.enabled:
            return None
        self.count += 1
        if self.count < self.next_at:
            return None
        kind = self.kinds[self.injected % len(self.kinds)]
        self.injected += 1
        if self.injected < len(self.kinds):
            self.next_at += _randint(self.rnd, 10, 40)
        else:
            self.next_at += _randint(self.rnd, 600, 1400)
        return kind


# --------------------------------------------------------------------------- simulator


class _Simulator:
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
        injector_rnd = random.Random(seed * 31 + 3)
        json_kinds = ("malformed_json", "missing_field")
        self.injectors = {
            source: _Injector(injector_rnd, json_kinds, mess)
            for source in SOURCES
            if source != "carrier_tracking_events"
        }
        self.injectors["tracking:jsonl"] = _Injector(injector_rnd, json_kinds, mess)
        self.injectors["tracking:csv"] = _Injector(
            injector_rnd, ("bad_timestamp", "missing_field", "malformed_row"), mess
        )
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

    # ------------------------------------------------------------------ population

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

    # ------------------------------------------------------------------ emission

    def _emit(
        self,
        write_ts: int,
        kind: str,
        source: str,
        record: dict,
        *,
        flaky: bool = False,
        injector: str | None = None,
    ) -> bool:
        """Write one record; with the mess on, maybe late, twice, or with a broken sibling."""
        mess_rnd = self.mess_rnd
        if flaky and self.mess and mess_rnd.random() < 0.02:
            write_ts += mess_rnd.randint(HOUR, 3 * DAY)
            late = True
        else:
            late = False
        line = dumps(record)
        if not self.writer.emit(write_ts, kind, line):
            return False
        if late:
            self.out_of_order[source] += 1
        if (
            flaky
            and self.mess
            and mess_rnd.random() < 0.01
            and self.writer.emit(write_ts + mess_rnd.randint(1, 900), kind, line)
        ):
            self.duplicates[source] += 1
        bad_kind = self.injectors[injector or source].due()
        if bad_kind is not None:
            bad_line = self._break_json(source, record, line, bad_kind)
            if self.writer.emit(write_ts, kind, bad_line):
                counts = self.bad[source]
                counts[bad_kind] = counts.get(bad_kind, 0) + 1
        return True

    def _break_json(self, source: str, record: dict, line: str, bad_kind: str) -> str:
        if bad_kind == "malformed_json":
            return line[: self.mess_rnd.randint(10, max(11, len(line) - 2))]
        broken = dict(record)
        if source == "whatsapp_webhooks":
            entry = dict(record["entry"][0])
            del entry["id"]
            broken["entry"] = [entry]
        else:
            missing = {
                "shopify_orders": "id",
                "woocommerce_orders": "id",
                "youcan_orders": "id",
                "tiktok_leads": "lead_id",
                "carrier_tracking_events": "tracking_number",
                "sms_events": "message_id",
                "lead_signals": "session_id",
            }[source]
            del broken[missing]
        return dumps(broken)

    def _emit_csv(self, write_ts: int, kind: str, record: dict) -> bool:
        source = "carrier_tracking_events"
        columns = v.CARRIER_CSV_COLUMNS
        mess_rnd = self.mess_rnd
        late = False
        if self.mess and mess_rnd.random() < 0.02:
            write_ts += mess_rnd.randint(HOUR, 3 * DAY)
            late = True
        line = csv_line(columns, record)
        if not self.writer.emit(write_ts, kind, line):
            return False
        if late:
            self.out_of_order[source] += 1
        if (
            self.mess
            and mess_rnd.random() < 0.005
            and self.writer.emit(write_ts + mess_rnd.randint(60, 6 * HOUR), kind, line)
        ):
            self.duplicates[source] += 1
        bad_kind = self.injectors["tracking:csv"].due()
        if bad_kind is not None:
            broken = dict(record)
            if bad_kind == "bad_timestamp":
                local = v.iso_naive_local(int(self._ts_from_iso(record["event_time"])))
                broken["event_time"] = mess_rnd.choice(
                    [
                        local.replace("T", " "),  # no offset
                        f"{local[8:10]}/{local[5:7]}/{local[:4]} {local[11:16]}",  # dd/mm/yyyy
                        "31/02/2026 25:61",
                    ]
                )
                bad_line = csv_line(columns, broken)
            elif bad_kind == "missing_field":
                broken["tracking_number"] = ""
                bad_line = csv_line(columns, broken)
            else:  # malformed_row: the export was cut after three columns
                bad_line = ",".join(line.split(",")[:3])
            if self.writer.emit(write_ts, kind, bad_line):
                counts = self.bad[source]
                counts[bad_kind] = counts.get(bad_kind, 0) + 1
        return True

    @staticmethod
    def _ts_from_iso(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    def _count(self, counts: dict[str, int], key: str) -> None:
        counts[key] = counts.get(key, 0) + 1

    # ------------------------------------------------------------------ ids

    def _hex(self, bits: int) -> str:
        return f"{self.rnd.getrandbits(bits):0{bits // 4}X}"

    def _uuid(self) -> str:
        value = self.rnd.getrandbits(128)
        value = (value & ~(0xF << 76)) | (4 << 76)  # version 4
        value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # ------------------------------------------------------------------ run

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
                    self.writer.flush_before(placed_ts)
                    self._order(begin + offset, customer, placed_ts)
                done = min(total, begin + chunk)
                if progress is not None:
                    progress(done, total)
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
            records_dropped_after_end=self.writer.stats.dropped_after_end,
        )
        # summary.json is deterministic: no timing and no paths in it
        written = {
            k: v
            for k, v in summary.to_dict().items()
            if k not in ("out_dir", "truth_dir", "elapsed_s")
        }
        summary_path = self.truth_dir / "summary.json"
        tmp = summary_path.with_name("summary.json.tmp")
        tmp.write_text(json.dumps(written, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, summary_path)
        summary.elapsed_s = round(time.perf_counter() - started, 2)
        return summary

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

    # ------------------------------------------------------------------ one order

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
        prepaid = rnd.random() < w.PREPAID_SHARE[platform]
        items, shipping_fee, total = self._basket(platform)
        creative = rnd.choices(self.creative_ids, self.creative_weights)[0]
        intent = (
            self.c_logit.item(customer)
            + w.PLATFORM_INTENT[platform]
            + self.creative_effect[creative]
            + rnd.gauss(0.0, 0.6)
        )
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
            )
            p_delivery = _sigmoid(logit_p)
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
            self._lead_signal(order, intent)
        # 3. confirmation
        if prepaid:
            confirmation, channel, decided_ts = "not_required", "none", placed_ts
        else:
            confirmation, channel, decided_ts = self._confirm(order, intent, invalid_phone)
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
                if platform != "tiktok" and rnd.random() < 0.85:
                    self._snapshot(order, delivered_ts + _randint(rnd, HOUR, 2 * DAY), "delivered")
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

    def _storefront_sees(self, order: _OrderCtx) -> bool:
        return order.platform != "tiktok" and self.rnd.random() < 0.9

    # ------------------------------------------------------------------ storefront snapshots

    def _snapshot(self, order: _OrderCtx, ts: int, state: str) -> None:
        """Write the order as its storefront shows it in ``state`` at ``ts``."""
        platform = order.platform
        if platform == "shopify":
            record = self._shopify(order, ts, state)
            self._emit(ts, "shopify", "shopify_orders", record)
        elif platform == "woocommerce":
            record = self._woocommerce(order, ts, state)
            self._emit(ts, "woocommerce", "woocommerce_orders", record)
        elif platform == "youcan":
            record = self._youcan(order, ts, state)
            self._emit(ts, "youcan", "youcan_orders", record)
        elif state == "placed":
            record = self._tiktok(order)
            self._emit(order.placed_ts, "tiktok", "tiktok_leads", record)

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
            completed_ts=ts if state == "delivered" else None,
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
            customer_note="",
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
            advertiser_id="7301846529364810753",
            campaign_id="1785123456789012",
            ad_id=str(1785200000000000 + creative_index * 1117),
            ad_name=order.creative,
            form_id="7402938475610293847",
            form_name="Commande COD - paiement à la livraison",
            full_name=f"{order.first_name} {order.last_name}",
            phone=order.phone,
            city=order.city.name,
            address=f"{order.address1} {order.address2}".strip(),
            offer=f"{quantity} x {title} - {price * quantity} MAD",
        )

    # ------------------------------------------------------------------ lead signals

    def _lead_signal(self, order: _OrderCtx, intent: float) -> None:
        rnd = self.rnd
        time_on_page = round(math.exp(rnd.gauss(3.9 + 0.35 * intent, 0.7)), 1)
        scroll = round(100 * _sigmoid(rnd.gauss(0.6 + 0.7 * intent, 1.0)))
        products_viewed = 1 + _poisson(rnd, math.exp(0.1 + 0.3 * intent))
        form_s = round(math.exp(rnd.gauss(3.1 + 0.15 * intent, 0.5)), 1)
        visits = 1 + _poisson(rnd, math.exp(-0.4 + 0.35 * intent))
        roll = rnd.random()
        device = "mobile" if roll < 0.85 else "desktop" if roll < 0.95 else "tablet"
        record = v.lead_signal(
            order_ref=order.ref,
            session_id=f"s_{self._hex(64).lower()}",
            event_time=v.iso_local(order.placed_ts),
            time_on_page_s=time_on_page,
            scroll_depth_pct=scroll,
            products_viewed=products_viewed,
            form_completion_s=form_s,
            visits=visits,
            ad_creative=order.creative,
            device=device,
        )
        self._emit(order.placed_ts, "signals", "lead_signals", record)

    # ------------------------------------------------------------------ confirmation

    def _wa_emit(self, ts: int, body: dict, counter: str) -> None:
        if self._emit(
            ts + _randint(self.rnd, 0, 3), "whatsapp", "whatsapp_webhooks", body, flaky=True
        ):
            self._count(self.wa_counts, counter)

    def _wa_outbound(
        self,
        order: _OrderCtx,
        callback: str,
        category: str,
        sent_ts: int,
        *,
        error_code: int | None = None,
        delivered_ts: int | None = None,
        read_ts: int | None = None,
    ) -> str:
        rnd = self.rnd
        message_id = v.wamid(order.wa, self._hex(72), inbound=False)
        conversation_id = self._hex(128).lower()
        common = {
            "message_id": message_id,
            "recipient": order.wa,
            "callback": callback,
            "category": category,
            "conversation_id": conversation_id,
        }
        if error_code is not None:
            self._wa_emit(
                sent_ts + _randint(rnd, 1, 5),
                v.wa_status(
                    status="failed",
                    ts=sent_ts + 1,
                    conversation_expires_ts=None,
                    error_code=error_code,
                    **common,
                ),
                f"status:failed:{error_code}",
            )
            return message_id
        self._wa_emit(
            sent_ts,
            v.wa_status(status="sent", ts=sent_ts, conversation_expires_ts=sent_ts + DAY, **common),
            "status:sent",
        )
        if delivered_ts is not None:
            if read_ts is not None and self.mess and self.mess_rnd.random() < 0.03:
                self.read_without_delivered += 1  # Meta skips 'delivered' when read at once
            else:
                self._wa_emit(
                    delivered_ts,
                    v.wa_status(
                        status="delivered", ts=delivered_ts, conversation_expires_ts=None, **common
                    ),
                    "status:delivered",
                )
        if read_ts is not None:
            self._wa_emit(
                read_ts,
                v.wa_status(status="read", ts=read_ts, conversation_expires_ts=None, **common),
                "status:read",
            )
        return message_id

    def _wa_inbound(
        self,
        order: _OrderCtx,
        ts: int,
        kind: str,
        text: str,
        payload: str | None,
        context: str | None,
    ) -> None:
        body = v.wa_inbound(
            message_id=v.wamid(order.wa, self._hex(80), inbound=True),
            ts=ts,
            sender=order.wa,
            profile_name=order.profile_name,
            kind=kind,
            text=text,
            payload=payload,
            context_id=context,
        )
        self._wa_emit(ts, body, f"message:{kind}")

    def _sms(
        self, order: _OrderCtx, ts: int, direction: str, status: str, body: str, message_id: str
    ) -> None:
        phone_raw = self.c_invalid_raw.get(order.customer)
        national = self._national(order.customer)
        if direction == "outbound":
            phone = phone_raw if phone_raw is not None else "+212" + national
        else:
            phone = "212" + national  # gateways report the sender without '+'
        record = v.sms_event(
            provider=SMS_PROVIDERS[order.customer % 2],
            message_id=message_id,
            direction=direction,
            phone=phone,
            status=status,
            event_time=v.iso_local(ts),
            body=body,
            order_ref=order.ref if direction == "outbound" else None,
        )
        if self._emit(ts + _randint(self.rnd, 0, 30), "sms", "sms_events", record, flaky=False):
            self._count(self.sms_counts, f"{direction}:{status}")

    def _confirm(
        self, order: _OrderCtx, intent: float, invalid_phone: bool
    ) -> tuple[str, str, int]:
        """Confirmation of a COD order: WhatsApp template, SMS fallback, call centre."""
        rnd = self.rnd
        placed_ts = order.placed_ts
        send_ts = placed_ts + _randint(rnd, 20, 600)
        callback = CONFIRMATION_CALLBACK.format(ref=order.ref)
        decision: str | None = None
        decided_ts = 0
        channel = "none"
        replied_ts: int | None = None
        if invalid_phone:
            # the send API rejects the number: no webhook; the SMS gateway fails too
            self._sms_outbound(order, send_ts + 2 * HOUR, fails=True)
        else:
            on_wa = self.c_on_wa.item(order.customer)
            if not on_wa or rnd.random() < 0.015:
                self._wa_outbound(order, callback, "utility", send_ts, error_code=131026)
            else:
                delivered_ts = read_ts = None
                if rnd.random() < 0.97:
                    delivered_ts = send_ts + (
                        _randint(rnd, 1, 60)
                        if rnd.random() < 0.85
                        else _randint(rnd, 600, 6 * HOUR)
                    )
                    if rnd.random() < _sigmoid(1.0 + 0.8 * intent):
                        read_ts = delivered_ts + int(rnd.lognormvariate(math.log(480), 1.2))
                reply = None
                if read_ts is not None and rnd.random() < _sigmoid(0.2 + 1.0 * intent):
                    reply_ts = read_ts + 5 + int(rnd.lognormvariate(math.log(150), 1.1))
                    cancel = rnd.random() < _sigmoid(-2.2 - 0.8 * intent)
                    roll = rnd.random()
                    if roll < 0.03:
                        reply = ("text", rnd.choice(w.WHATSAPP_TEXT_REPLIES["stop"]), None, None)
                        self.c_stop_text[order.customer] = True
                    elif roll < 0.08:
                        reply = (
                            "text",
                            rnd.choice(w.WHATSAPP_TEXT_REPLIES["question"]),
                            None,
                            None,
                        )
                    elif roll < 0.30:
                        word = "cancel" if cancel else "confirm"
                        reply = ("text", rnd.choice(w.WHATSAPP_TEXT_REPLIES[word]), None, word)
                    else:
                        payload = "CANCEL" if cancel else "CONFIRM"
                        reply = (
                            "button",
                            BUTTON_TEXT[payload],
                            payload,
                            "cancel" if cancel else "confirm",
                        )
                    replied_ts = reply_ts
                template_id = self._wa_outbound(
                    order, callback, "utility", send_ts, delivered_ts=delivered_ts, read_ts=read_ts
                )
                if reply is not None and replied_ts is not None:
                    kind, text, payload, word = reply
                    context = template_id if kind == "button" or rnd.random() < 0.4 else None
                    self._wa_inbound(order, replied_ts, kind, text, payload, context)
                    if word is not None:
                        decision = "confirmed" if word == "confirm" else "cancelled"
                        decided_ts = replied_ts
                        channel = "whatsapp_button" if kind == "button" else "whatsapp_text"
            # no decisive WhatsApp answer within two hours: SMS fallback
            if decision is None or decided_ts > send_ts + 2 * HOUR:
                sms_ts = send_ts + 2 * HOUR + _randint(rnd, 0, 300)
                delivered = self._sms_outbound(order, sms_ts, fails=rnd.random() < 0.06)
                if delivered and rnd.random() < _sigmoid(-1.0 + 0.7 * intent):
                    answer_ts = sms_ts + 30 + int(rnd.lognormvariate(math.log(1200), 1.0))
                    cancel = rnd.random() < _sigmoid(-2.0 - 0.8 * intent)
                    word = "cancel" if cancel else "confirm"
                    self._ids["sms"] += 1
                    self._sms(
                        order,
                        answer_ts,
                        "inbound",
                        "received",
                        rnd.choice(w.SMS_REPLIES[word]),
                        f"SM{self._ids['sms']:010d}",
                    )
                    if decision is None or answer_ts < decided_ts:
                        decision = "confirmed" if word == "confirm" else "cancelled"
                        decided_ts = answer_ts
                        channel = "sms"
            # nobody ever answered on WhatsApp: a misconfigured bot sends a free-form reminder
            if replied_ts is None and on_wa and rnd.random() < 0.25:
                self._wa_outbound(
                    order,
                    REMINDER_CALLBACK.format(ref=order.ref),
                    "service",
                    send_ts + 26 * HOUR + _randint(rnd, 0, 2 * HOUR),
                    error_code=131047,
                )
        if decision is None:
            call_ts = placed_ts + _randint(rnd, 3 * HOUR, 26 * HOUR)
            if not invalid_phone and rnd.random() < _sigmoid(0.3 + 0.8 * intent):
                decision = "confirmed" if rnd.random() < 0.88 else "cancelled"
            else:
                decision = "unreachable"
            decided_ts = call_ts
            channel = "call"
        return decision, channel, decided_ts

    def _sms_outbound(self, order: _OrderCtx, ts: int, *, fails: bool) -> bool:
        self._ids["sms"] += 1
        message_id = f"SM{self._ids['sms']:010d}"
        short_ref = order.ref.split(":", 1)[1][-6:]
        body = (
            f"Bonjour {order.first_name}, merci pour votre commande {short_ref} de {order.total} MAD. "
            "Répondez OUI pour confirmer ou NON pour annuler."
        )
        self._sms(order, ts, "outbound", "sent", body, message_id)
        if fails:
            self._sms(
                order, ts + _randint(self.rnd, 5, 600), "outbound", "failed", body, message_id
            )
            return False
        self._sms(order, ts + _randint(self.rnd, 2, 120), "outbound", "delivered", body, message_id)
        return True

    def _post_delivery_offer(self, order: _OrderCtx, delivered_ts: int) -> None:
        """A marketing template a few days after delivery (source of 131049 / 131050)."""
        rnd = self.rnd
        customer = order.customer
        if (
            self.c_invalid_raw.get(customer) is not None
            or not self.c_on_wa.item(customer)
            or self.c_stop_text.item(customer)
        ):
            return
        day_start = _local_day_start(delivered_ts + 3 * DAY)
        send_ts = day_start + _randint(rnd, 11 * HOUR, 20 * HOUR)
        callback = OFFER_CALLBACK.format(ref=order.ref)
        stop, resume = self.c_pref_stop.get(customer, 0), self.c_pref_resume.get(customer, 0)
        if stop and stop < send_ts and not (resume and resume < send_ts):
            self._wa_outbound(order, callback, "marketing", send_ts, error_code=131050)
        elif rnd.random() < 0.05:
            self._wa_outbound(order, callback, "marketing", send_ts, error_code=131049)
        else:
            delivered = send_ts + _randint(rnd, 1, 120)
            read = (
                delivered + int(rnd.lognormvariate(math.log(1800), 1.3))
                if rnd.random() < 0.6
                else None
            )
            self._wa_outbound(
                order, callback, "marketing", send_ts, delivered_ts=delivered, read_ts=read
            )

    # ------------------------------------------------------------------ parcel

    def _parcel(
        self, order: _OrderCtx, carrier: w.Carrier, dispatch_ts: int, delivered: bool, intent: float
    ) -> tuple[int, int, str]:
        """Write the carrier's tracking events; return (final ts, failed attempts, last reason)."""
        rnd = self.rnd
        words = w.CARRIER_STATUSES[carrier.name]
        self._ids["tracking"] += 1
        tracking = f"{carrier.tracking_prefix}{self._ids['tracking'] * 7 + 1_000_000_000:010d}"
        if carrier.name == "ozon_express":
            tracking += "MA"
        dest = order.city.name
        events: list[tuple[int, str, str, str | None]] = []  # (ts, meaning, city, comment)
        events.append((dispatch_ts, "picked_up", w.WAREHOUSE_CITY, None))
        events.append(
            (dispatch_ts + _randint(rnd, 2 * HOUR, 8 * HOUR), "in_transit", w.WAREHOUSE_CITY, None)
        )
        transit_days = carrier.speed_days + order.city.distance_days + rnd.expovariate(1 / 0.6)
        first_attempt_day = _local_day_start(dispatch_ts + int(transit_days * DAY))
        if first_attempt_day <= events[-1][0]:
            first_attempt_day = _local_day_start(events[-1][0]) + DAY
        if rnd.random() < 0.6:
            events.append(
                (first_attempt_day - _randint(rnd, 2 * HOUR, 12 * HOUR), "at_hub", dest, None)
            )
        if delivered:
            roll = rnd.random()
            n_fail = 0 if roll < 0.78 else 1 if roll < 0.96 else 2
            reasons = [
                rnd.choices(("postponed", "unreachable", "otp_not_provided"), (0.5, 0.42, 0.08))[0]
                for _ in range(n_fail)
            ]
        else:
            roll = rnd.random()
            n_fail = 1 if roll < 0.5 else 2 if roll < 0.85 else 3
            final_reason = rnd.choices(
                (
                    "refused",
                    "unreachable",
                    "wrong_address",
                    "cancelled_by_customer",
                    "otp_not_provided",
                    "postponed",
                ),
                (0.45 + 0.1 * (intent < 0), 0.33, 0.08, 0.07, 0.04, 0.03),
            )[0]
            reasons = [
                rnd.choices(("unreachable", "postponed"), (0.6, 0.4))[0] for _ in range(n_fail - 1)
            ] + [final_reason]
        day = first_attempt_day
        last_ts = events[-1][0]
        for attempt in range(n_fail + (1 if delivered else 0)):
            out_ts = max(day + _randint(rnd, 8 * HOUR + 1800, 11 * HOUR + 1800), last_ts + 600)
            events.append((out_ts, "out_for_delivery", dest, None))
            result_ts = out_ts + _randint(rnd, HOUR, 8 * HOUR)
            if attempt < n_fail:
                reason = reasons[attempt]
                events.append((result_ts, reason, dest, rnd.choice(w.COURIER_COMMENTS[reason])))
                day += DAY * (_randint(rnd, 1, 3) if reason == "postponed" else 1)
            else:
                comment = rnd.choice(w.COURIER_COMMENTS["delivered"]) or None
                events.append((result_ts, "delivered", dest, comment))
            last_ts = result_ts
        if not delivered:
            back_ts = last_ts + _randint(rnd, DAY // 2, 2 * DAY)
            events.append((back_ts, "return_in_transit", dest, None))
            returned_ts = (
                back_ts + int((1 + order.city.distance_days) * DAY) + _randint(rnd, 0, 2 * DAY)
            )
            events.append((returned_ts, "returned", w.WAREHOUSE_CITY, None))
            last_ts = returned_ts
        final_ts = last_ts
        # an unknown status now and then, somewhere in the journey
        if self.mess and self.mess_rnd.random() < 0.01:
            position = 1 + self.mess_rnd.randrange(len(events) - 1)
            before = events[position - 1][0]
            events.insert(position, (before + 60, "__unknown__", dest, None))
        kind = f"tracking:{carrier.name}"
        csv_out = carrier.file_format == "csv"
        for event_number, (ts, meaning, city, comment) in enumerate(events):
            if meaning == "__unknown__":
                raw_status = self.mess_rnd.choice(w.UNKNOWN_CARRIER_STATUSES)
            else:
                options = words[meaning]
                raw_status = options[0] if len(options) == 1 else rnd.choice(options)
            record = v.carrier_event(
                carrier=carrier.name,
                tracking_number=tracking,
                order_ref=order.ref,
                raw_status=raw_status,
                event_time=v.carrier_time(ts, carrier.utc_offset),
                city=city,
                comment=comment,
                event_id=f"{tracking}-{event_number + 1:02d}" if carrier.has_event_id else None,
            )
            write_ts = ts + _randint(rnd, 30, 1800)
            if csv_out:
                emitted = self._emit_csv(write_ts, kind, record)
            else:
                emitted = self._emit(
                    write_ts,
                    kind,
                    "carrier_tracking_events",
                    record,
                    flaky=True,
                    injector="tracking:jsonl",
                )
            if emitted and meaning == "__unknown__":
                self.unknown_statuses += 1
        failed = n_fail
        last_reason = reasons[-1] if reasons else ""
        if last_reason == "cancelled_by_customer":
            last_reason = "refused"
        return final_ts, failed, last_reason


def _randint(rnd: random.Random, low: int, high: int) -> int:
    """Uniform integer in [low, high] (faster than Random.randint, same determinism)."""
    return low + int(rnd.random() * (high - low + 1))


def _pickup_slot(ready_ts: int, rnd: random.Random) -> int:
    """The carrier's next pickup round at the warehouse (10:00-17:00 local) after ready_ts."""
    day = _local_day_start(ready_ts)
    if ready_ts - day > 15 * HOUR:
        day += DAY
    return max(ready_ts, day + _randint(rnd, 10 * HOUR, 17 * HOUR))


def _poisson(rnd: random.Random, lam: float) -> int:
    # Knuth; lam stays small here
    threshold = math.exp(-min(lam, 30.0))
    k = 0
    p = rnd.random()
    while p > threshold:
        k += 1
        p *= rnd.random()
    return k


_PRODUCTS_BY_SKU = {product.sku: product for product in w.CATALOGUE}


def _product(sku: str) -> w.Product:
    return _PRODUCTS_BY_SKU[sku]


class _OrderCtx:
    """Everything about one order that its records need."""

    __slots__ = (
        "address1",
        "address2",
        "city",
        "creative",
        "customer",
        "email",
        "first_name",
        "history",
        "index",
        "items",
        "last_name",
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
        "wa",
        "woo_key",
        "youcan_products",
        "youcan_ref",
        "youcan_variants",
    )

    def __init__(self, **values):
        self.history: list[str] = []
        self.shopify_number = 0
        self.woo_key = ""
        self.youcan_ref = ""
        self.youcan_variants: list[str] = []
        self.youcan_products: list[str] = []
        for key, value in values.items():
            setattr(self, key, value)


# --------------------------------------------------------------------------- public API


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
