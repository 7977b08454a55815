"""Metrics of RTO probabilities and band decisions on a held-out window."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from ml.band_placement import order_profit
from ml.bands import BANDS
from ml.config import UnitEconomics

ECE_BINS = 10


def expected_calibration_error(
    rto: np.ndarray, rto_probability: np.ndarray, bins: int = ECE_BINS
) -> float:
    """Expected calibration error: |mean predicted − realised RTO rate| over equal-width
    probability bins, weighted by each bin's share of the orders (10 bins by default)."""
    rto = np.asarray(rto, dtype=float)
    p = np.clip(np.asarray(rto_probability, dtype=float), 0.0, 1.0)
    if len(p) == 0:
        return float("nan")
    index = np.minimum((p * bins).astype(int), bins - 1)
    count = np.bincount(index, minlength=bins)
    gap = np.abs(np.bincount(index, p, bins) - np.bincount(index, rto, bins))
    # Σ_bins n_b/N · |mean p_b − mean y_b| = Σ_bins |Σ p − Σ y| / N
    return float(gap[count > 0].sum() / len(p))


def ece_interval(
    rto: np.ndarray,
    rto_probability: np.ndarray,
    *,
    resamples: int = 200,
    level: float = 0.9,
    seed: int = 0,
) -> tuple[float, float]:
    """Bootstrap interval (orders resampled with replacement) of the ECE, at ``level``."""
    rto = np.asarray(rto, dtype=float)
    p = np.asarray(rto_probability, dtype=float)
    if len(p) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(p), size=(resamples, len(p)))
    values = [expected_calibration_error(rto[d], p[d]) for d in draws]
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def probability_metrics(rto: np.ndarray, rto_probability: np.ndarray) -> dict[str, float]:
    """AUC, average precision (RTO as positive), Brier, Brier skill, log loss, ECE.

    Brier skill is ``1 - Brier / Brier(base rate)``, the base rate being the window's
    own RTO rate: 0 means no better than announcing the average, above 0 is skill.
    """
    rto = np.asarray(rto, dtype=int)
    p = np.clip(np.asarray(rto_probability, dtype=float), 1e-6, 1 - 1e-6)
    base_rate = float(rto.mean())
    brier = float(brier_score_loss(rto, p))
    reference = base_rate * (1.0 - base_rate)
    return {
        "auc": float(roc_auc_score(rto, p)),
        "average_precision": float(average_precision_score(rto, p)),
        "brier": brier,
        "brier_skill": 1.0 - brier / reference if reference > 0 else float("nan"),
        "log_loss": float(log_loss(rto, p, labels=[0, 1])),
        "ece": expected_calibration_error(rto, p),
        "mean_rto_probability": float(p.mean()),
        "rto_rate": base_rate,
    }


def band_table(bands: np.ndarray, rto: np.ndarray, economics: UnitEconomics) -> pd.DataFrame:
    """Orders, share, RTO rate and realised profit per band (confirm, review, hold)."""
    bands = np.asarray(bands)
    rto = np.asarray(rto, dtype=int)
    profit = order_profit(rto.astype(bool), economics)
    rows = []
    for name in BANDS:
        member = bands == name
        count = int(member.sum())
        rows.append(
            {
                "band": name,
                "orders": count,
                "share": count / max(len(bands), 1),
                "rto_rate": float(rto[member].mean()) if count else float("nan"),
                "profit": float(profit[name][member].sum()),
            }
        )
    return pd.DataFrame(rows)


def profit_metrics(table: pd.DataFrame) -> dict[str, float]:
    """Total profit and profit per order from a :func:`band_table`."""
    orders = int(table["orders"].sum())
    total = float(table["profit"].sum())
    return {"profit": total, "profit_per_order": total / max(orders, 1)}


def gains_curve(rto: np.ndarray, rto_probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of orders flagged (riskiest first) vs share of all RTOs caught."""
    rto = np.asarray(rto, dtype=float)
    order = np.argsort(-np.asarray(rto_probability, dtype=float), kind="stable")
    caught = np.concatenate([[0.0], np.cumsum(rto[order])]) / max(rto.sum(), 1.0)
    flagged = np.arange(len(rto) + 1) / max(len(rto), 1)
    return flagged, caught
