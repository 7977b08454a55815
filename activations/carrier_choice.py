"""Carrier choice per order: which eligible carrier should take each open parcel, and why.

Time order (why this is Python after scoring, not a dbt model): an order's delivery
probability is the lead score's, and ``ml.order_scores`` is written by the
``order_scores`` asset *after* dbt has built the marts. dbt builds what does not depend
on the score — ``carrier_city_delivery_rates``: per carrier × city the rate-card fees and
the delivery rate shrunk towards the carrier's and the city's overall rates (weight: var
``carrier_choice_prior_weight``). This module, run after scoring, combines the two.

Per open order *o* and eligible carrier *c* in the order's city:

* P(delivery | o, c) = inv_logit(logit(P_o) − logit(r_ref) + logit(r_c)): the lead
  score's probability P_o (1 − ``rto_probability``) carries what is known about the
  customer and the order; r_ref is the rate the score already assumed for the order's
  delivery — the assigned carrier's rate in the city when a carrier is already named (the
  score's carrier signal saw it), else the city's rate over the carriers used there (the
  score's city signal) — and r_c the candidate carrier's rate in the city. The scorecard
  is a logistic regression, so swapping one carrier × city effect on the log-odds is the
  model's own arithmetic.
* expected profit = P × (margin − COD fee % × cash collected) − forward fee
  − (1 − P) × (return fee + handling), where margin and handling are the lead score's
  unit economics (``ml/lead_score_config.yaml``): margin = ``delivered_margin`` +
  ``rto_forward_shipping`` (the flat margin is net of one forward shipment, which the rate
  card now prices per carrier), handling = ``rto_handling``.
* recommended carrier = the highest expected profit (fewer promised days, then the code,
  on a tie); its reason compares it with the baseline — the carrier already assigned,
  else the city's usual carrier (most parcels so far) — or, when it is the baseline, with
  the runner-up.

The pickup sheets built on the recommendation are :mod:`activations.dispatch_manifest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd

from activations.warehouse_tables import (
    CARRIER_OPTIONS,
    CARRIER_RATES_MODEL,
    CARRIER_RECOMMENDATIONS,
    ORDER_SCORES,
    ORDERS_MODEL,
    relation_exists,
)
from common.marts import mart
from ml.config import UnitEconomics

UNKNOWN_CITY = "(unknown)"  # as int_carrier_parcels and the carrier marts write it
CARRIER_NAMES = {
    "ameex": "Ameex",
    "ozon_express": "Ozon Express",
    "coliix": "Coliix",
    "sendit": "Sendit",
    "cathedis": "Cathedis",
}


def carrier_name(code: str | None) -> str:
    """How a carrier is written in a reason: its brand name, else its code in words."""
    if not code:
        return "no carrier"
    return CARRIER_NAMES.get(code, code.replace("_", " ").title())


@dataclass(frozen=True)
class CarrierEconomics:
    """Money of one parcel (MAD) besides the carrier's own fees."""

    margin_before_carrier_fees: float
    rto_handling: float

    @classmethod
    def from_unit_economics(cls, economics: UnitEconomics) -> CarrierEconomics:
        """The lead score's unit economics, with its flat forward shipping added back."""
        return cls(
            margin_before_carrier_fees=economics.delivered_margin + economics.rto_forward_shipping,
            rto_handling=economics.rto_handling,
        )


def _logit(p: np.ndarray | pd.Series) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 0.001, 0.999)
    return np.log(q / (1 - q))


def _inv_logit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def shrunk_rate(delivered: float, resolved: float, prior: float, weight: float) -> float:
    """``(delivered + weight × prior) / (resolved + weight)``: the dbt model's shrinkage."""
    return (delivered + weight * prior) / (resolved + weight)


def combined_prior(carrier_rate: float, city_rate: float, overall_rate: float) -> float:
    """The carrier × city prior of the dbt model: carrier and city effects added on log-odds."""
    x = _logit([carrier_rate]) + _logit([city_rate]) - _logit([overall_rate])
    return float(_inv_logit(x)[0])


def carrier_options(
    orders: pd.DataFrame, rates: pd.DataFrame, economics: CarrierEconomics
) -> pd.DataFrame:
    """One row per order × eligible carrier with its delivery probability and expected profit.

    ``orders``: order_ref, city, assigned_carrier, delivery_probability (the lead score's),
    cod_amount. ``rates``: rows of ``carrier_city_delivery_rates``. An order whose city has
    no eligible carrier gets no row.
    """
    if orders.empty or rates.empty:
        return pd.DataFrame(columns=_OPTION_COLUMNS)
    frame = orders.copy()
    frame["city_key"] = frame["city"].fillna(UNKNOWN_CITY)
    city_rate = rates.groupby("city")["city_delivery_rate"].first()
    joined = frame.merge(
        rates.rename(columns={"city": "city_key"}), on="city_key", how="inner", validate="m:m"
    )
    assigned_rate = rates.set_index(["carrier", "city"])["delivery_rate"]
    keys = list(zip(joined["assigned_carrier"], joined["city_key"], strict=True))
    reference = [
        assigned_rate.get(key, np.nan) if isinstance(key[0], str) else np.nan for key in keys
    ]
    joined["reference_rate"] = np.where(
        pd.notna(reference), reference, joined["city_key"].map(city_rate)
    )
    p = _inv_logit(
        _logit(joined["delivery_probability"])
        - _logit(joined["reference_rate"])
        + _logit(joined["delivery_rate"])
    )
    # An order without a probability gets none (and no recommendation), never a guess.
    joined["p_delivery"] = np.where(joined["delivery_probability"].notna(), p, np.nan)
    cash = joined["cod_amount"].fillna(0.0).astype(float)
    delivered_value = economics.margin_before_carrier_fees - joined["cod_fee_pct"] / 100.0 * cash
    joined["expected_profit"] = (
        joined["p_delivery"] * delivered_value
        - joined["forward_fee_mad"]
        - (1 - joined["p_delivery"]) * (joined["return_fee_mad"] + economics.rto_handling)
    )
    joined = joined.rename(columns={"city_key": "rate_city"})
    return joined[_OPTION_COLUMNS].sort_values(["order_ref", "carrier"]).reset_index(drop=True)


_OPTION_COLUMNS = [
    "order_ref",
    "carrier",
    "rate_city",
    "assigned_carrier",
    "is_usual_carrier",
    "delivery_probability",
    "reference_rate",
    "delivery_rate",
    "p_delivery",
    "forward_fee_mad",
    "return_fee_mad",
    "cod_fee_pct",
    "promised_days",
    "expected_profit",
]


def _pct(p: float) -> str:
    return f"{round(100 * p)} %"


def _reason(
    best: pd.Series, other: pd.Series | None, best_note: str = "", other_note: str = ""
) -> str:
    """The reason in words, e.g. "Ozon Express delivers 81 % in Oujda vs 64 % for Ameex
    (usual carrier), +19 MAD expected": carrier × city rates, the order's profit gap."""
    city = best["rate_city"] if best["rate_city"] != UNKNOWN_CITY else "an unknown city"
    name = carrier_name(best["carrier"]) + (f" ({best_note})" if best_note else "")
    if other is None:
        return f"{name} is the only carrier offered in {city}"
    gain = best["expected_profit"] - other["expected_profit"]
    versus = carrier_name(other["carrier"]) + (f" ({other_note})" if other_note else "")
    return (
        f"{name} delivers {_pct(best['delivery_rate'])} in {city} vs "
        f"{_pct(other['delivery_rate'])} for {versus}, {gain:+.0f} MAD expected"
    )


def recommend(options: pd.DataFrame) -> pd.DataFrame:
    """One row per order: the recommended carrier, the baseline, the expected gain and why."""
    rows = []
    ranked = options.dropna(subset=["expected_profit"]).sort_values(
        ["order_ref", "expected_profit", "promised_days", "carrier"],
        ascending=[True, False, True, True],
    )
    for ref, group in ranked.groupby("order_ref", sort=True):
        best = group.iloc[0]
        assigned = best["assigned_carrier"] if isinstance(best["assigned_carrier"], str) else None
        usual = group.loc[group["is_usual_carrier"].astype(bool), "carrier"]
        baseline_code = assigned or (usual.iloc[0] if len(usual) else None)
        role = "assigned" if assigned else "usual carrier"
        baseline = group[group["carrier"] == baseline_code]
        baseline_row = baseline.iloc[0] if len(baseline) else None
        runner_up = group.iloc[1] if len(group) > 1 else None
        if baseline_row is None:
            reason = _reason(best, runner_up, other_note="next best")
        elif baseline_row["carrier"] != best["carrier"]:
            reason = _reason(best, baseline_row, other_note=role)
        else:
            reason = _reason(best, runner_up, best_note=f"{role}, kept", other_note="next best")
        rows.append(
            {
                "order_ref": ref,
                "city": best["rate_city"],
                "recommended_carrier": best["carrier"],
                "recommended_p_delivery": float(best["p_delivery"]),
                "recommended_expected_profit": float(best["expected_profit"]),
                "baseline_carrier": baseline_code,
                "baseline_kind": (role if baseline_code else None),
                "baseline_p_delivery": _value(baseline_row, "p_delivery"),
                "baseline_expected_profit": _value(baseline_row, "expected_profit"),
                "expected_gain": (
                    float(best["expected_profit"] - baseline_row["expected_profit"])
                    if baseline_row is not None
                    else None
                ),
                "eligible_carriers": len(group),
                "carrier_reason": reason,
            }
        )
    return pd.DataFrame(rows, columns=_RECOMMENDATION_COLUMNS)


_RECOMMENDATION_COLUMNS = [
    "order_ref",
    "city",
    "recommended_carrier",
    "recommended_p_delivery",
    "recommended_expected_profit",
    "baseline_carrier",
    "baseline_kind",
    "baseline_p_delivery",
    "baseline_expected_profit",
    "expected_gain",
    "eligible_carriers",
    "carrier_reason",
]


def _value(row: pd.Series | None, column: str) -> float | None:
    if row is None or pd.isna(row[column]):
        return None
    return float(row[column])


@dataclass(frozen=True)
class RecommendationRun:
    orders: int
    options: int
    differs_from_baseline: int
    expected_gain_mad: float
    by_carrier: dict[str, int]


def _open_scored_orders(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The latest score of each open order (order_scores holds only live orders) and its city."""
    orders = mart(ORDERS_MODEL)
    return conn.execute(
        f"""
        with latest as (
            select order_ref, rto_probability,
                row_number() over (partition by order_ref order by scored_at desc) as rn
            from {ORDER_SCORES}
        )
        select o.order_ref, o.city, o.carrier as assigned_carrier,
            1 - s.rto_probability as delivery_probability,
            cast(case when o.is_cod then o.total_amount else 0 end as double) as cod_amount
        from latest s
        join {orders} o on o.order_ref = s.order_ref
        where s.rn = 1 and o.outcome = 'open'
        order by o.order_ref
        """
    ).df()


def refresh_carrier_recommendations(
    conn: duckdb.DuckDBPyConnection, economics: CarrierEconomics, now: datetime
) -> RecommendationRun:
    """Rebuild ``ml.carrier_options`` and ``ml.carrier_recommendations`` (whole, in one
    transaction): every scored open order, every eligible carrier."""
    rates_mart = mart(CARRIER_RATES_MODEL)
    if not relation_exists(conn, ORDER_SCORES) or not relation_exists(conn, rates_mart):
        orders, rates = pd.DataFrame(), pd.DataFrame()
    else:
        orders = _open_scored_orders(conn)
        rates = conn.execute(f"select * from {rates_mart}").df()
    options = carrier_options(orders, rates, economics)
    recommendations = recommend(options)
    computed_at = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now
    options["computed_at"] = computed_at
    recommendations["computed_at"] = computed_at
    _replace(conn, {CARRIER_OPTIONS: options, CARRIER_RECOMMENDATIONS: recommendations})
    differs = recommendations[
        recommendations["baseline_carrier"].notna()
        & (recommendations["recommended_carrier"] != recommendations["baseline_carrier"])
    ]
    return RecommendationRun(
        orders=len(recommendations),
        options=len(options),
        differs_from_baseline=len(differs),
        expected_gain_mad=float(differs["expected_gain"].sum()) if len(differs) else 0.0,
        by_carrier={
            str(k): int(v)
            for k, v in recommendations["recommended_carrier"].value_counts().sort_index().items()
        },
    )


_DDL = {
    CARRIER_OPTIONS: """
        order_ref varchar, carrier varchar, rate_city varchar, assigned_carrier varchar,
        is_usual_carrier boolean, delivery_probability double, reference_rate double,
        delivery_rate double, p_delivery double, forward_fee_mad double, return_fee_mad double,
        cod_fee_pct double, promised_days integer, expected_profit double, computed_at timestamp
    """,
    CARRIER_RECOMMENDATIONS: """
        order_ref varchar, city varchar, recommended_carrier varchar,
        recommended_p_delivery double, recommended_expected_profit double,
        baseline_carrier varchar, baseline_kind varchar, baseline_p_delivery double,
        baseline_expected_profit double, expected_gain double, eligible_carriers integer,
        carrier_reason varchar, computed_at timestamp
    """,
}


def _replace(conn: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]) -> None:
    conn.execute("create schema if not exists ml")
    conn.execute("begin transaction")
    try:
        for table, frame in frames.items():
            conn.execute(f"create or replace table {table} ({_DDL[table]})")
            if len(frame):
                conn.register("_frame", frame)
                conn.execute(f"insert into {table} by name select * from _frame")
                conn.unregister("_frame")
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
