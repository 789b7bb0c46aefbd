"""The sampling noise of performance metrics, so a performance alert fires only on a drop that
is both material (larger than `max_drop` / `max_rise`) and significant (unlikely when nothing
changed).

Standard errors (all analytic; no bootstrap):
  accuracy           binomial: sqrt(a (1 - a) / n)
  precision, recall  binomial over the rows predicted as / labelled as the class
  balanced_accuracy  the per-class recalls' binomial errors, averaged
  f1                 delta method on the multinomial proportions of TP, FP, FN among the n rows:
                     F1 = 2a / (2a + b + c), its gradient g, Var = g' (diag(p) - p p') g / n
  roc_auc            Hanley & McNeil (1982), from the AUC and the numbers of positive and
                     negative rows (the class's rows and the others for multiclass one-vs-rest)
  log_loss, brier,   means of a per-row loss: std(loss) / sqrt(n); rmse by the delta method
  mse, mae, rmse     (se_mse / (2 rmse))
Macro averages over classes (multiclass f1, precision, recall, roc_auc) treat the classes as
independent: SE = sqrt(sum of the per-class variances) / K. Other metrics (r2, mape,
median_ae, explained_variance, average_precision, matthews_corrcoef) have no standard error here
and keep the materiality rule alone.

The test: with d the drop (absolute for scores, relative for error metrics, as `worse_by`) and
SE = sqrt(SE_holdout^2 + SE_batch^2), the one-sided p-value is P(Z > d / SE). An alert needs
d > max_drop (or max_rise) and p < alpha / m, m the number of metrics tested (Bonferroni).
For CBPE estimates the holdout's error counts twice (the reference figure and the isotonic
calibration both come from the holdout) and the batch's error is that of the metric realised on
the batch's rows with the expected confusion counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlops.lifecycle import metrics as M

WITH_ERROR = (
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
    "brier",
    "mse",
    "rmse",
    "mae",
)


@dataclass
class ClassCounts:
    """Per class: true positives, false positives, false negatives (expected ones for CBPE)."""

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    n: float
    positive_index: int | None  # binary: the positive class; None for multiclass (macro)

    def classes(self) -> list[int]:
        if self.positive_index is not None:
            return [self.positive_index]
        return list(range(len(self.tp)))


def _binomial_var(p: float, n: float) -> float | None:
    if n <= 0 or not math.isfinite(p):
        return None
    p = min(max(p, 0.0), 1.0)
    # a figure of exactly 0 or 1 has no binomial spread; 1/(2n) keeps the error honest then
    p = min(max(p, 0.5 / n), 1 - 0.5 / n) if n >= 1 else p
    return p * (1 - p) / n


def _f1_var(tp: float, fp: float, fn: float, n: float) -> float | None:
    if n <= 0:
        return None
    a, b, c = tp / n, fp / n, fn / n
    denom = 2 * a + b + c
    if denom <= 0:
        return None
    g = np.array([2 * (b + c), -2 * a, -2 * a]) / denom**2
    p = np.array([a, b, c])
    cov = (np.diag(p) - np.outer(p, p)) / n
    return max(float(g @ cov @ g), 0.0)


def _auc_var(auc: float, n_pos: float, n_neg: float) -> float | None:
    """Hanley & McNeil (1982)."""
    if n_pos < 1 or n_neg < 1 or not math.isfinite(auc):
        return None
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (
        n_pos * n_neg
    )
    return max(var, 0.25 / (n_pos * n_neg))


def _macro(variances: list[float | None]) -> float | None:
    if not variances or any(v is None for v in variances):
        return None
    return math.sqrt(sum(v for v in variances if v is not None)) / len(variances)


def count_errors(
    names: list[str], values: dict[str, float | None], counts: ClassCounts
) -> dict[str, float | None]:
    """Standard errors of the count-based classification metrics among names."""
    out: dict[str, float | None] = {}
    ks = counts.classes()
    for name in names:
        metric = M.canonical(name)
        value = values.get(name)
        if value is None:
            continue
        if metric == "accuracy":
            var = _binomial_var(value, counts.n)
            out[name] = math.sqrt(var) if var is not None else None
        elif metric in ("precision", "recall", "balanced_accuracy"):
            per = []
            for k in range(len(counts.tp)) if metric == "balanced_accuracy" else ks:
                tp, fp, fn = counts.tp[k], counts.fp[k], counts.fn[k]
                denom = tp + fp if metric == "precision" else tp + fn
                per.append(_binomial_var(tp / denom, denom) if denom > 0 else None)
            out[name] = _macro(per)
        elif metric == "f1":
            out[name] = _macro(
                [_f1_var(counts.tp[k], counts.fp[k], counts.fn[k], counts.n) for k in ks]
            )
        elif metric == "roc_auc":
            # the macro figure stands in for each class's AUC in Hanley-McNeil
            per = []
            for k in ks:
                n_pos = counts.tp[k] + counts.fn[k]
                per.append(_auc_var(value, n_pos, counts.n - n_pos))
            out[name] = _macro(per)
    return out


def realised_counts(
    y: np.ndarray, pred: np.ndarray, classes: list[Any], positive: Any
) -> ClassCounts:
    tp = np.array([np.sum((pred == c) & (y == c)) for c in classes], dtype=float)
    fp = np.array([np.sum((pred == c) & (y != c)) for c in classes], dtype=float)
    fn = np.array([np.sum((pred != c) & (y == c)) for c in classes], dtype=float)
    pos = _positive_index(classes, positive)
    return ClassCounts(tp, fp, fn, float(len(y)), pos)


def expected_counts(
    cal: np.ndarray, pred_k: np.ndarray, classes: list[Any], positive: Any
) -> ClassCounts:
    """Expected confusion counts from calibrated probabilities (CBPE)."""
    k_all = range(len(classes))
    tp = np.array([cal[pred_k == k, k].sum() for k in k_all], dtype=float)
    fp = np.array([(1 - cal[pred_k == k, k]).sum() for k in k_all], dtype=float)
    fn = np.array([cal[pred_k != k, k].sum() for k in k_all], dtype=float)
    return ClassCounts(tp, fp, fn, float(len(pred_k)), _positive_index(classes, positive))


def _positive_index(classes: list[Any], positive: Any) -> int | None:
    if len(classes) != 2:
        return None
    return classes.index(positive) if positive in classes else 1


def loss_errors(
    names: list[str],
    values: dict[str, float | None],
    y: np.ndarray,
    pred: np.ndarray,
    proba: np.ndarray | None,
    classes: list[Any] | None,
    positive: Any,
) -> dict[str, float | None]:
    """Standard errors of the metrics that are means of a per-row loss."""
    out: dict[str, float | None] = {}
    n = len(y)
    if n < 2:
        return out
    for name in names:
        metric = M.canonical(name)
        loss: np.ndarray | None = None
        if metric in ("log_loss", "brier") and proba is not None and classes:
            onehot = np.column_stack([(y == c) for c in classes]).astype(float)
            if metric == "log_loss":
                p_true = np.clip((proba * onehot).sum(axis=1), 1e-15, 1.0)
                loss = -np.log(p_true)
            elif len(classes) == 2:
                k = _positive_index(classes, positive) or 0
                loss = (proba[:, k] - onehot[:, k]) ** 2
        elif metric in ("mse", "rmse", "mae") and not classes:
            err = y.astype(float) - pred.astype(float)
            loss = np.abs(err) if metric == "mae" else err * err
        if loss is None or not np.all(np.isfinite(loss)):
            continue
        se = float(np.std(loss, ddof=1) / math.sqrt(n))
        if metric == "rmse":
            value = values.get(name)
            se = se / (2 * value) if value else math.inf
        out[name] = se
    return out


def drop_p_value(drop: float, se: float | None) -> float | None:
    """One-sided p-value of a drop this large when the true drop is 0."""
    from scipy.special import ndtr  # scipy.stats.norm.sf(z) is ndtr(-z)

    if se is None or not math.isfinite(se):
        return None
    if se <= 0:
        return 0.0 if drop > 0 else 1.0
    return float(ndtr(-(drop / se)))


def relative_se(metric: str, reference: float, se: float | None) -> float | None:
    """The error on the scale of `worse_by`: relative to the holdout for error metrics."""
    if se is None or M.greater_is_better(metric) or not reference:
        return se
    return se / abs(reference)
