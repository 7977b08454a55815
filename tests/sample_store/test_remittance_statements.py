"""The carriers' remittance statements the sample store writes: every delivered COD parcel
paid back once, on time, by its own carrier, with its order's total; statements that sum
to their payout; and exactly the deliberate discrepancies of summary.json besides."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime

from sandbox.sample_store.remittances import (
    DISCREPANCY_MIN_AGE_DAYS,
    LATE_AFTER_DAYS,
    MISMATCH_SHORT_MAD,
    TERMS,
    UNBALANCED_SHORT_MAD,
)


def _statement_lines(store) -> list[dict]:
    records, _broken = store.json_lines("remittances/**/*.jsonl")
    return [r for r in records if "statement_id" in r]  # the mess's copies have none


def _delivered_cod(store) -> dict[str, dict]:
    return {
        row["order_ref"]: row
        for row in store.truth_orders()
        if row["payment_method"] == "cod" and row["final_outcome"] == "delivered"
    }


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _delivered_day(row: dict) -> date:
    moment = datetime.fromisoformat(row["delivered_at"].replace("Z", "+00:00")).astimezone(UTC)
    return moment.date()


def test_each_delivered_cod_parcel_is_paid_once_by_its_carrier(moderate_store):
    summary = json.loads((moderate_store.truth / "summary.json").read_text())["remittances"]
    deliberate = summary["deliberate"]
    lines = _statement_lines(moderate_store)
    delivered = _delivered_cod(moderate_store)
    assert len(lines) == summary["lines"] > 1000
    refs = [line["order_ref"] for line in lines]
    assert len(refs) == len(set(refs))  # never paid twice
    for line in lines:
        order = delivered[line["order_ref"]]  # only delivered COD orders are paid
        assert line["carrier"] == order["carrier"]
        assert line["currency"] == "MAD"
        expected = float(order["total_mad"])
        if line["order_ref"] not in deliberate["amount_mismatch"]:
            assert line["amount_collected"] == expected
        terms = TERMS[line["carrier"]]
        start, end, paid = (_day(line[k]) for k in ("period_start", "period_end", "payout_date"))
        assert (end - start).days + 1 == terms.period_days
        assert start.weekday() == 0  # periods start on Monday
        lag = (paid - end).days - 1
        assert terms.lag_days[0] <= lag <= terms.lag_days[1]
        if line["order_ref"] not in deliberate["late_remittance"]:
            # paid for the period the parcel was delivered in (Moroccan day, ±1 for UTC)
            assert (start - _delivered_day(order)).days <= 1
            assert (_delivered_day(order) - end).days <= 1
    # Parcels delivered long before the end and not paid: only the deliberate ones.
    unpaid_old = sorted(
        ref
        for ref, row in delivered.items()
        if ref not in set(refs)
        and (date.fromisoformat(summary_end(moderate_store)) - _delivered_day(row)).days > 30
    )
    assert unpaid_old == deliberate["never_remitted"]


def summary_end(store) -> str:
    return json.loads((store.truth / "summary.json").read_text())["end_date"]


def test_the_deliberate_discrepancies_are_what_summary_json_says(moderate_store):
    deliberate = json.loads((moderate_store.truth / "summary.json").read_text())["remittances"][
        "deliberate"
    ]
    assert {k: len(v) for k, v in deliberate.items()} == {
        "amount_mismatch": 2,
        "late_remittance": 2,
        "never_remitted": 2,
        "unbalanced_statements": 1,
    }
    lines = _statement_lines(moderate_store)
    delivered = _delivered_cod(moderate_store)
    by_ref = {line["order_ref"]: line for line in lines}
    shorts = sorted(
        float(delivered[ref]["total_mad"]) - by_ref[ref]["amount_collected"]
        for ref in deliberate["amount_mismatch"]
    )
    assert shorts == sorted(float(s) for s in MISMATCH_SHORT_MAD)
    for ref in deliberate["late_remittance"]:
        waited = (_day(by_ref[ref]["payout_date"]) - _delivered_day(delivered[ref])).days
        assert waited > LATE_AFTER_DAYS
    assert not set(deliberate["never_remitted"]) & set(by_ref)
    # Every statement sums to its payout, except the unbalanced one, paid short.
    sums: dict[str, float] = defaultdict(float)
    payouts: dict[str, set[float]] = defaultdict(set)
    paid_on: dict[str, date] = {}
    for line in lines:
        key = line["statement_id"]
        sums[key] += line["amount_collected"] - line["fees"]
        payouts[key].add(line["paid_out_amount"])
        paid_on[key] = _day(line["payout_date"])
    assert all(len(p) == 1 for p in payouts.values())
    differences = {
        key: round(next(iter(payouts[key])) - total, 2)
        for key, total in sums.items()
        if abs(next(iter(payouts[key])) - total) > 0.005
    }
    assert differences == {deliberate["unbalanced_statements"][0]: -float(UNBALANCED_SHORT_MAD)}
    end = date.fromisoformat(summary_end(moderate_store))
    key = deliberate["unbalanced_statements"][0]
    assert (end - paid_on[key]).days >= DISCREPANCY_MIN_AGE_DAYS
