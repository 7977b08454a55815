"""How close the lead score gets to the best possible, on the sample store.

The simulator knows each order's true probability of delivery (``p_delivery`` in
``sample_truth/orders.csv``). Ranking the held-out window's orders by it gives the
best AUC any model could reach on that window. This prints it beside the approved
version's and the rule baseline's AUC from the model store. Prints; asserts nothing.

    .venv/bin/python -m benchmarks.lead_score_vs_truth            # after `make demo`
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd
from sklearn.metrics import roc_auc_score

from common.settings import load_settings


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args()
    settings = load_settings()
    store = settings.model_store_dir
    approved = json.loads((store / "approved.json").read_text())["version"]
    report = json.loads((store / "versions" / approved / "evaluation.json").read_text())
    start, end = (pd.Timestamp(report["window"][k]) for k in ("start", "end"))

    truth = pd.read_csv(
        settings.data_dir / "sample_truth" / "orders.csv", parse_dates=["placed_at"]
    )
    window = truth[(truth["placed_at"] >= start) & (truth["placed_at"] < end)]
    window = window[window["final_outcome"].isin(["delivered", "returned"])]
    oracle = roc_auc_score(window["final_outcome"] == "delivered", window["p_delivery"])

    metrics = {m["contender"]: m for m in report["metrics"]}
    print(
        f"held-out window {start:%Y-%m-%d}..{end:%Y-%m-%d}: {len(window)} resolved orders in the truth file, "
        f"{report['orders']} evaluated"
    )
    print(f"{'ranking':<34}{'AUC':>7}{'share of the best':>20}")
    print(f"{'simulator truth (p_delivery)':<34}{oracle:>7.3f}{'100%':>20}")
    for name in ("candidate", "challenger", "baseline"):
        if name in metrics:
            auc = metrics[name]["auc"]
            # Share of the achievable lift over a coin toss (AUC 0.5).
            share = (auc - 0.5) / (oracle - 0.5)
            print(f"{name:<34}{auc:>7.3f}{share:>20.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
