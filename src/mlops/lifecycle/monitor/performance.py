"""Model performance in monitoring: realised metrics when labels are present, and for
classifiers without labels, metrics estimated from the predicted probabilities (confidence-based
performance estimation, CBPE, as in NannyML).

CBPE: calibrate each class's probability on the model's holdout (which has labels) with isotonic
regression, then treat the calibrated probability p_i of "row i is class k" as the chance it is.
The expected confusion counts follow: for the positive class, TP = sum of p_i over rows predicted
positive, FP = sum of (1 - p_i) over those rows, FN = sum of p_i over rows predicted negative. So
  accuracy  = mean over rows of the calibrated probability of the predicted class
  f1        = 2 TP / (2 TP + FP + FN)   (binary: positive class; multiclass: macro average)
  roc_auc   = area under the expected ROC curve: rows ranked by score, expected TPR =
              cumsum(p) / sum(p), expected FPR = cumsum(1 - p) / sum(1 - p) (multiclass: macro OvR)
The estimate is unbiased while the model stays calibrated on the new data, which holds under
covariate shift (P(y | x) unchanged) and fails under concept drift: CBPE cannot see a change in
the link between features and label, only labels can.

Metrics need every row (ranks for ROC AUC), so each window keeps a uniform sample of at most
`sample_rows` rows (labels, predictions, probabilities); the estimate's extra error from the
sample is about 1/sqrt(sample_rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlops.lifecycle import metrics as M

ESTIMABLE = ("accuracy", "f1", "roc_auc")


class RowSample:
    """A uniform sample without replacement of at most `size` rows of (y, pred, proba).

    Each row's priority is a hash of its global row number (and a seed), and the sample holds the
    `size` rows of lowest priority. So it is the same rows whichever way the batch was split
    into chunks or partitions, and two samples merge exactly.
    """

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self.seed = seed
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]] = []
        self.held = 0
        self.seen = 0

    def add(
        self, y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, rows: np.ndarray
    ) -> None:
        """Add rows; `rows` holds their global row numbers (they set the priorities)."""
        if not len(pred):
            return
        keys = row_priority(rows, self.seed)
        self.parts.append((y, pred, proba, keys))
        self.held += len(pred)
        self.seen += len(pred)
        if self.held > 2 * self.size:
            self._reduce()

    def _reduce(self) -> None:
        y, pred, proba, keys = self._concat()
        if len(keys) > self.size:
            keep = np.sort(np.argpartition(keys, self.size - 1)[: self.size])
            y, pred, keys = y[keep], pred[keep], keys[keep]
            proba = proba[keep] if proba is not None else None
        self.parts = [(y, pred, proba, keys)]
        self.held = len(keys)

    def _concat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        if len(self.parts) == 1:
            return self.parts[0]
        y = np.concatenate([p[0] for p in self.parts])
        pred = np.concatenate([p[1] for p in self.parts])
        probas = [p[2] for p in self.parts if p[2] is not None]
        proba = np.concatenate(probas) if len(probas) == len(self.parts) else None
        keys = np.concatenate([p[3] for p in self.parts])
        return y, pred, proba, keys

    def merged(self, other: RowSample) -> RowSample:
        out = RowSample(self.size, self.seed)
        out.parts = self.parts + other.parts
        out.held = self.held + other.held
        out.seen = self.seen + other.seen
        if out.held > out.size:
            out._reduce()
        return out

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if not self.parts:
            return np.empty(0, dtype=object), np.empty(0, dtype=object), None
        if self.held > self.size or len(self.parts) > 1:
            self._reduce()
        y, pred, proba, _ = self.parts[0]
        return y, pred, proba


def row_priority(rows: np.ndarray, seed: int = 0) -> np.ndarray:
    """Uniform numbers in [0, 1) fixed by the row numbers (splitmix64 of row + seed)."""
    with np.errstate(over="ignore"):
        z = rows.astype(np.uint64) + np.uint64(seed % (1 << 64)) * np.uint64(0x9E3779B97F4A7C15)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass
class Calibrator:
    """Per class, an isotonic map from the model's probability to the observed frequency."""

    classes: list[Any]
    positive: Any
    maps: list[Any] = field(default_factory=list)
    source: str = "holdout"
    rows: int = 0

    @classmethod
    def fit(cls, y: np.ndarray, proba: np.ndarray, classes: list[Any], positive: Any) -> Calibrator:
        from sklearn.isotonic import IsotonicRegression

        y = _as_class_values(y, classes)
        maps = []
        for k, c in enumerate(classes):
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            iso.fit(proba[:, k], (y == c).astype(float))
            maps.append(iso)
        return cls(list(classes), positive, maps, rows=len(y))

    def calibrate(self, proba: np.ndarray) -> np.ndarray:
        cal = np.column_stack([m.predict(proba[:, k]) for k, m in enumerate(self.maps)])
        if len(self.classes) > 2:
            total = cal.sum(axis=1, keepdims=True)
            cal = np.where(total > 0, cal / np.where(total > 0, total, 1), 1 / len(self.classes))
        return cal

    def estimate_errors(
        self,
        pred: np.ndarray,
        proba: np.ndarray,
        names: list[str],
        values: dict[str, float | None],
    ) -> dict[str, float | None]:
        """The batch's share of each estimate's standard error: the error of the metric
        realised on these rows with the expected confusion counts (see `noise`)."""
        from mlops.lifecycle.monitor import noise

        if not len(pred):
            return {}
        cal = self.calibrate(proba)
        pred = _as_class_values(pred, self.classes)
        index = {c: k for k, c in enumerate(self.classes)}
        pred_k = np.array([index.get(p, -1) for p in pred.tolist()])
        counts = noise.expected_counts(cal, pred_k, self.classes, self.positive)
        return noise.count_errors(names, values, counts)

    def estimate(
        self, pred: np.ndarray, proba: np.ndarray, names: list[str]
    ) -> dict[str, float | None]:
        """Expected metrics (the ESTIMABLE ones among names) of predictions on unlabelled rows."""
        out: dict[str, float | None] = {}
        if not len(pred):
            return {n: None for n in names if M.canonical(n) in ESTIMABLE}
        cal = self.calibrate(proba)
        pred = _as_class_values(pred, self.classes)
        index = {c: k for k, c in enumerate(self.classes)}
        pred_k = np.array([index.get(p, -1) for p in pred.tolist()])
        binary = len(self.classes) == 2
        for name in names:
            metric = M.canonical(name)
            if metric not in ESTIMABLE:
                continue
            if metric == "accuracy":
                ok = pred_k >= 0
                p_pred = np.where(ok, cal[np.arange(len(pred_k)), np.clip(pred_k, 0, None)], 0.0)
                out[name] = float(p_pred.mean())
            elif metric == "f1":
                ks = [index[self.positive]] if binary else range(len(self.classes))
                out[name] = float(np.mean([_expected_f1(cal[:, k], pred_k == k) for k in ks]))
            else:
                ks = [index[self.positive]] if binary else range(len(self.classes))
                aucs = [_expected_auc(proba[:, k], cal[:, k]) for k in ks]
                good = [a for a in aucs if a is not None]
                out[name] = float(np.mean(good)) if good else None
        return out


def _as_class_values(values: np.ndarray, classes: list[Any]) -> np.ndarray:
    """Labels compared with classes by string form when the types differ (CSV '1' vs 1)."""
    values = np.asarray(values)
    if not len(values) or not classes:
        return values
    if all(isinstance(c, int | np.integer) for c in classes) and values.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            ints = values.astype(np.int64)
        if np.all((ints == values) | np.isnan(values)):
            return ints
    if values.dtype.kind in "OUS" and not all(isinstance(c, str) for c in classes):
        lookup = {str(c): c for c in classes}
        return np.array([lookup.get(str(v), v) for v in values.tolist()], dtype=object)
    return values


def _expected_f1(p: np.ndarray, predicted: np.ndarray) -> float:
    tp = float(p[predicted].sum())
    fp = float((1 - p[predicted]).sum())
    fn = float(p[~predicted].sum())
    denom = 2 * tp + fp + fn
    return 2 * tp / denom if denom > 0 else 0.0


def _expected_auc(score: np.ndarray, p: np.ndarray) -> float | None:
    order = np.argsort(-score, kind="mergesort")
    s, p = score[order], p[order]
    tp = np.cumsum(p)
    fp = np.cumsum(1 - p)
    if tp[-1] <= 0 or fp[-1] <= 0:
        return None
    # one ROC point per distinct score (ties move together)
    last = np.append(np.flatnonzero(np.diff(s)), len(s) - 1)
    tpr = np.concatenate([[0.0], tp[last] / tp[-1]])
    fpr = np.concatenate([[0.0], fp[last] / fp[-1]])
    # the trapezoid rule by hand: np.trapezoid is numpy >= 2 only, np.trapz is deprecated there
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)


def realised(
    names: list[str],
    y: np.ndarray,
    pred: np.ndarray,
    proba: np.ndarray | None,
    classes: list[Any] | None,
    positive: Any,
) -> dict[str, float | None]:
    """Metrics of labelled rows (rows whose label is missing are left out)."""
    y, pred, proba = _labelled(y, pred, proba, classes)
    return M.compute(names, y, pred, proba, classes, positive)


def realised_errors(
    names: list[str],
    values: dict[str, float | None],
    y: np.ndarray,
    pred: np.ndarray,
    proba: np.ndarray | None,
    classes: list[Any] | None,
    positive: Any,
) -> dict[str, float | None]:
    """The standard error of each realised metric that has one (see `noise`)."""
    from mlops.lifecycle.monitor import noise

    y, pred, proba = _labelled(y, pred, proba, classes)
    out = noise.loss_errors(names, values, y, pred, proba, classes, positive)
    if classes and len(y):
        counts = noise.realised_counts(y, pred, list(classes), positive)
        out.update(noise.count_errors(names, values, counts))
    return out


def _labelled(
    y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, classes: list[Any] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The labelled rows, labels and predictions in the classes' own type."""
    import pandas as pd

    y = np.asarray(y)
    present = ~pd.isna(y)
    if classes:
        y = _typed(_as_class_values(y[present], classes))
        pred = _typed(_as_class_values(np.asarray(pred)[present], classes))
    else:
        y, pred = y[present].astype(float), np.asarray(pred)[present].astype(float)
    if proba is not None:
        proba = proba[present]
    return y, pred, proba


def _typed(values: np.ndarray) -> np.ndarray:
    """An object array of ints (or strs) as an int (or str) array, as scikit-learn expects."""
    if values.dtype != object or not len(values):
        return values
    return np.asarray(values.tolist())


def worse_by(metric: str, reference: float, value: float) -> float:
    """How much worse value is than reference: absolute for greater-is-better metrics,
    relative (share of the reference) for error metrics whose scale is the data's."""
    if M.greater_is_better(metric):
        return reference - value
    return (value - reference) / abs(reference) if reference else value - reference
