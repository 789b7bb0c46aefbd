"""Metrics by scikit-learn name, computed from labels, predictions and probabilities.

Binary classification scores the positive class; multiclass uses macro averages and one-vs-rest
ROC AUC. Every metric knows its direction, so gates can say "worse by at most".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MetricInfo:
    name: str
    task: str  # classification | regression
    greater_is_better: bool
    needs_proba: bool = False
    binary_only: bool = False


_CLS = "classification"
_REG = "regression"

METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        MetricInfo("accuracy", _CLS, True),
        MetricInfo("balanced_accuracy", _CLS, True),
        MetricInfo("f1", _CLS, True),
        MetricInfo("precision", _CLS, True),
        MetricInfo("recall", _CLS, True),
        MetricInfo("roc_auc", _CLS, True, needs_proba=True),
        MetricInfo("average_precision", _CLS, True, needs_proba=True, binary_only=True),
        MetricInfo("log_loss", _CLS, False, needs_proba=True),
        MetricInfo("brier", _CLS, False, needs_proba=True, binary_only=True),
        MetricInfo("matthews_corrcoef", _CLS, True),
        MetricInfo("rmse", _REG, False),
        MetricInfo("mse", _REG, False),
        MetricInfo("mae", _REG, False),
        MetricInfo("median_ae", _REG, False),
        MetricInfo("mape", _REG, False),
        MetricInfo("r2", _REG, True),
        MetricInfo("explained_variance", _REG, True),
    )
}

ALIASES = {
    "auc": "roc_auc",
    "f1_macro": "f1",
    "neg_log_loss": "log_loss",
    "root_mean_squared_error": "rmse",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "median_absolute_error": "median_ae",
    "mean_absolute_percentage_error": "mape",
    "brier_score_loss": "brier",
    "neg_root_mean_squared_error": "rmse",
    "neg_mean_absolute_error": "mae",
    "neg_mean_squared_error": "mse",
}

DEFAULTS = {
    "binary": ["roc_auc", "accuracy", "f1", "precision", "recall", "log_loss"],
    "multiclass": ["accuracy", "f1", "roc_auc", "log_loss"],
    "regression": ["rmse", "mae", "r2"],
}


def canonical(name: str) -> str:
    return ALIASES.get(name, name)


def check_metric(name: str, task: str, n_classes: int) -> str | None:
    """None if the metric applies; else one sentence saying why not."""
    info = METRICS.get(canonical(name))
    if info is None:
        known = ", ".join(sorted(m for m, i in METRICS.items() if i.task == task))
        return f"unknown metric {name!r} (known for {task}: {known})"
    if info.task != task:
        return f"{name!r} is a {info.task} metric but the task is {task}"
    if info.binary_only and n_classes > 2:
        return f"{name!r} needs a binary target but there are {n_classes} classes"
    return None


def greater_is_better(name: str) -> bool:
    info = METRICS.get(canonical(name))
    return True if info is None else info.greater_is_better


def default_metrics(task: str, n_classes: int) -> list[str]:
    if task == _REG:
        return list(DEFAULTS["regression"])
    return list(DEFAULTS["binary" if n_classes <= 2 else "multiclass"])


def _finite(x: Any) -> float | None:
    v = float(x)
    return v if math.isfinite(v) else None


def compute(
    names: Sequence[str],
    y_true: Any,
    y_pred: Any,
    proba: np.ndarray | None = None,
    classes: Sequence[Any] | None = None,
    pos_label: Any = None,
) -> dict[str, float | None]:
    """Each metric's value; None where it is undefined (e.g. ROC AUC of a one-class slice)."""
    import warnings

    from sklearn import metrics as skm

    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    out: dict[str, float | None] = {}
    binary = classes is not None and len(classes) == 2
    if binary and classes is not None and pos_label is None:
        pos_label = classes[1]
    for raw in names:
        name = canonical(raw)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[raw] = _one(skm, name, y_true, y_pred, proba, classes, binary, pos_label)
        except ValueError:
            out[raw] = None
    return out


def _one(
    skm: Any,
    name: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    proba: np.ndarray | None,
    classes: Sequence[Any] | None,
    binary: bool,
    pos_label: Any,
) -> float | None:
    if len(y_true) == 0:
        return None
    if name in ("accuracy", "balanced_accuracy", "matthews_corrcoef", "f1", "precision", "recall"):
        return _label_metric(skm, name, y_true, y_pred, classes, binary, pos_label)
    if name in ("roc_auc", "average_precision", "log_loss", "brier"):
        if proba is None or classes is None:
            return None
        return _proba_metric(skm, name, y_true, proba, classes, binary, pos_label)
    return _regression_metric(skm, name, y_true.astype(float), y_pred.astype(float))


def _label_metric(
    skm: Any,
    name: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: Sequence[Any] | None,
    binary: bool,
    pos_label: Any,
) -> float | None:
    """A classification metric of the predicted labels."""
    if name == "accuracy":
        return _finite(skm.accuracy_score(y_true, y_pred))
    if name == "balanced_accuracy":
        return _finite(skm.balanced_accuracy_score(y_true, y_pred))
    if name == "matthews_corrcoef":
        return _finite(skm.matthews_corrcoef(y_true, y_pred))
    fn = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}[name]
    if binary:
        return _finite(fn(y_true, y_pred, pos_label=pos_label, zero_division=0))
    return _finite(fn(y_true, y_pred, average="macro", labels=classes, zero_division=0))


def _proba_metric(
    skm: Any,
    name: str,
    y_true: np.ndarray,
    proba: np.ndarray,
    classes: Sequence[Any],
    binary: bool,
    pos_label: Any,
) -> float | None:
    """A classification metric of the class probabilities."""
    if name == "log_loss":
        return _finite(skm.log_loss(y_true, proba, labels=list(classes)))
    if binary:
        pos = list(classes).index(pos_label)
        score = proba[:, pos]
        y_bin = (y_true == pos_label).astype(int)
        if name == "brier":
            return _finite(skm.brier_score_loss(y_bin, score))
        if len(np.unique(y_bin)) < 2:
            return None
        if name == "average_precision":
            return _finite(skm.average_precision_score(y_bin, score))
        return _finite(skm.roc_auc_score(y_bin, score))
    present = np.unique(y_true)
    if len(present) < len(classes):
        # one-vs-rest AUC needs every class present; score the ones that are
        if len(present) < 2:
            return None
        idx = [list(classes).index(c) for c in present]
        sub = proba[:, idx]
        sub = sub / np.clip(sub.sum(axis=1, keepdims=True), 1e-12, None)
        return _finite(
            skm.roc_auc_score(y_true, sub, multi_class="ovr", average="macro", labels=present)
        )
    return _finite(
        skm.roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=list(classes))
    )


def _regression_metric(skm: Any, name: str, yt: np.ndarray, yp: np.ndarray) -> float | None:
    if name == "rmse":
        return _finite(math.sqrt(skm.mean_squared_error(yt, yp)))
    if name == "mse":
        return _finite(skm.mean_squared_error(yt, yp))
    if name == "mae":
        return _finite(skm.mean_absolute_error(yt, yp))
    if name == "median_ae":
        return _finite(skm.median_absolute_error(yt, yp))
    if name == "mape":
        return _finite(skm.mean_absolute_percentage_error(yt, yp))
    if name == "r2":
        return _finite(skm.r2_score(yt, yp)) if len(yt) >= 2 else None
    if name == "explained_variance":
        return _finite(skm.explained_variance_score(yt, yp)) if len(yt) >= 2 else None
    raise ValueError(f"unknown metric {name}")
