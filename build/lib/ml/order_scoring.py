"""Scoring orders as of a moment: score, band, probability and reasons per order."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ml.evidence import evidence_as_of
from ml.features import validate_orders
from ml.lead_score_model import SCORE_COLUMNS, LeadScoreModel

ORDER_SCORE_COLUMNS = ("order_ref", "scored_at", "model_version", *SCORE_COLUMNS)


@dataclass(frozen=True)
class ScoredOrders:
    """One row per scored order (:data:`ORDER_SCORE_COLUMNS`) and the rows set aside."""

    scores: pd.DataFrame
    rejected: pd.DataFrame  # order_ref, field, problem


def score_orders(
    model: LeadScoreModel,
    orders: pd.DataFrame,
    as_of: pd.Timestamp | pd.Series | None = None,
    top_n: int = 3,
) -> ScoredOrders:
    """Score each order with what was known at ``as_of`` (default: now, UTC).

    ``as_of`` is one timestamp, or a Series with one timestamp per row of ``orders``.

    Evidence stamped after ``as_of`` is ignored, so re-scoring a past moment gives the
    score the order had then. Rows that break the contract are returned in
    ``rejected`` and do not stop the others.
    """
    validated = validate_orders(orders)
    frame = validated.orders
    if as_of is None:
        as_of = pd.Timestamp.now(tz="UTC")
    if isinstance(as_of, pd.Series):
        # A per-order as_of is given row for row with ``orders``; rows may have been
        # set aside since, so it is carried over by order_ref (first row of a key).
        by_ref = pd.Series(as_of.to_numpy(), index=orders["order_ref"].to_numpy())
        by_ref = by_ref[~by_ref.index.duplicated()]
        as_of = by_ref.reindex(frame["order_ref"].to_numpy()).set_axis(frame.index)
    evidence = evidence_as_of(frame, as_of)
    scored = model.score_evidence(evidence, top_n=top_n)
    scored.insert(0, "model_version", model.version)
    scored.insert(0, "scored_at", evidence["as_of"])
    scored.insert(0, "order_ref", evidence["order_ref"])
    return ScoredOrders(scores=scored.reset_index(drop=True), rejected=validated.rejected)
