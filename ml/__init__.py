"""Lead score of COD orders: rule-based baseline, learned scorecard, calibration,
profit bands, evaluation and a model store (SPEC §4).

The orchestration calls :mod:`ml.model_lifecycle`; the pieces are importable on their
own for notebooks and tests.
"""

from ml.baseline import baseline_model, load_baseline_scorecard
from ml.config import LeadScoreConfig, load_lead_score_config
from ml.evaluation import EvaluationReport, evaluate_lead_score
from ml.evidence import evidence_as_of
from ml.features import ORDER_CONTRACT, OrderContractError, validate_orders
from ml.lead_score_model import LeadScoreModel
from ml.local_model_store import LocalModelStore
from ml.model_lifecycle import (
    evaluate_version,
    gate_promotion,
    promote_if_approved,
    record_verdict,
    score_with_approved,
    train_and_store,
)
from ml.model_store import ModelStore
from ml.order_scoring import score_orders
from ml.promotion import PromotionDecision, decide_promotion
from ml.training import TrainedLeadScore, train_lead_score

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
