"""The contents of a model artifact other than the pickled pipeline: the holdout with the
model's outputs, the reference profile, the signature, the run params, and their encodings."""

from __future__ import annotations

import io
import json
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlops.config import Config
    from mlops.lifecycle.train.columns import Columns
    from mlops.stats.profile import DatasetProfile, ProfileSpec

PREDICTION = "prediction"
PROBA_PREFIX = "proba_"


def output_names(taken: list[str], task: str, classes: list[Any] | None) -> dict[str, Any]:
    used = set(taken)

    def free(name: str) -> str:
        while name in used:
            name = "_" + name
        used.add(name)
        return name

    out: dict[str, Any] = {"prediction": free(PREDICTION)}
    if task == "classification" and classes:
        out["proba"] = {str(c): free(f"{PROBA_PREFIX}{c}") for c in classes}
    return out


def add_outputs(
    frame: pd.DataFrame, pred: np.ndarray, proba: np.ndarray | None, names: dict[str, Any]
) -> None:
    frame[names["prediction"]] = pred
    if proba is not None and names.get("proba"):
        for j, col in enumerate(names["proba"].values()):
            if j < proba.shape[1]:
                frame[col] = proba[:, j]


def model_signature(
    config: Config,
    frame: pd.DataFrame,
    cols: Columns,
    task: str,
    classes: list[Any] | None,
    pos_label: Any,
    out_names: dict[str, Any],
    est_path: str,
) -> dict[str, Any]:
    """The contents of signature.json (read back by `signature.Signature`)."""
    import sklearn

    target = config.model.train.target
    assert target is not None
    return {
        "format": 1,
        "inputs": [
            {
                "name": c,
                "dtype": str(frame[c].dtype),
                "kind": "numeric" if c in cols.numeric else "categorical",
            }
            for c in cols.features
        ],
        "task": task,
        "target": target,
        "target_dtype": str(frame[target].dtype),
        "classes": classes,
        "positive_class": pos_label,
        "id_column": config.model.data.id_column,
        "time_column": config.model.data.time_column,
        "outputs": {
            "prediction": out_names["prediction"],
            "proba": out_names.get("proba") or {},
        },
        "estimator": est_path,
        "sklearn_version": sklearn.__version__,
        "python_version": sys.version.split()[0],
    }


def reference_profile(
    frame: pd.DataFrame,
    cols: Columns,
    target: str,
    task: str,
    fit_idx: np.ndarray,
    hold_idx: np.ndarray,
    holdout: pd.DataFrame,
    out_names: dict[str, Any],
    profile_all: Callable[[ProfileSpec], DatasetProfile] | None = None,
) -> dict[str, Any]:
    """The profile of the training data (features and target over every row) plus the model's
    outputs on the holdout (predictions of unseen rows, as production will see them).

    `profile_all`, when given, profiles every row of the training files with the spec made
    from frame (a sample of them), here or on a Dask engine."""
    from mlops.stats.profile import CATEGORICAL, NUMERIC, build_spec, profile_chunks

    kinds = {c: NUMERIC for c in cols.numeric}
    kinds.update({c: CATEGORICAL for c in cols.categorical})
    kinds[target] = CATEGORICAL if task == "classification" else NUMERIC
    data_cols = cols.features + [target]
    spec = build_spec(frame[data_cols], columns=data_cols, kinds=kinds)
    profiled = profile_all(spec) if profile_all else profile_chunks(frame[data_cols], spec)
    data_profile = profiled.to_dict()
    out_cols = [out_names["prediction"], *(out_names.get("proba") or {}).values()]
    out_cols = [c for c in out_cols if c in holdout.columns]
    out_kinds = {c: NUMERIC for c in out_cols}
    out_kinds[out_names["prediction"]] = kinds[target]
    ospec = build_spec(holdout[out_cols], columns=out_cols, kinds=out_kinds)
    output_profile = profile_chunks(holdout[out_cols], ospec).to_dict()
    return {
        "format": 1,
        "data": data_profile,
        "predictions": output_profile,
        "columns": {
            "features": cols.features,
            "target": target,
            "prediction": out_names["prediction"],
            "proba": out_names.get("proba") or {},
        },
        "rows": {"data": profiled.rows, "predictions": len(holdout)},
    }


def run_params(
    config: Config,
    est: Any,
    est_path: str,
    task: str,
    split_info: dict[str, Any],
    cols: Columns,
) -> dict[str, Any]:
    tc = config.model.train
    params: dict[str, Any] = {
        "estimator": est_path,
        "task": task,
        "random_state": tc.random_state,
        "split.method": split_info["method"],
        "split.test_size": tc.split.test_size,
        "cv": tc.cv,
        "preprocessing": "off"
        if not tc.preprocessing.enabled
        else (tc.preprocessing.transformer or "default"),
        "features": len(cols.features),
    }
    for k, v in sorted(est.get_params(deep=False).items()):
        params[f"params.{k}"] = jsonable(v) if _is_plain(v) else repr(v)
    return params


def _is_plain(v: Any) -> bool:
    import numpy as np

    return (
        v is None
        or isinstance(v, str | int | float | bool | np.generic)
        or (isinstance(v, list | tuple | dict) and len(json.dumps(jsonable(v), default=str)) < 500)
    )


def jsonable(v: Any) -> Any:
    import numpy as np

    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def json_bytes(obj: Any) -> bytes:
    return json.dumps(jsonable(obj), indent=1, sort_keys=True, default=str).encode()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()
