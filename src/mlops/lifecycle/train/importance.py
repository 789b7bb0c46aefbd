"""Permutation importance of each feature on a bounded sample of the holdout."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mlops.lifecycle import metrics as M
from mlops.lifecycle.train.pipeline import predict

if TYPE_CHECKING:
    import pandas as pd

    from mlops.config import Config


def permutation_importance(
    pipeline: Any,
    x: pd.DataFrame,
    y: pd.Series,
    task: str,
    metric: str,
    classes: list[Any] | None,
    pos_label: Any,
    max_rows: int,
    repeats: int,
    seed: int,
    max_predict_rows: int = 10_000,
) -> list[dict[str, Any]]:
    """Drop in `metric` when each feature is shuffled, on at most max_rows rows, batched into
    one predict call over all permuted copies (the cost is one predict on rows*features*repeats)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    max_rows = min(max_rows, max(50, max_predict_rows // max(1, x.shape[1] * repeats)))
    if len(x) > max_rows:
        take = np.sort(rng.choice(len(x), max_rows, replace=False))
        x, y = x.iloc[take], y.iloc[take]
    x = x.reset_index(drop=True)
    y = y.reset_index(drop=True)
    n = len(x)
    if n < 2:
        return []
    sign = 1.0 if M.greater_is_better(metric) else -1.0
    info = M.METRICS[M.canonical(metric)]
    pred, proba = predict(pipeline, x, task)
    base = M.compute([metric], y, pred, proba, classes, pos_label)[metric]
    if base is None:
        return []
    cols = list(x.columns)
    big = pd.concat([_shuffled(x, c, rng) for c in cols for _ in range(repeats)], ignore_index=True)
    if info.needs_proba and proba is not None:
        # the metric reads probabilities only: one predict_proba over every permuted copy
        proba_all = pipeline.predict_proba(big)
        pred_all = np.asarray(pipeline.classes_)[np.argmax(proba_all, axis=1)]
    else:
        pred_all, proba_all = pipeline.predict(big), None
    out = []
    for i, c in enumerate(cols):
        drops = []
        for r in range(repeats):
            sl = slice((i * repeats + r) * n, (i * repeats + r + 1) * n)
            proba_sl = None if proba_all is None else proba_all[sl]
            v = M.compute([metric], y, pred_all[sl], proba_sl, classes, pos_label)[metric]
            if v is not None:
                drops.append(sign * (base - v))
        out.append(_importance(c, drops))
    out.sort(key=lambda d: -(d["importance"] if d["importance"] is not None else -math.inf))
    return out


def _shuffled(x: pd.DataFrame, column: str, rng: Any) -> pd.DataFrame:
    """A copy of x with column's values permuted."""
    xc = x.copy()
    xc[column] = x[column].to_numpy()[rng.permutation(len(x))]
    return xc


def _importance(feature: str, drops: list[float]) -> dict[str, Any]:
    import numpy as np

    return {
        "feature": feature,
        "importance": float(np.mean(drops)) if drops else None,
        "std": float(np.std(drops)) if drops else None,
    }


def holdout_importance(
    config: Config,
    pipeline: Any,
    x: pd.DataFrame,
    y: pd.Series,
    task: str,
    metric_names: list[str],
    n_classes: int,
    classes: list[Any] | None,
    pos_label: Any,
) -> dict[str, Any]:
    """The contents of importance.json: permutation importance on the holdout against
    train.importance.metric (default: the first metric), or no features when it is off."""
    tc = config.model.train
    ic = tc.importance
    metric = ic.metric or metric_names[0]
    out: dict[str, Any] = {"metric": metric, "rows": 0, "repeats": ic.repeats, "features": []}
    if not ic.enabled:
        return out
    problem = M.check_metric(metric, task, n_classes)
    if problem:
        raise config.error(("train", "importance", "metric"), problem)
    rows = min(len(x), ic.max_rows, max(50, ic.max_predict_rows // (x.shape[1] * ic.repeats)))
    features = permutation_importance(
        pipeline,
        x,
        y,
        task,
        metric,
        classes,
        pos_label,
        rows,
        ic.repeats,
        tc.random_state,
        ic.max_predict_rows,
    )
    out.update(rows=rows if features else 0, features=features)
    return out
