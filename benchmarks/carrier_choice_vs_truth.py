"""How close the carrier recommendation gets to the simulator's best carrier, on the sample store.

The simulator's carrier effects are known (``sandbox/sample_store/world.py``): a COD parcel
is delivered with p = sigmoid(… + carrier base effect + carrier × zone effect), prepaid ones
with 0.985, and ``sample_truth/orders.csv`` holds each order's p under the carrier the
store really used (``carrier``) and how the order really ended (``simulated_outcome``, also
for the orders still open when the data stops). So each order's true p under *any*
carrier is known: swap the carrier's effect on the log-odds (exact for ordinary COD
orders; the few fraud-ring and invalid-phone orders, whose p is capped or scaled after the
sigmoid, are approximated the same way).

The recommendation (``ml.carrier_options`` / ``ml.carrier_recommendations``, written after
scoring) covers the orders open at the end of the data: later orders than every parcel
its carrier × city rates learnt from. For those orders this prints:

- expected (the pipeline's P) and true (the simulator's p) delivery rate of the
  recommended carrier vs the carrier actually used, and the realised rate of the carrier
  actually used (orders that ended delivered or returned);
- how often the recommendation is the truly best carrier (highest true expected profit
  with the same fees and margin), and the expected-profit regret in MAD per order of the
  recommendation, of the carrier actually used and of always taking the city's usual one;
- per city: the carrier recommended most vs the simulator's best.

Then, on many more later orders, the carrier × city part alone (a time split): the rates
are recomputed with the dbt model's formulas (``activations.carrier_choice.shrunk_rate`` /
``combined_prior``, equal to the mart's: tests/transform/test_carrier_choice_marts.py)
from the outcomes known at a cutoff ``--holdout-days`` before the end, and every COD order
the simulated store dispatched after the cutoff is given the carrier with the best
expected profit at its city's rate (the order's own score left out: it is not known for
past orders without re-scoring them). Same figures: share truly best, regret.

Orders the simulator cancels before dispatch have no carrier in the truth and are left
out (they need none).

Prints; asserts nothing.

    .venv/bin/python -m benchmarks.carrier_choice_vs_truth            # after `make demo`
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml

from activations.carrier_choice import (
    CarrierEconomics,
    carrier_name,
    combined_prior,
    shrunk_rate,
)
from activations.warehouse_tables import (
    CARRIER_OPTIONS,
    CARRIER_RATES_MODEL,
    CARRIER_RECOMMENDATIONS,
    ORDERS_MODEL,
)
from common.marts import DuckDBMartReader, mart
from common.settings import DBT_PROJECT_DIR, load_settings
from ml.config import load_lead_score_config
from ml.features import ORDER_HISTORY_MART
from sandbox.sample_store import world


def _carrier_effect(carrier: str, zone: str) -> float:
    found = {c.name: c for c in world.CARRIERS}[carrier]
    return found.base_effect + found.zone_effect[zone]


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def true_p(truth: pd.DataFrame, options: pd.DataFrame) -> np.ndarray:
    """The simulator's p for each (order, candidate carrier) row of ``options``."""
    zones = {c.name: c.zone for c in world.CITIES}
    rows = options[["order_ref", "carrier"]].join(
        truth[["carrier_true", "city", "payment_method", "p_delivery"]].rename(
            columns={"p_delivery": "p_used"}
        ),
        on="order_ref",
    )
    used = [
        _carrier_effect(c, zones[city])
        for c, city in zip(rows["carrier_true"], rows["city"], strict=True)
    ]
    candidate = [
        _carrier_effect(c, zones[city])
        for c, city in zip(rows["carrier"], rows["city"], strict=True)
    ]
    p_used = rows["p_used"].to_numpy(dtype=float)
    swapped = 1 / (1 + np.exp(-(_logit(p_used) - np.array(used) + np.array(candidate))))
    return np.where(rows["payment_method"] == "cod", swapped, p_used)


def _profit(p, row, economics: CarrierEconomics):
    cash = row["cod_amount"]
    return (
        p * (economics.margin_before_carrier_fees - row["cod_fee_pct"] / 100 * cash)
        - row["forward_fee_mad"]
        - (1 - p) * (row["return_fee_mad"] + economics.rto_handling)
    )


def _pct(x: float) -> str:
    return "   n/a" if math.isnan(x) else f"{100 * x:5.1f} %"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    settings = load_settings()
    parser.add_argument("--warehouse", default=str(settings.warehouse_path))
    parser.add_argument("--truth", default=str(settings.data_dir / "sample_truth" / "orders.csv"))
    parser.add_argument("--holdout-days", type=int, default=90)
    args = parser.parse_args()
    if not Path(args.truth).exists():
        print(f"no simulator truth at {args.truth}: run `make demo` first")
        return 1
    economics = CarrierEconomics.from_unit_economics(load_lead_score_config().unit_economics)
    with duckdb.connect(args.warehouse, read_only=True) as conn:
        try:
            options = conn.execute(
                f"select o.*, coalesce(cast(r.cod_amount as double), 0) as cod_amount "
                f"from {CARRIER_OPTIONS} o left join (select order_ref, "
                f"case when is_cod then total_amount else 0 end as cod_amount "
                f"from {mart(ORDERS_MODEL)}) r using (order_ref)"
            ).df()
            recommended = conn.execute(f"select * from {CARRIER_RECOMMENDATIONS}").df()
        except duckdb.CatalogException as exc:
            print(f"no carrier recommendation in {args.warehouse} ({exc}): run `make demo` first")
            return 1
    truth = pd.read_csv(args.truth).set_index("order_ref")
    truth = truth.rename(columns={"carrier": "carrier_true"})
    known_cities = {c.name for c in world.CITIES}
    options = options[options["order_ref"].isin(truth.index)].copy()
    options = options[options["order_ref"].map(truth["city"]).isin(known_cities)]
    # Orders the simulator cancelled before dispatch have no carrier (and need none).
    cancelled = options.loc[options["order_ref"].map(truth["carrier_true"]).isna(), "order_ref"]
    options = options[~options["order_ref"].isin(cancelled)]
    options["true_p"] = true_p(truth, options)
    options["true_profit"] = _profit(options["true_p"], options, economics)
    options["actual"] = options["carrier"] == options["order_ref"].map(truth["carrier_true"])
    options = options.merge(
        recommended[["order_ref", "recommended_carrier"]], on="order_ref", how="inner"
    )
    options["is_recommended"] = options["carrier"] == options["recommended_carrier"]
    by_order = options.groupby("order_ref")
    best_true = options.loc[by_order["true_profit"].idxmax()].set_index("order_ref")
    rec = options[options["is_recommended"]].set_index("order_ref")
    act = options[options["actual"]].set_index("order_ref")
    usual = options[options["is_usual_carrier"]].set_index("order_ref")
    refs = rec.index.intersection(act.index)
    rec, act, best_true = rec.loc[refs], act.loc[refs], best_true.loc[refs]
    outcome = truth.loc[refs, "simulated_outcome"]
    ended = outcome.isin(["delivered", "returned"])

    print(
        f"Carrier choice vs the simulator's truth — {len(refs)} open orders with a recommendation"
    )
    print(
        f"(warehouse {args.warehouse}, truth {args.truth}; {cancelled.nunique()} more open "
        "orders the simulator cancels before dispatch are left out)\n"
    )
    print(f"{'':<34}{'expected P':>12}{'true p':>10}{'realised':>10}")
    realised_actual = (outcome[ended] == "delivered").mean() if ended.any() else float("nan")
    same = rec["carrier"] == act["carrier"]
    realised_same = (
        (outcome[ended & same] == "delivered").mean() if (ended & same).any() else float("nan")
    )
    print(
        f"{'recommended carrier':<34}{_pct(rec['p_delivery'].mean()):>12}"
        f"{_pct(rec['true_p'].mean()):>10}{_pct(realised_same):>10}  (realised: where it was the one used)"
    )
    print(
        f"{'carrier actually used':<34}{_pct(act['p_delivery'].mean()):>12}"
        f"{_pct(act['true_p'].mean()):>10}{_pct(realised_actual):>10}  ({int(ended.sum())} ended)"
    )
    print(f"{'simulator best carrier':<34}{'':>12}{_pct(best_true['true_p'].mean()):>10}")
    print()
    share_best = (rec["carrier"] == best_true["carrier"]).mean()
    share_actual_best = (act["carrier"] == best_true["carrier"]).mean()
    print(f"recommended == truly best carrier: {100 * share_best:.1f} % of orders")
    print(f"actually used == truly best:       {100 * share_actual_best:.1f} % of orders")
    print(f"recommended == actually used:      {100 * same.mean():.1f} % of orders")
    print("\nexpected-profit regret vs the truly best carrier (true p, same fees), MAD per order:")
    for name, chosen in (("recommended", rec), ("actually used", act)):
        regret = best_true["true_profit"] - chosen["true_profit"]
        print(f"  {name:<22}{regret.mean():7.2f}   (total {regret.sum():8.0f})")
    usual_refs = refs.intersection(usual.index)
    if len(usual_refs):
        regret = best_true.loc[usual_refs, "true_profit"] - usual.loc[usual_refs, "true_profit"]
        print(f"  {'usual city carrier':<22}{regret.mean():7.2f}   (total {regret.sum():8.0f})")
    gain = (rec["true_profit"] - act["true_profit"]).mean()
    print(f"true gain of the recommendation over the carrier used: {gain:+.2f} MAD per order")

    print(
        "\nper city: the carrier recommended most vs the simulator's best (true profit, most orders)"
    )
    per_city = pd.DataFrame(
        {
            "city": truth.loc[refs, "city"],
            "recommended": rec["carrier"],
            "best": best_true["carrier"],
        }
    )
    for city, group in per_city.groupby("city"):
        print(
            f"  {city:<14}{len(group):>5} order(s)  recommended {carrier_name(group['recommended'].mode()[0]):<13}"
            f" best {carrier_name(group['best'].mode()[0]):<13}"
            f" agree {100 * (group['recommended'] == group['best']).mean():5.1f} %"
        )
    _time_split(args.warehouse, truth, economics, args.holdout_days)
    return 0


def _learnt_rates(history: pd.DataFrame, zones: dict[str, str], weight: float) -> dict:
    """``{(carrier, city): rate}``, the dbt model's shrinkage on ``history``'s outcomes."""
    history = history.assign(
        zone=history["city"].map(zones), delivered=history["outcome"] == "delivered"
    )
    overall = history["delivered"].mean()

    def counts(keys):
        grouped = history.groupby(keys)["delivered"].agg(["sum", "count"])
        return {k: (float(v["sum"]), float(v["count"])) for k, v in grouped.iterrows()}

    carrier, city, zone = counts("carrier"), counts("city"), counts("zone")
    carrier_zone, cell = counts(["carrier", "zone"]), counts(["carrier", "city"])
    rates = {}
    for c in {k for k in carrier}:
        for town, area in zones.items():
            c_rate = shrunk_rate(*carrier.get(c, (0, 0)), overall, weight)
            t_rate = shrunk_rate(*city.get(town, (0, 0)), overall, weight)
            z_rate = shrunk_rate(*zone.get(area, (0, 0)), overall, weight)
            cz_prior = combined_prior(c_rate, z_rate, overall)
            cz_rate = shrunk_rate(*carrier_zone.get((c, area), (0, 0)), cz_prior, weight)
            prior = combined_prior(cz_rate, t_rate, z_rate)
            rates[(c, town)] = shrunk_rate(*cell.get((c, town), (0, 0)), prior, weight)
    return rates


def _time_split(warehouse: str, truth: pd.DataFrame, economics, holdout_days: int) -> None:
    weight = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"][
        "carrier_choice_prior_weight"
    ]
    reader = DuckDBMartReader(warehouse)
    orders = reader.read(ORDER_HISTORY_MART)
    fees = reader.read(CARRIER_RATES_MODEL)
    zones = {c.name: c.zone for c in world.CITIES}
    cutoff = orders["placed_at"].max() - pd.Timedelta(days=holdout_days)
    known = orders[
        orders["carrier"].notna()
        & orders["outcome"].isin(["delivered", "returned"])
        & (orders["resolved_at"] < cutoff)
    ]
    rates = _learnt_rates(known[["carrier", "city", "outcome"]], zones, weight)
    later = truth[
        (pd.to_datetime(truth["placed_at"]).dt.tz_localize(None) >= cutoff)
        & truth["carrier_true"].notna()
        & (truth["payment_method"] == "cod")
        & truth["city"].isin(zones)
    ].reset_index()
    fees = fees[fees["city"].isin(zones)]
    options = later[["order_ref", "city", "total_mad"]].merge(fees, on="city")
    options["order_ref"] = options["order_ref"].astype(str)
    options["cod_amount"] = options["total_mad"].astype(float)
    options["p_learnt"] = [
        rates[(c, t)] for c, t in zip(options["carrier"], options["city"], strict=True)
    ]
    options["learnt_profit"] = _profit(options["p_learnt"], options, economics)
    options["true_p"] = true_p(truth, options)
    options["true_profit"] = _profit(options["true_p"], options, economics)
    by_order = options.groupby("order_ref")
    chosen = options.loc[by_order["learnt_profit"].idxmax()].set_index("order_ref")
    best = options.loc[by_order["true_profit"].idxmax()].set_index("order_ref")
    used = options[options["carrier"] == options["order_ref"].map(truth["carrier_true"])].set_index(
        "order_ref"
    )
    refs = chosen.index.intersection(used.index)
    chosen, best, used = chosen.loc[refs], best.loc[refs], used.loc[refs]
    outcome = truth.loc[refs, "simulated_outcome"]
    print(
        f"\nTime split: rates from outcomes known by {cutoff:%Y-%m-%d} ({len(known)} parcels), "
        f"{len(refs)} COD orders dispatched after it"
    )
    print(f"{'':<34}{'learnt rate':>12}{'true p':>10}{'realised':>10}")
    print(
        f"{'chosen carrier':<34}{_pct(chosen['p_learnt'].mean()):>12}"
        f"{_pct(chosen['true_p'].mean()):>10}"
        f"{_pct((outcome[chosen['carrier'] == used['carrier']] == 'delivered').mean()):>10}"
        "  (realised: where it was the one used)"
    )
    print(
        f"{'carrier actually used':<34}{_pct(used['p_learnt'].mean()):>12}"
        f"{_pct(used['true_p'].mean()):>10}{_pct((outcome == 'delivered').mean()):>10}"
    )
    print(f"{'simulator best carrier':<34}{'':>12}{_pct(best['true_p'].mean()):>10}")
    print(
        f"chosen == truly best: {100 * (chosen['carrier'] == best['carrier']).mean():.1f} % of orders"
    )
    print(
        f"used == truly best:   {100 * (used['carrier'] == best['carrier']).mean():.1f} % of orders"
    )
    for name, frame in (("chosen", chosen), ("actually used", used)):
        regret = best["true_profit"] - frame["true_profit"]
        print(f"regret, {name:<15}{regret.mean():6.2f} MAD per order (total {regret.sum():.0f})")
    gain = (chosen["true_profit"] - used["true_profit"]).mean()
    print(f"true gain of the choice over the carrier used: {gain:+.2f} MAD per order")


if __name__ == "__main__":
    sys.exit(main())
