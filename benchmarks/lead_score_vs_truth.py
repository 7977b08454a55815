"""How close the lead score gets to the best possible, on the sample store.

The simulator knows each order's true probability of delivery (``p_delivery`` in
``sample_truth/orders.csv``) and how every order really ended (``simulated_outcome``,
also for the orders still open when the data stops). This prints, for the approved
version, the rule baseline and that oracle:

- on the version's held-out test window (orders seen at the decision horizon): AUC and
  its share of the oracle's lift over a coin toss; calibration as the 10-bin ECE with
  its 90 % basic bootstrap interval, beside the noise floor (the ECE a perfectly
  calibrated predictor reads at the same probabilities and sample size: ~0.06 on 250
  orders) and the debiased error (Kumar et al. 2019, ~0 when calibrated) with its
  interval, all of them also for the oracle; mean predicted vs realised RTO; profit per order at each one's bands, beside
  dispatching everything and the previous version;
- calibration per platform and per band on that window;
- on the open orders ``ml.order_scores`` scored at the end: ECE (with interval) of their
  RTO probability against how they really ended (the same figures).

Prints; asserts nothing.

    .venv/bin/python -m benchmarks.lead_score_vs_truth            # after `make demo`
"""

from __future__ import annotations

import argparse
import json
import sys

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from common.marts import DuckDBMartReader
from common.settings import load_settings
from ml.band_placement import realised_profit
from ml.baseline import baseline_model
from ml.config import load_lead_score_config
from ml.features import ORDER_HISTORY_MART, validate_orders
from ml.local_model_store import LocalModelStore
from ml.metrics import (
    band_table,
    calibration_noise_floor,
    debiased_ece,
    ece_interval,
    expected_calibration_error,
    profit_metrics,
)
from ml.time_splits import TimeSplits, known_at
from ml.training_examples import decision_snapshots, labelled_snapshots


def _orders(warehouse: str) -> pd.DataFrame:
    frame = DuckDBMartReader(warehouse).read(ORDER_HISTORY_MART)
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]) and frame[column].dt.tz is None:
            frame[column] = frame[column].dt.tz_localize("UTC")
    return frame


CALIBRATION_HEADER = (
    f"{'':<30}{'ECE':>7}  {'90% interval':<16}{'floor':>6}{'debiased':>10}  "
    f"{'90% interval':<16}{'mean p':>7}{'RTO':>7}"
)


CALIBRATION_NOTE = (
    "10-bin equal-width ECE (basic bootstrap interval); floor = the mean ECE of a "
    "perfectly calibrated predictor at the same p and n; debiased = Kumar et al. 2019 "
    "debiased L2 error on 10 equal-mass bins (root, 0 when below the noise), ~0 when calibrated at any n"
)


def _calibration_line(name: str, rto: np.ndarray, p: np.ndarray) -> str:
    """10-bin ECE with its interval and the noise floor of a perfectly calibrated
    predictor at these p; the debiased equal-mass ECE with its interval."""
    low, high = ece_interval(rto, p)
    d_low, d_high = ece_interval(rto, p, debiased=True)
    return (
        f"{name:<30}{expected_calibration_error(rto, p):>7.3f}  [{low:.3f}, {high:.3f}]"
        f"{calibration_noise_floor(p):>8.3f}{debiased_ece(rto, p):>10.3f}  "
        f"[{d_low:.3f}, {d_high:.3f}]{p.mean():>9.3f}{rto.mean():>7.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args()
    settings = load_settings()
    config = load_lead_score_config()
    store = LocalModelStore(settings.model_store_dir)
    approved = store.approved_version()
    if approved is None:
        print(f"no approved version in {store.root}: run `make demo` first")
        return 1
    model = store.load(approved)
    splits = TimeSplits.from_dict(model.card["splits"])
    horizon = pd.Timedelta(model.card["decision_horizon"])
    horizons = [pd.Timedelta(h) for h in model.card["snapshot_horizons"]]

    orders = validate_orders(_orders(str(settings.warehouse_path))).orders
    known = known_at(orders, splits.cutoff)
    test = decision_snapshots(known, splits.test, horizon)
    calibration = labelled_snapshots(known, splits.calibration, horizons)
    baseline = baseline_model(
        config.scaling.scaling(),
        calibration=(calibration.evidence, calibration.rto, calibration.weight),
        method=config.calibration.method,
    )
    truth = pd.read_csv(settings.data_dir / "sample_truth" / "orders.csv").set_index("order_ref")
    refs = test.evidence["order_ref"].to_numpy()
    oracle_rto = 1.0 - truth["p_delivery"].reindex(refs).to_numpy(dtype=float)
    has_truth = ~np.isnan(oracle_rto)
    rto = test.rto[has_truth]
    evidence = test.evidence[has_truth].reset_index(drop=True)
    oracle_rto = oracle_rto[has_truth]

    print(f"approved version: {approved}")
    contenders = {"approved model": model, "baseline (SPEC points)": baseline}
    probabilities = {name: m.rto_probability(evidence) for name, m in contenders.items()}
    probabilities["simulator truth (oracle)"] = oracle_rto
    oracle_auc = roc_auc_score(rto, oracle_rto)

    print(
        f"held-out window {splits.test.start:%Y-%m-%d}..{splits.test.end:%Y-%m-%d}: "
        f"{len(rto)} resolved orders seen {model.card['decision_horizon']} after placement, "
        f"RTO rate {rto.mean():.1%}"
    )
    print(f"{'ranking':<30}{'AUC':>7}{'share of the best':>20}")
    for name, p in probabilities.items():
        auc = roc_auc_score(rto, p)
        print(f"{name:<30}{auc:>7.3f}{(auc - 0.5) / (oracle_auc - 0.5):>20.0%}")

    print()
    print(f"calibration on {len(rto)} orders: {CALIBRATION_NOTE}")
    print(CALIBRATION_HEADER)
    for name, p in probabilities.items():
        print(_calibration_line(name, rto, p))

    print()
    print(f"{'profit per order (MAD)':<30}{'profit':>8}")
    everything = np.full(len(rto), "confirm", dtype=object)
    ship_all = realised_profit(everything, rto, config.unit_economics) / max(len(rto), 1)
    print(f"{'dispatch everything':<30}{ship_all:>8.2f}")
    for name, m in contenders.items():
        table = band_table(m.bands.band_of(m.scores(evidence)), rto, config.unit_economics)
        print(
            f"{name:<30}{profit_metrics(table)['profit_per_order']:>8.2f}"
            f"  (confirm >= {m.bands.confirm_at:.0f}, review >= {m.bands.review_at:.0f})"
        )
    report_path = store.root / "versions" / approved / "evaluation.json"
    if report_path.exists():
        report = {m["contender"]: m for m in json.loads(report_path.read_text())["metrics"]}
        if "previous" in report:
            print(
                f"{'previous version (its report)':<30}{report['previous']['profit_per_order']:>8.2f}"
                f"  ({report['previous']['version']})"
            )

    model_p = probabilities["approved model"]
    print()
    print(f"{'calibration per platform':<30}{'orders':>7}{'mean p':>9}{'RTO':>8}{'gap':>8}")
    for platform, rows in evidence.groupby("platform").groups.items():
        index = np.asarray(list(rows))
        gap = model_p[index].mean() - rto[index].mean()
        print(
            f"{platform:<30}{len(index):>7}{model_p[index].mean():>9.3f}"
            f"{rto[index].mean():>8.3f}{gap:>+8.3f}"
        )
    bands = model.bands.band_of(model.scores(evidence))
    print(f"{'calibration per band':<30}{'orders':>7}{'mean p':>9}{'RTO':>8}{'gap':>8}")
    for band in ("confirm", "review", "hold"):
        index = np.flatnonzero(bands == band)
        if len(index):
            gap = model_p[index].mean() - rto[index].mean()
            print(
                f"{band:<30}{len(index):>7}{model_p[index].mean():>9.3f}"
                f"{rto[index].mean():>8.3f}{gap:>+8.3f}"
            )

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        scored = conn.execute("select order_ref, rto_probability from ml.order_scores").df()
    scored = scored.join(truth[["simulated_outcome", "p_delivery"]], on="order_ref", how="inner")
    ended = scored[scored["simulated_outcome"].isin(["delivered", "returned"])]
    print()
    print(
        f"open orders scored at the end: {len(scored)}, of which {len(ended)} really ended "
        f"delivered or returned (the others were cancelled)"
    )
    if len(ended):
        realised = (ended["simulated_outcome"] == "returned").to_numpy(dtype=int)
        print(CALIBRATION_HEADER)
        print(
            _calibration_line(
                "model (ml.order_scores)", realised, ended["rto_probability"].to_numpy()
            )
        )
        print(
            _calibration_line(
                "simulator truth (oracle)", realised, 1.0 - ended["p_delivery"].to_numpy()
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
