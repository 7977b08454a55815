"""Where lead-score versions are kept, and which one is approved: the interface.

A store keeps, per version, the model file, its points table, its model card
(training window, data fingerprint, scaling, bands, sign adjustments, metrics,
promotion decision) and its evaluation; and one pointer to the approved version
that remembers the earlier ones, so a rollback is one step back. The pipeline and
the CLI only use :class:`ModelStore`; :class:`ml.local_model_store.LocalModelStore`
is the local-folder implementation, and object storage can implement the same
methods later.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import pandas as pd

from ml.evaluation import EvaluationReport
from ml.lead_score_model import LeadScoreModel
from ml.promotion import PromotionDecision


class ModelStoreError(RuntimeError):
    """A store operation cannot be done (unknown version, nothing to roll back, ...)."""


class PromotionRefused(ModelStoreError):
    """Promotion of a version the gate refused, or never evaluated, without ``force``."""


class ModelStore(ABC):
    """Versions of the lead-score model, their records, and the approved pointer."""

    @abstractmethod
    def save(self, model: LeadScoreModel) -> str:
        """Keep a new version; returns its name. A version is never overwritten."""

    @abstractmethod
    def load(self, version: str) -> LeadScoreModel:
        """The stored model, ready to score."""

    @abstractmethod
    def card(self, version: str) -> dict[str, Any]:
        """The version's model card."""

    @abstractmethod
    def versions(self) -> list[str]:
        """Stored versions, oldest first."""

    @abstractmethod
    def points_table(self, version: str) -> pd.DataFrame:
        """The version's points table."""

    @abstractmethod
    def save_evaluation(self, version: str, report: EvaluationReport) -> None:
        """Keep the evaluation of a version (and its metrics in the card)."""

    @abstractmethod
    def record_decision(self, version: str, decision: PromotionDecision) -> None:
        """Keep the promotion gate's verdict on a version."""

    @abstractmethod
    def decision(self, version: str) -> dict[str, Any] | None:
        """The recorded verdict, if any."""

    @abstractmethod
    def approved_version(self) -> str | None:
        """The version the pipeline scores with, or None before the first promotion."""

    @abstractmethod
    def promote(self, version: str, *, force: bool = False, note: str = "") -> None:
        """Make ``version`` the approved one (refused by the gate: needs ``force``)."""

    @abstractmethod
    def rollback(self) -> str:
        """Go back to the previously approved version; returns it."""

    def find_version(self, data_fingerprint: str, config_fingerprint: str) -> str | None:
        """The latest version trained on the same data with the same configuration, if any.

        Retraining on unchanged data would give the same model: the pipeline reuses this
        version instead of storing a copy under a new name.
        """
        for version in reversed(self.versions()):
            card = self.card(version)
            if (
                card.get("data_fingerprint") == data_fingerprint
                and card.get("config_fingerprint") == config_fingerprint
            ):
                return version
        return None

    def load_approved(self) -> LeadScoreModel | None:
        """The approved model, or None if nothing was ever approved."""
        version = self.approved_version()
        return None if version is None else self.load(version)


def default_store_root() -> Path:
    """``COD360_MODEL_STORE``, else ``$COD360_DATA_DIR/models``, else ``data/models``."""
    explicit = os.environ.get("COD360_MODEL_STORE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("COD360_DATA_DIR", "data")) / "models"
