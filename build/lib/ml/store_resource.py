"""The model store as a Dagster resource: a thin wrapper, configured by environment."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ml.local_model_store import LocalModelStore
from ml.model_store import ModelStore


class ModelStoreResource(dg.ConfigurableResource):
    """Where lead-score versions live.

    ``root`` is a local folder today (e.g. ``dg.EnvVar("COD360_MODEL_STORE")``); an
    object-storage store would be another :class:`ml.model_store.ModelStore` behind
    the same resource, chosen by configuration.
    """

    root: str

    def get_store(self) -> ModelStore:
        """The store the assets and checks read and write."""
        return LocalModelStore(Path(self.root))
