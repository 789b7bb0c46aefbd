"""Splitting the training rows: the holdout (random, stratified or by time) and the
cross-validation folds scored on the fit part."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mlops.lifecycle import metrics as M
from mlops.lifecycle.train.pipeline import fit_pipeline, predict

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlops.config import Config


def split_rows(
    config: Config, frame: pd.DataFrame, task: str
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    import numpy as np
    from sklearn.model_selection import train_test_split

    tc = config.model.train
    sp = tc.split
    method = sp.method or ("stratified" if task == "classification" else "random")
    n = len(frame)
    n_test = max(1, int(math.ceil(sp.test_size * n)))
    if n - n_test < 2:
        raise config.error(("train", "split", "test_size"), f"{n} row(s) are too few to split")
    info: dict[str, Any] = {"method": method, "test_size": sp.test_size}
    idx = np.arange(n)
    if method == "time":
        tcol = sp.time_column or config.model.data.time_column
        key = ("train", "split", "time_column") if sp.time_column else ("train", "split", "method")
        if not tcol:
            raise config.error(key, "a time split needs split.time_column or data.time_column")
        if tcol not in frame.columns:
            raise config.error(key, f"time column {tcol!r} is not in the training data")
        order_key = _time_key(frame[tcol])
        order = np.argsort(order_key, kind="stable")
        cut_value = order_key[order[n - n_test]]
        # every row at the boundary time goes to the holdout: no time is in both parts
        fit = order[order_key[order] < cut_value]
        hold = order[order_key[order] >= cut_value]
        if len(fit) < 2:
            raise config.error(
                key,
                f"time column {tcol!r} leaves no past rows to train on (too few distinct times)",
            )
        info.update(time_column=tcol, cutoff=str(frame[tcol].iloc[order[len(fit)]]))
        return fit, hold, info
    strat = frame[tc.target] if method == "stratified" else None
    if method == "stratified" and task != "classification":
        raise config.error(
            ("train", "split", "method"), "a stratified split needs a classification target"
        )
    try:
        fit, hold = train_test_split(
            idx, test_size=n_test, random_state=tc.random_state, shuffle=True, stratify=strat
        )
    except ValueError as e:
        raise config.error(("train", "split"), f"cannot split the data: {e}") from None
    return np.sort(fit), np.sort(hold), info


def _time_key(series: pd.Series) -> np.ndarray:
    import numpy as np
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
        return series.to_numpy()
    try:
        parsed = pd.to_datetime(series, errors="coerce", format="mixed")
        if parsed.notna().sum() == series.notna().sum():
            return parsed.to_numpy()
    except (ValueError, TypeError):
        pass
    return np.asarray(series.astype(str).to_numpy(), dtype=object)


def cross_validate(
    config: Config,
    pipeline: Any,
    x: pd.DataFrame,
    y: pd.Series,
    task: str,
    method: str,
    names: list[str],
    classes: list[Any] | None,
    pos_label: Any,
) -> dict[str, dict[str, float | None]]:
    import numpy as np
    from sklearn.base import clone
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

    tc = config.model.train
    k = int(tc.cv or 0)
    if method == "time":
        splitter: Any = TimeSeriesSplit(n_splits=k)
    elif task == "classification" and y.value_counts().min() >= k:
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=tc.random_state)
    else:
        splitter = KFold(n_splits=k, shuffle=True, random_state=tc.random_state)
    per: dict[str, list[float]] = {n: [] for n in names}
    try:
        folds = list(splitter.split(x, y if task == "classification" else None))
    except ValueError as e:
        raise config.error(("train", "cv"), f"cannot make {k} folds: {e}") from None
    for tr, te in folds:
        model = clone(pipeline)
        fit_pipeline(config, model, x.iloc[tr], y.iloc[tr])
        pred, proba = predict(model, x.iloc[te], task)
        fold_classes = list(getattr(model, "classes_", classes or [])) or None
        if proba is not None and classes is not None and fold_classes != classes:
            proba = _align_proba(proba, fold_classes, classes)
        vals = M.compute(names, y.iloc[te], pred, proba, classes, pos_label)
        for n, v in vals.items():
            if v is not None:
                per[n].append(v)
    out: dict[str, dict[str, float | None]] = {}
    for n, vs in per.items():
        out[n] = {
            "mean": float(np.mean(vs)) if vs else None,
            "std": float(np.std(vs)) if vs else None,
            "folds": len(vs),
        }
    return out


def _align_proba(proba: np.ndarray, have: list[Any] | None, want: list[Any]) -> np.ndarray:
    import numpy as np

    out = np.zeros((proba.shape[0], len(want)))
    for j, c in enumerate(have or []):
        if c in want:
            out[:, want.index(c)] = proba[:, j]
    return out
