"""The model store in a local folder.

Layout::

    <root>/versions/<version>/model.skops           calibrated model + signal binner
                              points_table.csv
                              model_card.json
                              evaluation.md | evaluation.json | *.png
                              promotion_decision.json
    <root>/approved.json        the approved version and the earlier ones
    <root>/approvals.jsonl      append-only audit of promotions and rollbacks

Model files are written with skops and loaded only if every type they contain is
either trusted by skops or listed in :data:`TRUSTED_MODEL_TYPES`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.bands import BandThresholds
from ml.evaluation import EvaluationReport
from ml.lead_score_model import LeadScoreModel
from ml.model_store import ModelStore, ModelStoreError, PromotionRefused
from ml.points_table import check_points_table
from ml.promotion import PromotionDecision
from ml.score_scaling import ScoreScaling


def _skops():
    """skops.io, imported when a model is saved or loaded: it takes seconds to import, and
    every run process loads this module with the code location."""
    import skops.io

    return skops.io


# Types a model file may contain beyond those skops trusts by default. Anything else
# is refused at load time: loading a model file must not run arbitrary constructors.
TRUSTED_MODEL_TYPES = (
    "ml.signal_binning.SignalBinner",
    "ml.scorecard_signals.ScorecardSignal",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
)


class LocalModelStore(ModelStore):
    """A :class:`ml.model_store.ModelStore` in a local folder (layout: module docstring)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    # -- versions ---------------------------------------------------------------------
    def save(self, model: LeadScoreModel) -> str:
        """Write the version to a temporary folder, then move it in place atomically."""
        target = self._version_dir(model.version, must_exist=False)
        if target.exists():
            raise ModelStoreError(f"version {model.version} already exists in {self.root}")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".saving-", dir=target.parent))
        try:
            _skops().dump(
                {"estimator": model.estimator, "binner": model.binner}, staging / "model.skops"
            )
            model.points.to_csv(staging / "points_table.csv", index=False)
            card = {
                **model.card,
                "version": model.version,
                "scaling": model.scaling.as_dict(),
                "bands": model.bands.as_dict(),
            }
            _write_json(staging / "model_card.json", card)
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return model.version

    def load(self, version: str) -> LeadScoreModel:
        """Load with the trusted-type list; an unexpected type is an error, not a load."""
        folder = self._version_dir(version)
        path = folder / "model.skops"
        sio = _skops()
        untrusted = sio.get_untrusted_types(file=path)
        unexpected = sorted(set(untrusted) - set(TRUSTED_MODEL_TYPES))
        if unexpected:
            raise ModelStoreError(
                f"model file of {version} contains types that are not trusted: {unexpected}"
            )
        parts = sio.load(path, trusted=untrusted)
        card = self.card(version)
        scaling = card["scaling"]
        return LeadScoreModel(
            version=version,
            binner=parts["binner"],
            points=self.points_table(version),
            scaling=ScoreScaling(
                scaling["points_to_double_odds"], scaling["anchor_score"], scaling["anchor_odds"]
            ),
            estimator=parts["estimator"],
            bands=BandThresholds(**card["bands"]),
            card=card,
        )

    def card(self, version: str) -> dict[str, Any]:
        """Read the model card."""
        return json.loads((self._version_dir(version) / "model_card.json").read_text("utf-8"))

    def points_table(self, version: str) -> pd.DataFrame:
        """Read the points table (bins keep their text, e.g. "0", "yes")."""
        path = self._version_dir(version) / "points_table.csv"
        return check_points_table(
            pd.read_csv(
                path,
                dtype={"signal": str, "bin": str},
                keep_default_na=False,
                na_values={"training_share": [""], "training_rto_rate": [""]},
            )
        )

    def versions(self) -> list[str]:
        """Version folders, oldest first by creation time in the card."""
        folder = self.root / "versions"
        if not folder.exists():
            return []
        names = [p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return sorted(names, key=lambda v: (self.card(v).get("trained_at", ""), v))

    # -- records ----------------------------------------------------------------------
    def save_evaluation(self, version: str, report: EvaluationReport) -> None:
        """Write the report files and copy the metrics into the card."""
        folder = self._version_dir(version)
        (folder / "evaluation.md").write_text(report.to_markdown(), "utf-8")
        _write_json(folder / "evaluation.json", report.to_dict())
        for name, png in report.charts.items():
            (folder / name).write_bytes(png)
        card = self.card(version)
        card["evaluation"] = {
            "window": report.window.as_dict(),
            "orders": report.orders,
            "metrics": report.metrics.to_dict("records"),
        }
        _write_json(folder / "model_card.json", card)

    def record_decision(self, version: str, decision: PromotionDecision) -> None:
        """Write the verdict beside the version."""
        _write_json(self._version_dir(version) / "promotion_decision.json", decision.as_dict())

    def decision(self, version: str) -> dict[str, Any] | None:
        """The recorded verdict, if any."""
        path = self._version_dir(version) / "promotion_decision.json"
        return json.loads(path.read_text("utf-8")) if path.exists() else None

    # -- approval ---------------------------------------------------------------------
    def approved_version(self) -> str | None:
        """Read the pointer file."""
        pointer = self._pointer()
        return pointer.get("version") if pointer else None

    def promote(self, version: str, *, force: bool = False, note: str = "") -> None:
        """Point ``approved.json`` at ``version``, remembering the current one."""
        self._version_dir(version)
        verdict = self.decision(version)
        if not force and (verdict is None or not verdict.get("approved")):
            reason = "was never evaluated" if verdict is None else verdict.get("summary", "")
            raise PromotionRefused(
                f"{version} cannot be promoted: {reason}. Use force to override."
            )
        pointer = self._pointer() or {"history": []}
        current = pointer.get("version")
        if current == version:
            return
        history = list(pointer.get("history", []))
        if current:
            history.append({"version": current, "approved_at": pointer.get("approved_at")})
        now = pd.Timestamp.now(tz="UTC").isoformat()
        _write_json(
            self.root / "approved.json",
            {
                "version": version,
                "approved_at": now,
                "note": note,
                "forced": force,
                "history": history,
            },
        )
        self._audit(
            {
                "action": "promote",
                "version": version,
                "previous": current,
                "forced": force,
                "note": note,
                "at": now,
            }
        )

    def rollback(self) -> str:
        """Re-approve the version approved before the current one."""
        pointer = self._pointer()
        if not pointer or not pointer.get("history"):
            raise ModelStoreError("nothing to roll back to: no earlier approved version")
        history = list(pointer["history"])
        back = history.pop()
        now = pd.Timestamp.now(tz="UTC").isoformat()
        _write_json(
            self.root / "approved.json",
            {
                "version": back["version"],
                "approved_at": now,
                "note": f"rollback from {pointer['version']}",
                "forced": False,
                "history": history,
            },
        )
        self._audit(
            {
                "action": "rollback",
                "version": back["version"],
                "previous": pointer["version"],
                "at": now,
            }
        )
        return back["version"]

    # -- helpers ----------------------------------------------------------------------
    def _version_dir(self, version: str, *, must_exist: bool = True) -> Path:
        if not version or "/" in version or "\\" in version or version.startswith("."):
            raise ModelStoreError(f"invalid version name {version!r}")
        folder = self.root / "versions" / version
        if must_exist and not folder.is_dir():
            raise ModelStoreError(f"unknown version {version!r} in {self.root}")
        return folder

    def _pointer(self) -> dict[str, Any] | None:
        path = self.root / "approved.json"
        return json.loads(path.read_text("utf-8")) if path.exists() else None

    def _audit(self, entry: dict[str, Any]) -> None:
        with (self.root / "approvals.jsonl").open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    # Write then rename, so a reader never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(payload, indent=2, default=_plain) + "\n", "utf-8")
    os.replace(temporary, path)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
