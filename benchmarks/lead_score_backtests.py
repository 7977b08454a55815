"""The lead score retrained at several past cutoffs, each judged against the oracle.

One held-out window is ~240 orders, ~50 per platform: a change to the signals or to the
calibration moves its figures by less than their noise. This trains a version as of the
data cutoff minus each offset (the same recipe as ``ml.training.train_lead_score``; no
version is stored), scores that version's own test window at the decision horizon, and
prints per cutoff and on average: AUC and its share of the oracle's lift over a coin
toss (the simulator's true probabilities), 10-bin ECE and the debiased error
(``ml.metrics.debiased_ece``), profit per order at the
version's bands, and per platform the mean predicted RTO minus the oracle's mean on the
same orders (minus the simulator's true probabilities, not the ~50 realised outcomes,
whose noise alone is ~0.07: the channel drift the simulator adds is visible here).

Last, the calibration of all cutoffs' predictions pooled (~1,100 rows), where the noise
floor of the 10-bin ECE is ~0.03 rather than ~0.06; the oracle's figures beside.

The test windows are 30 days long; offsets 15 days apart overlap by half, so the
average is steadier than one window, not five independent ones.

Prints; asserts nothing. Reads the warehouse and ``sample_truth`` of ``make demo``.

    .venv/bin/python -m benchmarks.lead_score_backtests                # offsets 0,15,30,45,60
    .venv/bin/python -m benchmarks.lead_score_backtests --days 0,30,60
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from benchmarks.lead_score_vs_truth import _orders
from common.settings import load_settings
from ml.config import load_lead_score_config
from ml.features import validate_orders
from ml.metrics import (
    band_table,
    calibration_noise_floor,
    debiased_ece,
    ece_interval,
    expected_calibration_error,
    profit_metrics,
)
from ml.time_splits import known_at
from ml.training import data_cutoff, train_lead_score
from ml.training_examples import decision_snapshots


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--days",
        default="0,15,30,45,60",
        help="cutoffs as days before the data cutoff, comma-separated (default 0,15,30,45,60)",
    )
    args = parser.parse_args()
    offsets = [int(part) for part in args.days.split(",") if part.strip()]
    settings = load_settings()
    config = load_lead_score_config()
    orders = validate_orders(_orders(str(settings.warehouse_path))).orders
    truth = pd.read_csv(settings.data_dir / "sample_truth" / "orders.csv").set_index("order_ref")
    end = data_cutoff(orders)
    platforms = sorted(orders["platform"].dropna().unique())

    header = (
        f"{'cutoff':<12}{'orders':>7}{'AUC':>7}{'share':>7}{'ECE':>7}{'debias':>7}{'MAD/order':>10}"
    )
    print(header + "".join(f"{p:>13}" for p in platforms) + "  (mean p − oracle's)")
    rows, pooled = [], []
    for days in offsets:
        cutoff = end - pd.Timedelta(days=days)
        trained = train_lead_score(
            orders,
            config,
            cutoff=cutoff,
            version=f"backtest-{days}d",
            trained_at=cutoff,
        )
        model = trained.model
        known = known_at(orders, cutoff)
        test = decision_snapshots(known, trained.splits.test, config.snapshots.decision_delta())
        refs = test.evidence["order_ref"].to_numpy()
        oracle = 1.0 - truth["p_delivery"].reindex(refs).to_numpy(dtype=float)
        has_truth = ~np.isnan(oracle)
        rto = test.rto[has_truth]
        evidence = test.evidence[has_truth].reset_index(drop=True)
        p = model.rto_probability(evidence)
        auc = roc_auc_score(rto, p)
        share = (auc - 0.5) / (roc_auc_score(rto, oracle[has_truth]) - 0.5)
        table = band_table(model.bands.band_of(model.scores(evidence)), rto, config.unit_economics)
        platform = evidence["platform"].to_numpy()
        oracle_p = oracle[has_truth]
        gaps = {
            name: float(p[platform == name].mean() - oracle_p[platform == name].mean())
            if (platform == name).any()
            else float("nan")
            for name in platforms
        }
        row = {
            "auc": auc,
            "share": share,
            "ece": expected_calibration_error(rto, p),
            "ece_debiased": debiased_ece(rto, p),
            "profit": profit_metrics(table)["profit_per_order"],
            **gaps,
        }
        rows.append(row)
        pooled.append((rto, p, oracle_p))
        print(
            f"{cutoff:%Y-%m-%d}  {len(rto):>7}{auc:>7.3f}{share:>7.0%}{row['ece']:>7.3f}"
            f"{row['ece_debiased']:>7.3f}"
            f"{row['profit']:>10.2f}" + "".join(f"{gaps[p]:>+13.3f}" for p in platforms),
            flush=True,
        )
    mean = pd.DataFrame(rows).mean()
    print(
        f"{'mean':<12}{'':>7}{mean['auc']:>7.3f}{mean['share']:>7.1%}{mean['ece']:>7.3f}"
        f"{mean['ece_debiased']:>7.3f}"
        f"{mean['profit']:>10.2f}" + "".join(f"{mean[p]:>+13.3f}" for p in platforms)
    )
    rto = np.concatenate([r for r, _, _ in pooled])
    print(
        f"\npooled predictions of the {len(pooled)} cutoffs ({len(rto)} rows; windows overlap, "
        "so an order may count twice, each time by another version):"
    )
    print(f"{'':<12}{'ECE':>7}  {'90% interval':<16}{'floor':>6}{'debiased':>10}  {'90% interval'}")
    for name, column in (("model", 1), ("oracle", 2)):
        p = np.concatenate([row[column] for row in pooled])
        low, high = ece_interval(rto, p)
        d_low, d_high = ece_interval(rto, p, debiased=True)
        print(
            f"{name:<12}{expected_calibration_error(rto, p):>7.3f}  [{low:.3f}, {high:.3f}]"
            f"{calibration_noise_floor(p):>8.3f}{debiased_ece(rto, p):>10.3f}  "
            f"[{d_low:.3f}, {d_high:.3f}]"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
