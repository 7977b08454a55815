"""Carrier COD remittance statements: the cash each carrier collected, paid out later.

Every delivered COD parcel's cash stays with its carrier until the carrier's next
statement: each carrier closes a period (weekly or every two weeks, Monday to Sunday,
Moroccan time) and, a few days after it ends, pays out what it collected on the parcels
delivered in it minus its fees (a flat fee per parcel, more for remote zones, plus a
commission on the cash). One landing line per statement line, in the remittance
envelope (docs/landing.md), ``remittances/<carrier>/statements_YYYY-MM.jsonl`` by the
month of the payout.

A few deliberate discrepancies, so that the reconciliation marts have something to find
(each listed in ``summary.json`` under ``remittances.deliberate``):

* ``never_remitted``: a delivered parcel left off its statement, and off every later one;
* ``amount_mismatch``: a line whose cash collected is not the order's total;
* ``late_remittance``: a parcel left off its statement and paid weeks later, in a later
  statement of the same carrier;
* ``unbalanced_statements``: a statement whose paid-out amount is not the sum of its
  lines (collected minus fees).

They are placed on the first statements old enough for each to show (paid at least
:data:`DISCREPANCY_MIN_AGE_DAYS` before the end), in a fixed rotation, so that the same
seed always gives the same ones. With the mess on, a broken copy of a line (truncated
JSON, or no ``statement_id``) is written now and then *beside* the good one, for the
ingestion to quarantine; the good lines are never late, duplicated or lost, so the
discrepancies above are the only ones. Everything here draws from its own random
streams: the rest of the landing folder is byte-for-byte what it was without them.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from sandbox.sample_store import world as w
from sandbox.sample_store.mess import _Injector
from sandbox.sample_store.timing import HOUR
from sandbox.sample_store.writer import DAY, FileKind, dumps


@dataclass(frozen=True)
class RemittanceTerms:
    """How one carrier pays the merchant back."""

    prefix: str  # of its statement ids
    period_days: int  # 7 (weekly) or 14 (every two weeks)
    lag_days: tuple[int, int]  # payout this many days after the period ends (inclusive range)
    fee_mad: int  # per delivered parcel, centre zone
    commission: float  # share of the cash collected


TERMS: dict[str, RemittanceTerms] = {
    "ameex": RemittanceTerms("AMX-RS", 7, (2, 4), 30, 0.010),
    "ozon_express": RemittanceTerms("OZ-VIR", 7, (3, 5), 28, 0.012),
    "coliix": RemittanceTerms("CLX-REM", 14, (3, 6), 32, 0.008),
    "sendit": RemittanceTerms("SDT-PAY", 7, (2, 3), 25, 0.015),
    "cathedis": RemittanceTerms("CTH-RLV", 14, (4, 7), 35, 0.005),
}
DEFAULT_TERMS = RemittanceTerms("RS", 14, (3, 7), 30, 0.010)
# Remote zones cost the carrier more: a surcharge per parcel (MAD).
ZONE_SURCHARGE_MAD = {"centre": 0, "north": 5, "east": 10, "south": 10}

# A discrepancy goes only on a statement paid this long before the end, so that a
# parcel left off it is overdue at the end (dbt var remittance_overdue_after_days, 28)
# and a late parcel is paid again before the end.
DISCREPANCY_MIN_AGE_DAYS = 75
# A late parcel is paid in the first statement of its carrier starting this long after
# its delivery (so it is paid past the overdue threshold).
LATE_AFTER_DAYS = 35
# The rotation of discrepancies over the eligible statements, in order.
ROTATION = (
    "never_remitted",
    "amount_mismatch",
    "late_remittance",
    "unbalanced_statements",
    "never_remitted",
    "amount_mismatch",
    "late_remittance",
)
# What the discrepancies change (MAD): cash short of the total, payout short of its lines.
MISMATCH_SHORT_MAD = (50, 30)
UNBALANCED_SHORT_MAD = 120

# Periods start on Monday 00:00 Moroccan time (UTC+1): 1970-01-05 was a Monday.
_MONDAY_LOCAL = 4 * DAY - HOUR
_LOCAL = HOUR


def remittance_file_kinds() -> list[FileKind]:
    return [
        FileKind(
            f"remittance:{carrier.name}",
            "carrier_remittances",
            f"remittances/{carrier.name}/statements_{{month}}.jsonl",
        )
        for carrier in w.CARRIERS
    ]


def _local_date(ts: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts + _LOCAL))


@dataclass
class _Line:
    tracking_number: str
    order_ref: str
    delivered_ts: int
    total_cents: int
    fees_cents: int
    collected_cents: int


class _RemittanceMixin:
    """Collects delivered COD parcels and writes each carrier's statements when due."""

    def _init_remittances(self) -> None:
        self.remit_rnd = random.Random(self.seed * 49_979_687 + 13)
        self._remit_mess_rnd = random.Random(self.seed * 31 + 7)
        self._remit_injector = _Injector(
            self._remit_mess_rnd, ("malformed_json", "missing_field"), self.mess
        )
        # (carrier, period index) -> lines of parcels delivered in that period
        self._remit_open: dict[tuple[str, int], list[_Line]] = {}
        # carrier -> (pay from this ts on, line) held back for a late remittance
        self._remit_held: dict[str, list[tuple[int, _Line]]] = {}
        self._remit_eligible = 0
        self.remit_stats = {
            "statements": 0,
            "lines": 0,
            "collected_mad": 0.0,
            "fees_mad": 0.0,
            "paid_out_mad": 0.0,
        }
        self.remit_deliberate: dict[str, list[str]] = {kind: [] for kind in sorted(set(ROTATION))}

    def _remit_delivered(
        self, order, carrier: w.Carrier, tracking_number: str, delivered_ts: int
    ) -> None:
        """A COD parcel was delivered: its cash waits for the carrier's next statement."""
        if order.prepaid or delivered_ts > self.end_ts:
            return
        terms = TERMS.get(carrier.name, DEFAULT_TERMS)
        period = (delivered_ts - _MONDAY_LOCAL) // (terms.period_days * DAY)
        total_cents = round(order.total * 100)
        fee_cents = (terms.fee_mad + ZONE_SURCHARGE_MAD.get(order.city.zone, 0)) * 100 + round(
            total_cents * terms.commission
        )
        line = _Line(tracking_number, order.ref, delivered_ts, total_cents, fee_cents, total_cents)
        self._remit_open.setdefault((carrier.name, period), []).append(line)

    def _remit_due(self, now_ts: int) -> None:
        """Write every statement whose period ended before ``now_ts``: orders are simulated
        in placement order, so no parcel of an order placed later is delivered in it. Called
        before the writer flushes ``now_ts``'s earlier days (payouts come days after)."""
        due = []
        for carrier, period in self._remit_open:
            terms = TERMS.get(carrier, DEFAULT_TERMS)
            end = _MONDAY_LOCAL + (period + 1) * terms.period_days * DAY
            if end <= now_ts:
                due.append((end, carrier, period))
        for _end, carrier, period in sorted(due):
            self._remit_statement(carrier, period, self._remit_open.pop((carrier, period)))

    def _remit_finish(self) -> None:
        """At the end: the statements due by then, and the held parcels never paid."""
        self._remit_due(self.end_ts + 1)
        for held in self._remit_held.values():
            for _, line in held:
                self.remit_deliberate["late_remittance"].remove(line.order_ref)
                self.remit_deliberate["never_remitted"].append(line.order_ref)
        for refs in self.remit_deliberate.values():
            refs.sort()

    def _remit_statement(self, carrier: str, period: int, lines: list[_Line]) -> None:
        terms = TERMS.get(carrier, DEFAULT_TERMS)
        start = _MONDAY_LOCAL + period * terms.period_days * DAY
        end = start + terms.period_days * DAY
        lag = self.remit_rnd.randint(*terms.lag_days)
        payout_ts = end + lag * DAY + 10 * HOUR  # 11:00 local, the bank transfer
        if payout_ts > self.end_ts:
            return  # paid after the end: still cash in transit
        lines = sorted(lines, key=lambda line: line.delivered_ts)
        # Parcels held back from an earlier statement whose time has come.
        held = self._remit_held.get(carrier, [])
        released = [line for pay_from, line in held if pay_from <= start]
        self._remit_held[carrier] = [(p, line) for p, line in held if p > start]
        statement_id = f"{terms.prefix}-{_local_date(start).replace('-', '')}"
        short_cents = 0
        if len(lines) >= 3 and payout_ts + DISCREPANCY_MIN_AGE_DAYS * DAY <= self.end_ts:
            if self._remit_eligible < len(ROTATION):
                kind = ROTATION[self._remit_eligible]
                short_cents = self._remit_discrepancy(kind, carrier, statement_id, lines)
            self._remit_eligible += 1
        lines = lines + released
        net_cents = sum(line.collected_cents - line.fees_cents for line in lines)
        paid_cents = net_cents - short_cents
        common = {
            "carrier": carrier,
            "statement_id": statement_id,
            "period_start": _local_date(start),
            "period_end": _local_date(end - 1),
            "payout_date": _local_date(payout_ts),
            "currency": "MAD",
        }
        for line in lines:
            record = {
                **common,
                "tracking_number": line.tracking_number,
                "order_ref": line.order_ref,
                "amount_collected": line.collected_cents / 100,
                "fees": line.fees_cents / 100,
                "paid_out_amount": paid_cents / 100,
            }
            self._remit_write(payout_ts, f"remittance:{carrier}", record)
        stats = self.remit_stats
        stats["statements"] += 1
        stats["lines"] += len(lines)
        stats["collected_mad"] = round(
            stats["collected_mad"] + sum(x.collected_cents for x in lines) / 100, 2
        )
        stats["fees_mad"] = round(stats["fees_mad"] + sum(x.fees_cents for x in lines) / 100, 2)
        stats["paid_out_mad"] = round(stats["paid_out_mad"] + paid_cents / 100, 2)

    def _remit_write(self, write_ts: int, kind: str, record: dict) -> None:
        line = dumps(record)
        if not self.writer.emit(write_ts, kind, line):
            return
        bad_kind = self._remit_injector.due()
        if bad_kind is None:
            return
        if bad_kind == "malformed_json":
            bad_line = line[: self._remit_mess_rnd.randint(10, len(line) - 2)]
        else:
            bad_line = dumps({k: v for k, v in record.items() if k != "statement_id"})
        if self.writer.emit(write_ts, kind, bad_line):
            counts = self.bad["carrier_remittances"]
            counts[bad_kind] = counts.get(bad_kind, 0) + 1

    def _remit_discrepancy(
        self, kind: str, carrier: str, statement_id: str, lines: list[_Line]
    ) -> int:
        """Apply one deliberate discrepancy to a statement's lines (in place); return how
        much its payout falls short of its lines (cents)."""
        found = self.remit_deliberate[kind]
        if kind == "unbalanced_statements":
            found.append(statement_id)
            return UNBALANCED_SHORT_MAD * 100
        line = lines[len(lines) // 2]
        if kind == "amount_mismatch":
            short = MISMATCH_SHORT_MAD[len(found) % len(MISMATCH_SHORT_MAD)]
            line.collected_cents -= short * 100
            found.append(line.order_ref)
            return 0
        lines.remove(line)
        found.append(line.order_ref)
        if kind == "late_remittance":
            self._remit_held.setdefault(carrier, []).append(
                (line.delivered_ts + LATE_AFTER_DAYS * DAY, line)
            )
        return 0

    def _remittance_summary(self) -> dict:
        return {**self.remit_stats, "deliberate": self.remit_deliberate}
