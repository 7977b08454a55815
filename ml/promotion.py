"""Whether a candidate may replace the approved version: the blocking gate.

The candidate is compared on the same test window with the baseline and, when
there is one, the currently approved version (``previous``), on four measures. It is
refused when it is worse than any of them by more than the tolerance of that measure
(``promotion`` in ``ml/lead_score_config.yaml``):

* AUC (ranking) may drop by at most ``max_auc_drop``;
* Brier score (calibration and sharpness) may rise by at most ``max_brier_rise``;
* log loss may rise by at most ``max_log_loss_rise``;
* profit per order at each model's own bands may drop by at most
  ``max_profit_drop_per_order`` MAD.

Tolerances exist because a retrain on a fresh month should not be blocked by noise
of a few thousandths; they are absolute, so they mean the same on every window.

A stale candidate is refused too: when mature orders placed after its test window
(:func:`ml.drift.staleness_report`) are numerous enough (``drift.min_orders`` in a
platform or band, the groups the score can see) and its decision-time predictions miss
their realised RTO by more than ``drift.tolerance``, the version no longer describes the
store, however well it ranked its own test window. A version trained on today's data has
no such order and passes; one trained with an old ``cutoff``, or promoted by hand long
after its training, is what this catches. ``python -m ml promote --force`` overrides, as
for every refusal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ml.config import PromotionTolerances
from ml.drift import DriftReport
from ml.evaluation import BASELINE, CANDIDATE, PREVIOUS, EvaluationReport

DRIFT = "drift since evaluation"
# Only what the score knows at its decision: the carrier is assigned at dispatch, after
# the score (ml/evidence.py), so a carrier's realised rate differing from the mean
# prediction is heterogeneity the score cannot see, not staleness. The drift check on the
# approved version still reports carriers (for operations); the gate does not refuse on them.
GATED_DRIFT_DIMENSIONS = ("platform", "band")

# (metric, higher is better, name of the tolerance)
MEASURES = (
    ("auc", True, "max_auc_drop"),
    ("brier", False, "max_brier_rise"),
    ("log_loss", False, "max_log_loss_rise"),
    ("profit_per_order", True, "max_profit_drop_per_order"),
)


@dataclass(frozen=True)
class PromotionDecision:
    """The verdict, and every comparison behind it."""

    approved: bool
    candidate_version: str
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """One sentence per failed comparison."""
        return [c["message"] for c in self.checks if not c["passed"]]

    def summary(self) -> str:
        """One line for logs and asset-check descriptions."""
        if self.approved:
            against = sorted({c["reference"] for c in self.checks})
            return f"{self.candidate_version} approved: not worse than {', '.join(against)}"
        return f"{self.candidate_version} refused: " + "; ".join(self.failures)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the model store."""
        return {**asdict(self), "summary": self.summary()}


def decide_promotion(
    report: EvaluationReport,
    tolerances: PromotionTolerances,
    drift: DriftReport | None = None,
) -> PromotionDecision:
    """Approve the report's candidate only if no measure is worse than a reference's,
    and, when ``drift`` (the candidate's :func:`ml.drift.drift_report`) is given, no
    group has drifted since its calibration window.

    References are the baseline and, if the report has one, the previous (approved)
    version — both evaluated on the same window as the candidate.
    """
    candidate = report.metrics_of(CANDIDATE)
    if candidate is None:
        raise ValueError("the report has no candidate row")
    checks = []
    for reference in (BASELINE, PREVIOUS):
        other = report.metrics_of(reference)
        if other is None:
            continue
        for metric, higher_is_better, tolerance_name in MEASURES:
            tolerance = getattr(tolerances, tolerance_name)
            ours, theirs = float(candidate[metric]), float(other[metric])
            # Worsening in the metric's own direction, positive when we are worse.
            worse_by = (theirs - ours) if higher_is_better else (ours - theirs)
            passed = worse_by <= tolerance
            checks.append(
                {
                    "reference": reference,
                    "reference_version": other["version"],
                    "metric": metric,
                    "candidate": ours,
                    "reference_value": theirs,
                    "worse_by": worse_by,
                    "tolerance": tolerance,
                    "passed": passed,
                    "message": (
                        f"{metric} {ours:.4f} vs {reference} {theirs:.4f} "
                        f"(worse by {worse_by:.4f}, tolerance {tolerance})"
                    ),
                }
            )
    if drift is not None:
        checks.extend(_drift_checks(drift))
    approved = all(c["passed"] for c in checks)
    return PromotionDecision(approved, report.candidate_version, checks)


def _drift_checks(drift: DriftReport) -> list[dict[str, Any]]:
    """One failed check per drifted group of a gated dimension; one passed check if none."""
    drifted = drift.drifted[drift.drifted["dimension"].isin(GATED_DRIFT_DIMENSIONS)]
    if drifted.empty:
        resolved = int(drift.groups.loc[drift.groups["dimension"] == "band", "orders"].sum())
        return [
            {
                "reference": DRIFT,
                "reference_version": None,
                "metric": "max_gap",
                "candidate": float(drift.groups["gap"].abs().max()) if resolved else 0.0,
                "reference_value": None,
                "worse_by": 0.0,
                "tolerance": drift.tolerance,
                "passed": True,
                "message": (
                    f"not stale: no drift on {resolved} mature orders after its test window"
                ),
            }
        ]
    return [
        {
            "reference": DRIFT,
            "reference_version": None,
            "metric": f"gap/{row.dimension}/{row.value}",
            "candidate": float(row.predicted),
            "reference_value": float(row.realised),
            "worse_by": abs(float(row.gap)),
            "tolerance": drift.tolerance,
            "passed": False,
            "message": (
                f"stale: {row.dimension}={row.value} predicted RTO {row.predicted:.1%} vs "
                f"realised {row.realised:.1%} on {row.orders} mature orders placed after its "
                f"test window (tolerance ±{drift.tolerance:.0%})"
            ),
        }
        for row in drifted.itertuples()
    ]
