"""Evaluation charts as PNG bytes: calibration (reliability) and cumulative gains.

Drawn on matplotlib's Agg canvas directly (no pyplot, no global backend switch), so
rendering works in a Dagster worker without a display and leaves no state behind.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve

from ml.metrics import gains_curve


def calibration_chart(
    rto: np.ndarray, probabilities: dict[str, np.ndarray], bins: int = 10
) -> bytes:
    """Observed RTO rate vs predicted probability, one line per contender (PNG)."""
    figure = Figure(figsize=(6, 5), dpi=100)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for name, p in probabilities.items():
        observed, predicted = calibration_curve(rto, p, n_bins=bins, strategy="quantile")
        axes.plot(predicted, observed, marker="o", label=name)
    axes.set_xlabel("predicted RTO probability")
    axes.set_ylabel("observed RTO rate")
    axes.set_title("Calibration on the test window")
    axes.legend(loc="upper left", fontsize="small")
    return _png(figure)


def gains_chart(rto: np.ndarray, probabilities: dict[str, np.ndarray]) -> bytes:
    """Share of RTOs caught vs share of orders flagged, riskiest first (PNG)."""
    figure = Figure(figsize=(6, 5), dpi=100)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    for name, p in probabilities.items():
        flagged, caught = gains_curve(rto, p)
        axes.plot(flagged, caught, label=name)
    axes.set_xlabel("share of orders flagged (riskiest first)")
    axes.set_ylabel("share of RTOs caught")
    axes.set_title("Cumulative gains on the test window")
    axes.legend(loc="lower right", fontsize="small")
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
