"""Candidate vs baseline vs previous version, on the same held-out, later window.

Every contender is scored on the candidate's test window (orders placed in it, all
resolved, seen as they were at the decision horizon), with probabilities calibrated
on earlier data and its own bands. The report carries the numbers as a table, the
bands as tables, two PNG charts, and renders as Markdown for the Dagster UI and the
model store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ml.band_placement import realised_profit
from ml.bands import BandThresholds
from ml.config import LeadScoreConfig
from ml.evaluation_charts import calibration_chart, gains_chart
from ml.features import validate_orders
from ml.markdown_tables import markdown_table
from ml.metrics import band_table, ece_interval, probability_metrics, profit_metrics
from ml.time_splits import TimeSplits, TimeWindow, known_at
from ml.training_examples import decision_snapshots

CANDIDATE = "candidate"
UNCALIBRATED = "candidate_uncalibrated"
BASELINE = "baseline"
PREVIOUS = "previous"
CHALLENGER = "challenger"
METRIC_COLUMNS = (
    "auc",
    "average_precision",
    "brier",
    "brier_skill",
    "log_loss",
    "ece",
    "ece_debiased",
    "ece_low",
    "ece_high",
    "profit",
    "profit_per_order",
    "mean_rto_probability",
)


class ScoresOrders(Protocol):
    """What the evaluation needs of a contender."""

    version: str
    bands: BandThresholds

    def rto_probability(self, evidence: pd.DataFrame) -> np.ndarray: ...

    def scores(self, evidence: pd.DataFrame) -> np.ndarray: ...


@dataclass
class EvaluationReport:
    """Metrics, band tables and charts of every contender on one window."""

    candidate_version: str
    window: TimeWindow
    decision_horizon: str
    orders: int
    rto_rate: float
    metrics: pd.DataFrame
    band_tables: dict[str, pd.DataFrame]
    charts: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def metrics_of(self, contender: str) -> dict[str, Any] | None:
        """One contender's row of :attr:`metrics`, or None if it was not evaluated."""
        rows = self.metrics[self.metrics["contender"] == contender]
        return None if rows.empty else rows.iloc[0].to_dict()

    def to_markdown(self) -> str:
        """The whole report as Markdown (charts referenced by file name)."""
        shown = self.metrics.drop(columns=["mean_rto_probability"])
        parts = [
            f"## Lead score evaluation — {self.candidate_version}",
            "",
            f"Test window: orders placed {self.window.start:%Y-%m-%d %H:%M} – "
            f"{self.window.end:%Y-%m-%d %H:%M} UTC, {self.orders} resolved orders seen "
            f"{self.decision_horizon} after placement; RTO rate {self.rto_rate:.1%}. "
            "Profit in MAD at each contender's own bands.",
            "",
            markdown_table(shown, digits=3),
            "",
        ]
        for name, table in self.band_tables.items():
            row = self.metrics_of(name) or {}
            parts += [
                f"### Bands — {name} (confirm ≥ {row.get('confirm_at', float('nan')):.0f}, "
                f"review ≥ {row.get('review_at', float('nan')):.0f})",
                "",
                markdown_table(table, digits=3),
                "",
            ]
        if self.charts:
            parts += ["Charts: " + ", ".join(sorted(self.charts)), ""]
        if self.notes:
            parts += ["### Notes", "", *[f"- {note}" for note in self.notes], ""]
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the PNG bytes)."""
        return {
            "candidate_version": self.candidate_version,
            "window": self.window.as_dict(),
            "decision_horizon": self.decision_horizon,
            "orders": self.orders,
            "rto_rate": self.rto_rate,
            "metrics": self.metrics.to_dict("records"),
            "bands": {name: table.to_dict("records") for name, table in self.band_tables.items()},
            "notes": list(self.notes),
        }


def evaluate_lead_score(
    candidate: Any,
    baseline: ScoresOrders,
    orders: pd.DataFrame,
    config: LeadScoreConfig,
    *,
    previous: ScoresOrders | None = None,
    challenger: ScoresOrders | None = None,
    charts: bool = True,
) -> EvaluationReport:
    """Evaluate ``candidate`` (a :class:`ml.lead_score_model.LeadScoreModel`) and rivals.

    The window and cutoff come from the candidate's card, so the same orders frame
    (even a later extract) gives the same test set. The candidate is also shown
    uncalibrated, to make the effect of calibration visible.
    """
    splits = TimeSplits.from_dict(candidate.card["splits"])
    horizon = candidate.card["decision_horizon"]
    known = known_at(validate_orders(orders).orders, splits.cutoff)
    test = decision_snapshots(known, splits.test, pd.Timedelta(horizon))
    if len(test) == 0:
        raise ValueError(f"no resolved orders in the test window {splits.test.as_dict()}")

    contenders: dict[str, ScoresOrders] = {
        CANDIDATE: candidate,
        UNCALIBRATED: candidate.uncalibrated(),
        BASELINE: baseline,
    }
    if previous is not None:
        contenders[PREVIOUS] = previous
    if challenger is not None:
        contenders[CHALLENGER] = challenger

    rows, tables, probabilities = [], {}, {}
    for name, model in contenders.items():
        p = model.rto_probability(test.evidence)
        bands = model.bands.band_of(model.scores(test.evidence))
        table = band_table(bands, test.rto, config.unit_economics)
        rows.append(
            {
                "contender": name,
                "version": model.version,
                **probability_metrics(test.rto, p),
                # ECE on a few hundred orders is noisy: its 90 % bootstrap interval.
                **dict(zip(("ece_low", "ece_high"), ece_interval(test.rto, p), strict=True)),
                **profit_metrics(table),
                "confirm_at": model.bands.confirm_at,
                "review_at": model.bands.review_at,
            }
        )
        tables[name] = table
        probabilities[name] = p
    metrics = pd.DataFrame(rows)
    metrics = metrics.loc[:, ["contender", "version", *METRIC_COLUMNS, "confirm_at", "review_at"]]

    notes = _notes(test.rto, config, splits, previous)
    # Wrong-sign fixes belong in front of whoever reads the evaluation, not only the card.
    notes += [
        f"Sign adjustment ({a['action']}) on {a['signal']}: {a['reason']}."
        for a in candidate.card.get("sign_adjustments", [])
    ]
    report = EvaluationReport(
        candidate_version=candidate.version,
        window=splits.test,
        decision_horizon=horizon,
        orders=len(test),
        rto_rate=float(test.rto.mean()),
        metrics=metrics,
        band_tables=tables,
        notes=notes,
    )
    if charts:
        shown = {k: v for k, v in probabilities.items() if k != UNCALIBRATED}
        report.charts = {
            "calibration.png": calibration_chart(test.rto, probabilities),
            "gains.png": gains_chart(test.rto, shown),
        }
    return report


def _notes(
    rto: np.ndarray, config: LeadScoreConfig, splits: TimeSplits, previous: Any
) -> list[str]:
    everything = np.full(len(rto), "confirm", dtype=object)
    ship_all = realised_profit(everything, rto, config.unit_economics) / max(len(rto), 1)
    notes = [f"Confirming every order would earn {ship_all:,.2f} MAD per order."]
    card = getattr(previous, "card", None) or {}
    if "splits" in card:
        seen_until = pd.Timestamp(card["splits"]["calibration"]["end"])
        if seen_until > splits.test.start:
            notes.append(
                f"The previous version ({previous.version}) was calibrated on orders placed "
                f"until {seen_until:%Y-%m-%d}, inside this test window: its numbers are "
                "optimistic."
            )
    return notes
