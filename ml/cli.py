"""``python -m ml``: list, show, promote and roll back lead-score versions.

The store is ``--store`` or, by default, ``COD360_MODEL_STORE`` (else
``$COD360_DATA_DIR/models``, else ``data/models``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ml.local_model_store import LocalModelStore
from ml.markdown_tables import markdown_table
from ml.model_store import ModelStoreError, default_store_root


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 refused or unknown)."""
    parser = argparse.ArgumentParser(prog="python -m ml", description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None, help="model store folder")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="stored versions, the approved one marked")
    show = commands.add_parser("show", help="a version's card, bands, metrics and points")
    show.add_argument("version", nargs="?", help="default: the approved version")
    promote = commands.add_parser("promote", help="approve a version")
    promote.add_argument("version")
    promote.add_argument("--force", action="store_true", help="override a refused gate")
    promote.add_argument("--note", default="", help="why (kept in the audit log)")
    commands.add_parser("rollback", help="re-approve the previously approved version")
    args = parser.parse_args(argv)

    store = LocalModelStore(args.store or default_store_root())
    try:
        if args.command == "list":
            _list(store)
        elif args.command == "show":
            _show(store, args.version or store.approved_version())
        elif args.command == "promote":
            store.promote(args.version, force=args.force, note=args.note)
            print(f"approved: {args.version}")
        elif args.command == "rollback":
            print(f"approved: {store.rollback()}")
    except ModelStoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _list(store: LocalModelStore) -> None:
    approved = store.approved_version()
    versions = store.versions()
    if not versions:
        print(f"no versions in {store.root}")
        return
    for version in versions:
        card = store.card(version)
        verdict = store.decision(version)
        status = (
            "unevaluated"
            if verdict is None
            else ("passed gate" if verdict["approved"] else "refused by gate")
        )
        marker = "*" if version == approved else " "
        window = card.get("splits", {}).get("train", {})
        print(
            f"{marker} {version}  trained {card.get('trained_at', '?')[:19]}  "
            f"train {window.get('start', '?')[:10]}..{window.get('end', '?')[:10]}  {status}"
        )
        print(f"    {_metrics_line(card)}")


# The held-out figures `list` shows per version: the candidate's, then the baseline's AUC.
LISTED_METRICS = (("auc", "AUC", ".3f"), ("brier", "Brier", ".4f"), ("ece", "ECE", ".3f"))


def _metrics_line(card: dict) -> str:
    """One line of held-out metrics from the card's evaluation, or why there are none."""
    evaluation = card.get("evaluation")
    if not evaluation:
        return "no evaluation yet"
    rows = {m["contender"]: m for m in evaluation.get("metrics", [])}
    candidate, baseline = rows.get("candidate", {}), rows.get("baseline", {})
    parts = [
        f"{label} {candidate[key]:{fmt}}"
        for key, label, fmt in LISTED_METRICS
        if candidate.get(key) is not None
    ]
    if candidate.get("profit_per_order") is not None:
        parts.append(f"profit/order {candidate['profit_per_order']:.2f} MAD")
    if baseline.get("auc") is not None:
        parts.append(f"(baseline AUC {baseline['auc']:.3f})")
    test = evaluation.get("window", {})
    parts.append(f"on {evaluation.get('orders', '?')} orders from {test.get('start', '?')[:10]}")
    return "  ".join(parts)


def _show(store: LocalModelStore, version: str | None) -> None:
    if version is None:
        raise ModelStoreError("no version given and none approved")
    card = store.card(version)
    bands = card["bands"]
    print(f"# {version}{'  (approved)' if version == store.approved_version() else ''}")
    print(f"data fingerprint: {card.get('data_fingerprint')}")
    for name, window in card.get("splits", {}).items():
        if isinstance(window, dict):
            print(f"{name:<12} {window['start']} .. {window['end']}")
    print(
        f"bands: confirm >= {bands['confirm_at']:.0f} (RTO <= {bands['confirm_rto_probability']:.1%}),"
        f" review >= {bands['review_at']:.0f} (RTO <= {bands['review_rto_probability']:.1%})"
    )
    for adjustment in card.get("sign_adjustments", []):
        print(
            f"sign adjustment: {adjustment['signal']} {adjustment['action']}: "
            f"{adjustment['reason']}"
        )
    verdict = store.decision(version)
    if verdict:
        print(f"gate: {verdict['summary']}")
    evaluation = card.get("evaluation")
    if evaluation:
        metrics = pd.DataFrame(evaluation["metrics"])
        print()
        print(
            markdown_table(
                metrics[
                    [
                        c
                        for c in (
                            "contender",
                            "auc",
                            "brier",
                            "log_loss",
                            "ece",
                            "profit_per_order",
                        )
                        if c in metrics
                    ]
                ]
            )
        )
    print()
    points = store.points_table(version)[["signal", "bin", "points"]]
    print(markdown_table(points, digits=1))
