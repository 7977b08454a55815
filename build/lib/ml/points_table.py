"""Points tables: the readable form of every lead scorecard, baseline or learned.

A points table has one row per (signal, bin) with the points an order earns when
that signal is in that bin, plus one ``base`` row every order earns. An order's score
is the base plus the points of its bin for each signal; a bin with no row earns 0.
The same functions score the baseline (``ml/baseline_scorecard.yaml``) and the learned
scorecard, and give each order its top positive and negative contributions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BASE_SIGNAL = "base"
POINTS_COLUMNS = ("signal", "bin", "points", "description", "training_share", "training_rto_rate")


class PointsTableError(ValueError):
    """A points table is malformed (named rows)."""


def check_points_table(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with the standard columns, or raise :class:`PointsTableError`.

    Requires ``signal``, ``bin`` and numeric ``points``; exactly one ``base`` row; no
    (signal, bin) twice. ``description`` and the training columns are optional.
    """
    missing = [c for c in ("signal", "bin", "points") if c not in table.columns]
    if missing:
        raise PointsTableError(f"points table is missing column(s): {', '.join(missing)}")
    out = table.copy()
    for column in POINTS_COLUMNS:
        if column not in out.columns:
            out[column] = np.nan if column.startswith("training") else ""
    out["signal"] = out["signal"].astype(str)
    out["bin"] = out["bin"].astype(str)
    points = pd.to_numeric(out["points"], errors="coerce")
    if points.isna().any():
        bad = out.loc[points.isna(), ["signal", "bin"]].to_dict("records")
        raise PointsTableError(f"points table has non-numeric points in rows {bad}")
    out["points"] = points.astype(float)
    bases = int((out["signal"] == BASE_SIGNAL).sum())
    if bases != 1:
        raise PointsTableError(f"points table needs exactly one '{BASE_SIGNAL}' row, has {bases}")
    dupes = out.duplicated(["signal", "bin"])
    if dupes.any():
        bad = out.loc[dupes, ["signal", "bin"]].to_dict("records")
        raise PointsTableError(f"points table repeats (signal, bin) rows {bad}")
    return out.loc[:, list(POINTS_COLUMNS)].reset_index(drop=True)


def scored_signals(table: pd.DataFrame) -> list[str]:
    """The signals a table scores, in table order, without the base row."""
    signals = table.loc[table["signal"] != BASE_SIGNAL, "signal"]
    return list(dict.fromkeys(signals))


def base_points(table: pd.DataFrame) -> float:
    """Points every order earns."""
    return float(table.loc[table["signal"] == BASE_SIGNAL, "points"].iloc[0])


def points_breakdown(bins: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Points each order earns from each signal (one column per signal of the table).

    ``bins`` holds one column per signal with the order's bin label. A bin with no row
    in the table, or a signal the frame lacks, earns 0.
    """
    out = pd.DataFrame(index=bins.index)
    for signal in scored_signals(table):
        rows = table[table["signal"] == signal]
        lookup = dict(zip(rows["bin"], rows["points"], strict=True))
        if signal in bins.columns:
            out[signal] = bins[signal].astype(str).map(lookup).fillna(0.0).astype(float)
        else:
            out[signal] = 0.0
    return out


def total_score(breakdown: pd.DataFrame, table: pd.DataFrame) -> pd.Series:
    """Score = base + the sum of an order's points."""
    return breakdown.sum(axis=1) + base_points(table)


def top_reasons(
    breakdown: pd.DataFrame, bins: pd.DataFrame, top_n: int
) -> tuple[pd.Series, pd.Series]:
    """The ``top_n`` strongest positive and negative contributions of each order.

    Returned as two Series of ``"signal: bin (+12)"`` strings joined by ``"; "``
    (empty when the order has none), strongest first.
    """
    names = list(breakdown.columns)
    values = breakdown.to_numpy(dtype=float)
    labels = bins.reindex(index=breakdown.index, columns=names).astype(object).to_numpy()
    # One argsort for all orders; only the string building is per order.
    descending = np.argsort(-values, axis=1, kind="stable")
    positives, negatives = [], []
    for row, order in enumerate(descending):
        pos = [j for j in order[:top_n] if values[row, j] > 0]
        neg = [j for j in order[::-1][:top_n] if values[row, j] < 0]
        positives.append("; ".join(_reason(names[j], labels[row, j], values[row, j]) for j in pos))
        negatives.append("; ".join(_reason(names[j], labels[row, j], values[row, j]) for j in neg))
    return (
        pd.Series(positives, index=breakdown.index, dtype=object),
        pd.Series(negatives, index=breakdown.index, dtype=object),
    )


def _reason(signal: str, label: object, points: float) -> str:
    return f"{signal}: {label} ({points:+.0f})"
