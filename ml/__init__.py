"""Lead score of COD orders: rule-based baseline, learned scorecard, calibration,
profit bands, evaluation and a model store (SPEC §4).

The orchestration calls :mod:`ml.model_lifecycle`; the pieces are importable on their
own for notebooks and tests.
"""

import importlib
from typing import Any

# The pieces load on first use (PEP 562): importing `ml.config` alone, as the code
# location does, must not import scikit-learn and skops (seconds in every run process).
_LAZY = {
    "EvaluationReport": "ml.evaluation",
    "LeadScoreConfig": "ml.config",
    "LeadScoreModel": "ml.lead_score_model",
    "LocalModelStore": "ml.local_model_store",
    "ModelStore": "ml.model_store",
    "ORDER_CONTRACT": "ml.features",
    "OrderContractError": "ml.features",
    "PromotionDecision": "ml.promotion",
    "TrainedLeadScore": "ml.training",
    "baseline_model": "ml.baseline",
    "decide_promotion": "ml.promotion",
    "evaluate_lead_score": "ml.evaluation",
    "evaluate_version": "ml.model_lifecycle",
    "evidence_as_of": "ml.evidence",
    "gate_promotion": "ml.model_lifecycle",
    "load_baseline_scorecard": "ml.baseline",
    "load_lead_score_config": "ml.config",
    "promote_if_approved": "ml.model_lifecycle",
    "record_verdict": "ml.model_lifecycle",
    "score_orders": "ml.order_scoring",
    "score_with_approved": "ml.model_lifecycle",
    "train_and_store": "ml.model_lifecycle",
    "train_lead_score": "ml.training",
    "validate_orders": "ml.features",
}


__all__ = [
    "ORDER_CONTRACT",
    "EvaluationReport",
    "LeadScoreConfig",
    "LeadScoreModel",
    "LocalModelStore",
    "ModelStore",
    "OrderContractError",
    "PromotionDecision",
    "TrainedLeadScore",
    "baseline_model",
    "decide_promotion",
    "evaluate_lead_score",
    "evaluate_version",
    "evidence_as_of",
    "gate_promotion",
    "load_baseline_scorecard",
    "load_lead_score_config",
    "promote_if_approved",
    "record_verdict",
    "score_orders",
    "score_with_approved",
    "train_and_store",
    "train_lead_score",
    "validate_orders",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'ml' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
