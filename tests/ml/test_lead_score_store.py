"""Model store round trip (skops), promotion, rollback and the CLI."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from ml.baseline import baseline_model
from ml.cli import main
from ml.local_model_store import LocalModelStore
from ml.model_lifecycle import (
    evaluate_version,
    gate_promotion,
    promote_if_approved,
    score_with_approved,
    train_and_store,
)
from ml.model_store import ModelStoreError, PromotionRefused
from ml.order_scoring import score_orders
from ml.promotion import PromotionDecision
from ml.store_resource import ModelStoreResource
from ml.training import config_fingerprint


class NotAModel:
    """A type no model file should contain."""


def _copy_as(model, version: str):
    return dataclasses.replace(model, version=version, card={**model.card, "version": version})


def _approve(store: LocalModelStore, version: str) -> None:
    store.record_decision(version, PromotionDecision(True, version, []))


def test_only_an_approved_verdict_is_promoted_and_only_when_auto_promote_is_on(
    tmp_path, trained
) -> None:
    store = LocalModelStore(tmp_path)
    for version in ("v1", "v2", "v3"):
        store.save(_copy_as(trained.model, version))
    # Never evaluated: nothing to promote, the baseline keeps scoring.
    assert promote_if_approved(store, "v1", auto_promote=True) is None
    _approve(store, "v1")
    assert promote_if_approved(store, "v1", auto_promote=False) is None  # promotion by hand
    assert promote_if_approved(store, "v1", auto_promote=True) == "v1"
    store.record_decision("v2", PromotionDecision(False, "v2", []))
    assert promote_if_approved(store, "v2", auto_promote=True) == "v1"  # refused: v1 stays
    _approve(store, "v3")
    assert promote_if_approved(store, "v3", auto_promote=True) == "v3"


def test_save_load_keeps_scores_probabilities_and_records(
    tmp_path, trained, report, test_window_rows
) -> None:
    store = LocalModelStore(tmp_path)
    version = store.save(trained.model)
    store.save_evaluation(version, report)
    loaded = store.load(version)

    evidence = test_window_rows.evidence
    np.testing.assert_array_equal(loaded.scores(evidence), trained.model.scores(evidence))
    np.testing.assert_array_equal(
        loaded.rto_probability(evidence), trained.model.rto_probability(evidence)
    )
    pd.testing.assert_frame_equal(loaded.points, trained.model.points)
    assert loaded.bands == trained.model.bands
    assert loaded.scaling == trained.model.scaling
    card = store.card(version)
    assert card["data_fingerprint"] == trained.model.card["data_fingerprint"]
    assert card["splits"] == trained.splits.as_dict()
    assert [m["auc"] for m in card["evaluation"]["metrics"]] == list(report.metrics["auc"])
    assert (tmp_path / "versions" / version / "calibration.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ModelStoreError, match="already exists"):
        store.save(trained.model)


def test_promote_rollback_round_trip(tmp_path, trained, orders, report, config) -> None:
    store = LocalModelStore(tmp_path)
    first = store.save(_copy_as(trained.model, "v1"))
    second = store.save(_copy_as(trained.model, "v2"))
    assert store.approved_version() is None

    # Before any approval, orders are scored by the rule-based baseline.
    sample = orders.tail(20)
    assert set(score_with_approved(sample, store).scores["model_version"]) == {"baseline"}

    with pytest.raises(PromotionRefused, match="never evaluated"):
        store.promote(first)
    decision = gate_promotion(store, first, report, config, auto_promote=True)
    assert decision.approved and store.approved_version() == first

    store.record_decision(second, PromotionDecision(False, second, []))
    with pytest.raises(PromotionRefused):
        store.promote(second)
    store.promote(second, force=True, note="test override")
    assert store.approved_version() == second
    assert set(score_with_approved(sample, store).scores["model_version"]) == {second}

    assert store.rollback() == first
    assert store.approved_version() == first
    with pytest.raises(ModelStoreError, match="nothing to roll back"):
        store.rollback()
    audit = (tmp_path / "approvals.jsonl").read_text().splitlines()
    assert [line.split('"action": "')[1].split('"')[0] for line in audit] == [
        "promote",
        "promote",
        "rollback",
    ]


def test_cli_lists_shows_promotes_and_rolls_back(tmp_path, trained, report, capsys) -> None:
    store = LocalModelStore(tmp_path)
    for version in ("v1", "v2"):
        store.save(_copy_as(trained.model, version))
        _approve(store, version)
    store.save_evaluation("v1", report)
    base = ["--store", str(tmp_path)]

    assert main([*base, "promote", "v1"]) == 0
    assert main([*base, "promote", "v2"]) == 0
    capsys.readouterr()
    assert main([*base, "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].startswith("  v1") and listing[2].startswith("* v2")
    # Each version shows its held-out metrics (or that it has none yet).
    candidate = report.metrics_of("candidate")
    assert f"AUC {candidate['auc']:.3f}" in listing[1]
    assert f"ECE {candidate['ece']:.3f}" in listing[1]
    assert f"profit/order {candidate['profit_per_order']:.2f} MAD" in listing[1]
    assert f"baseline AUC {report.metrics_of('baseline')['auc']:.3f}" in listing[1]
    assert listing[3].strip() == "no evaluation yet"

    assert main([*base, "show", "v1"]) == 0
    shown = capsys.readouterr().out
    assert "| whatsapp_confirmation | confirmed within 15 min |" in shown
    assert f"confirm >= {trained.model.bands.confirm_at:.0f}" in shown

    assert main([*base, "rollback"]) == 0
    assert store.approved_version() == "v1"
    # The Dagster resource is the same store, found by configuration alone.
    resource_store = ModelStoreResource(root=str(tmp_path)).get_store()
    assert resource_store.versions() == ["v1", "v2"]
    assert resource_store.approved_version() == "v1"
    assert main([*base, "promote", "v9"]) == 1
    assert "unknown version" in capsys.readouterr().err


def test_model_file_with_an_untrusted_type_is_refused(tmp_path, trained) -> None:
    store = LocalModelStore(tmp_path)
    version = store.save(trained.model)
    sio.dump(
        {"estimator": NotAModel(), "binner": None}, tmp_path / "versions" / version / "model.skops"
    )
    with pytest.raises(ModelStoreError, match="NotAModel"):
        store.load(version)


def test_lifecycle_evaluates_a_stored_version_against_the_approved_one(
    tmp_path, trained, report, orders, quick_config
) -> None:
    store = LocalModelStore(tmp_path)
    store.save(_copy_as(trained.model, "v1"))
    _approve(store, "v1")
    store.promote("v1")
    store.save(_copy_as(trained.model, "v2"))

    evaluated = evaluate_version(orders, store, "v2", quick_config)
    rows = evaluated.metrics.set_index("contender")
    assert rows.loc["previous", "version"] == "v1"
    # The baseline rebuilt from the stored card matches the one built at training time.
    assert rows.loc["baseline", "brier"] == pytest.approx(report.metrics_of("baseline")["brier"])
    # Same model as the approved one: every measure ties, so the gate lets it through.
    assert rows.loc["candidate", "auc"] == rows.loc["previous", "auc"]
    decision = gate_promotion(store, "v2", evaluated, quick_config, auto_promote=True)
    assert decision.approved and store.approved_version() == "v2"
    assert store.card("v2")["evaluation"]["orders"] == evaluated.orders
    assert store.decision("v2")["approved"] is True


def test_retraining_on_unchanged_data_reuses_the_version(tmp_path, orders, quick_config) -> None:
    store = LocalModelStore(tmp_path)
    first = train_and_store(orders, store, quick_config)
    again = train_and_store(orders.sample(frac=1.0, random_state=3), store, quick_config)
    assert not first.reused and again.reused
    assert again.model.version == first.model.version
    assert store.versions() == [first.model.version]
    card = store.card(first.model.version)
    assert card["config_fingerprint"] == config_fingerprint(quick_config)
    # New evidence on one order is new data; a changed configuration is a new recipe.
    changed = orders.copy()
    changed.loc[changed.index[-1], "order_total"] += 1
    assert train_and_store(changed, store, quick_config).reused is False
    retuned = quick_config.model_copy(
        update={"scorecard": quick_config.scorecard.model_copy(update={"regularization_c": 0.5})}
    )
    assert train_and_store(orders, store, retuned).reused is False
    assert len(store.versions()) == 3


def test_scores_carry_the_baseline_score_and_band_beside_the_model(
    tmp_path, trained, orders
) -> None:
    store = LocalModelStore(tmp_path)
    store.save(trained.model)
    _approve(store, trained.model.version)
    store.promote(trained.model.version)
    sample = orders.tail(200)
    as_of = sample["placed_at"] + pd.Timedelta(hours=3)
    scores = score_with_approved(sample, store, as_of=as_of).scores
    reference = score_orders(baseline_model(trained.model.scaling), sample, as_of=as_of).scores
    assert set(scores["model_version"]) == {trained.model.version}
    np.testing.assert_array_equal(scores["baseline_score"], reference["score"])
    np.testing.assert_array_equal(scores["baseline_band"], reference["band"])
    np.testing.assert_allclose(scores["baseline_rto_probability"], reference["rto_probability"])
    # The two disagree somewhere, or storing both would be pointless.
    assert (scores["band"] != scores["baseline_band"]).any()


def test_evaluation_metrics_are_numeric_metadata_per_contender(report) -> None:
    import dagster as dg

    from orchestration.defs.lead_score.assets import evaluation_plot_metadata

    metadata = evaluation_plot_metadata(report)
    for contender in ("candidate", "baseline"):
        for metric in ("auc", "brier", "ece", "profit_per_order"):
            value = metadata[f"{contender}/{metric}"]
            assert isinstance(value, dg.FloatMetadataValue)
            assert value.value == pytest.approx(report.metrics_of(contender)[metric])
