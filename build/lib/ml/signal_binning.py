"""Cutting the as-of evidence into the labelled bins of the learned scorecard.

A scikit-learn transformer, first step of the scorecard pipeline, so a stored model
carries its own bin edges. It also applies the merges and drops that the sign checks
decided (:mod:`ml.scorecard`). A value it never saw in training falls in the
signal's neutral bin (0 points) rather than failing the scoring of an order.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from ml.scorecard_signals import LEARNED_SIGNALS, ScorecardSignal

UNKNOWN = "unknown"


class SignalBinner(TransformerMixin, BaseEstimator):
    """As-of evidence -> one bin label per signal.

    ``merges`` maps, per signal, an original bin label to the merged label it now
    belongs to; ``dropped`` names signals left out of the scorecard.

    Fitted attributes: ``labels_`` (signal -> bins seen in training, in natural
    order), ``edges_`` (quantile signals -> cut points), ``neutral_`` (signal -> the
    0-point bin), ``expected_order_`` (signal -> bins best -> worst, after merges).
    """

    def __init__(
        self,
        signals: tuple[ScorecardSignal, ...] = LEARNED_SIGNALS,
        merges: dict[str, dict[str, str]] | None = None,
        dropped: tuple[str, ...] = (),
    ):
        self.signals = signals
        self.merges = merges
        self.dropped = dropped

    @property
    def active_signals(self) -> list[ScorecardSignal]:
        """Signals that are part of the scorecard (not dropped)."""
        return [s for s in self.signals if s.name not in self.dropped]

    def fit(self, evidence: pd.DataFrame, y: object = None) -> SignalBinner:
        """Learn quantile edges, the bins present, and each signal's neutral bin."""
        self.edges_: dict[str, list[float]] = {}
        self.labels_: dict[str, list[str]] = {}
        self.raw_labels_: dict[str, list[str]] = {}
        self.neutral_: dict[str, str] = {}
        self.expected_order_: dict[str, list[str]] = {}
        for signal in self.active_signals:
            values = evidence[signal.name]
            if signal.binning == "quantile":
                self.edges_[signal.name] = _quantile_edges(values, signal)
            raw = self._raw_labels(signal, values)
            natural = self._natural_order(signal, raw)
            self.raw_labels_[signal.name] = natural
            merged = self._merge(signal.name, raw)
            seen = set(merged)
            final = list(dict.fromkeys(self._merge_one(signal.name, label) for label in natural))
            self.labels_[signal.name] = [label for label in final if label in seen]
            neutral = self._merge_one(signal.name, signal.neutral) if signal.neutral else None
            if neutral not in seen:
                neutral = merged.value_counts().idxmax()
            self.neutral_[signal.name] = neutral
            self.expected_order_[signal.name] = [
                label
                for label in dict.fromkeys(
                    self._merge_one(signal.name, b) for b in self._expected_chain(signal)
                )
                if label in seen
            ]
        return self

    def transform(self, evidence: pd.DataFrame) -> pd.DataFrame:
        """Bin labels, one column per active signal, in catalogue order."""
        out = {}
        for signal in self.active_signals:
            labels = self._merge(signal.name, self._raw_labels(signal, evidence[signal.name]))
            known = labels.isin(self.labels_[signal.name])
            out[signal.name] = labels.where(known, self.neutral_[signal.name])
        return pd.DataFrame(out, index=evidence.index).astype(object)

    def _raw_labels(self, signal: ScorecardSignal, values: pd.Series) -> pd.Series:
        if signal.binning == "category":
            labels = values.astype(object).where(values.notna(), UNKNOWN).astype(str)
        elif signal.binning == "flag":
            true_label, false_label = signal.flag_labels
            flags = values.astype("boolean")
            labels = pd.Series(
                np.where(flags.fillna(False), true_label, false_label), index=values.index
            ).where(flags.notna(), UNKNOWN)
        elif signal.binning == "count":
            names = _count_labels(signal.count_edges)
            index = np.searchsorted(signal.count_edges, values.to_numpy(), side="right") - 1
            labels = pd.Series(
                np.asarray(names, dtype=object)[np.clip(index, 0, None)], index=values.index
            )
        else:
            edges = self.edges_[signal.name]
            names = _quantile_labels(edges, signal.unit)
            index = np.searchsorted(edges, values.fillna(0).to_numpy(), side="right")
            labels = pd.Series(np.asarray(names, dtype=object)[index], index=values.index).where(
                values.notna(), UNKNOWN
            )
        return labels.astype(object)

    def _natural_order(self, signal: ScorecardSignal, raw: pd.Series) -> list[str]:
        if signal.binning == "count":
            names = _count_labels(signal.count_edges)
        elif signal.binning == "quantile":
            names = _quantile_labels(self.edges_[signal.name], signal.unit)
        elif signal.binning == "flag":
            names = list(signal.flag_labels)
        else:
            names = [*signal.expected_order, *sorted(set(raw) - set(signal.expected_order))]
        return [*names, UNKNOWN] if UNKNOWN not in names else names

    def _expected_chain(self, signal: ScorecardSignal) -> list[str]:
        if signal.binning != "quantile":
            return list(signal.expected_order)
        names = _quantile_labels(self.edges_[signal.name], signal.unit)
        if signal.better_when == "lower":
            return names
        if signal.better_when == "higher":
            return names[::-1]
        return []

    def _merge_one(self, name: str, label: str) -> str:
        return ((self.merges or {}).get(name) or {}).get(label, label)

    def _merge(self, name: str, labels: pd.Series) -> pd.Series:
        mapping = (self.merges or {}).get(name)
        return labels.replace(mapping) if mapping else labels


def _count_labels(edges: tuple[int, ...]) -> list[str]:
    names = []
    for i, low in enumerate(edges):
        if i + 1 == len(edges):
            names.append(f"{low}+")
        else:
            high = edges[i + 1] - 1
            names.append(str(low) if high == low else f"{low}–{high}")
    return names


def _quantile_edges(values: pd.Series, signal: ScorecardSignal) -> list[float]:
    present = values.dropna().to_numpy(dtype=float)
    if present.size == 0 or signal.quantiles < 2:
        return []
    cuts = np.quantile(present, np.linspace(0, 1, signal.quantiles + 1)[1:-1])
    # Round to readable cut points: whole percents for rates, tens of MAD for money.
    cuts = np.round(cuts, 2) if signal.unit == "rate" else np.round(cuts, -1)
    cuts = np.unique(cuts)
    # A cut at or below the minimum would leave an empty first bin.
    return [float(c) for c in cuts if present.min() < c <= present.max()]


def _quantile_labels(edges: list[float], unit: str) -> list[str]:
    if not edges:
        return ["all"]

    def fmt(value: float) -> str:
        if unit == "rate":
            return f"{value * 100:.0f} %"
        if unit == "mad":
            return f"{value:.0f} MAD"
        return f"{value:g}"

    names = [f"< {fmt(edges[0])}"]
    names += [f"{fmt(lo)}–{fmt(hi)}" for lo, hi in itertools.pairwise(edges)]
    names.append(f"≥ {fmt(edges[-1])}")
    return names
