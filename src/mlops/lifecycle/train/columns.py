"""What a model is trained on: the feature columns (numeric or categorical), the target, the
task it implies, the positive class and the metrics to score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops.lifecycle import metrics as M

if TYPE_CHECKING:
    import pandas as pd

    from mlops.config import Config
    from mlops.config.train import TrainConfig

MAX_CLASSES_INFERRED = 20


@dataclass
class Columns:
    features: list[str]
    numeric: list[str]
    categorical: list[str]


def select_columns(config: Config, frame: pd.DataFrame) -> Columns:
    import pandas as pd

    tc = config.model.train
    data = config.model.data
    cols = [str(c) for c in frame.columns]
    target = tc.target
    assert target is not None
    if tc.features is not None:
        for i, c in enumerate(tc.features):
            if c not in cols:
                raise config.error(
                    ("train", "features", i),
                    f"column {c!r} is not in the training data",
                    hint=_known(cols),
                )
            if c == target:
                raise config.error(("train", "features", i), "the target cannot be a feature")
        features = list(tc.features)
    else:
        skip = {target, data.id_column, data.time_column, *tc.exclude}
        if tc.split.time_column:
            skip.add(tc.split.time_column)
        features = [c for c in cols if c not in skip]
    if not features:
        raise config.error(
            ("train", "features") if tc.features is not None else ("train", "target"),
            "no feature columns are left (all columns are target, id, time or excluded)",
        )
    pp = tc.preprocessing
    for key, listed in (
        ("numeric_columns", pp.numeric_columns),
        ("categorical_columns", pp.categorical_columns),
    ):
        for i, c in enumerate(listed or []):
            if c not in features:
                raise config.error(
                    ("train", "preprocessing", key, i), f"{c!r} is not one of the features"
                )
    numeric: list[str] = []
    categorical: list[str] = []
    for c in features:
        if pp.numeric_columns is not None and c in pp.numeric_columns:
            numeric.append(c)
        elif (pp.categorical_columns is not None and c in pp.categorical_columns) or (
            pd.api.types.is_bool_dtype(frame[c]) or not pd.api.types.is_numeric_dtype(frame[c])
        ):
            categorical.append(c)
        else:
            numeric.append(c)
    return Columns(features, numeric, categorical)


def _known(cols: list[str]) -> str:
    shown = ", ".join(cols[:15]) + (" ..." if len(cols) > 15 else "")
    return f"columns in the data: {shown}"


def require_target(config: Config) -> str:
    target = config.model.train.target
    if target is None:
        raise config.error(
            ("train",),
            "train.target is required: name the column to predict",
            hint="train: {target: COLUMN}",
        )
    return target


def infer_task(y: pd.Series) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y):
        return "classification"
    values = y.dropna()
    if pd.api.types.is_float_dtype(values) and not (values == values.round()).all():
        return "regression"
    return "classification" if values.nunique() <= MAX_CLASSES_INFERRED else "regression"


def prepare_target(
    config: Config, frame: pd.DataFrame, warnings_: list[str]
) -> tuple[pd.DataFrame, str, list[Any] | None]:
    """Check the target column; drop rows without a target; return (frame, task, classes)."""
    import numpy as np
    import pandas as pd

    tc = config.model.train
    target = require_target(config)
    if target not in frame.columns:
        raise config.error(
            ("train", "target"),
            f"column {target!r} is not in the training data",
            hint=_known([str(c) for c in frame.columns]),
        )
    missing = int(frame[target].isna().sum())
    if missing:
        frame = frame[frame[target].notna()].reset_index(drop=True)
        warnings_.append(f"dropped {missing} row(s) with no value in target {target!r}")
        if len(frame) == 0:
            raise config.error(("train", "target"), f"column {target!r} has no values")
    y = frame[target]
    task = tc.task or infer_task(y)
    if task == "regression":
        numeric = pd.to_numeric(y, errors="coerce") if not pd.api.types.is_bool_dtype(y) else None
        if numeric is None or numeric.isna().any():
            bad = y[numeric.isna()].iloc[0] if numeric is not None else y.iloc[0]
            key = ("train", "task") if tc.task else ("train", "target")
            raise config.error(
                key,
                f"task is regression but target {target!r} is not numeric (e.g. {bad!r})",
                hint="set task: classification, or choose a numeric target",
            )
        frame = frame.copy()
        frame[target] = numeric.astype(float)
        return frame, task, None
    classes = sorted(pd.unique(y).tolist(), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise config.error(
            ("train", "target"),
            f"target {target!r} has a single class ({classes[0]!r}); a classifier needs two or more",
            hint="check the data, or use task: regression for a numeric target",
        )
    classes = [v.item() if isinstance(v, np.generic) else v for v in classes]
    if tc.positive_class is not None:
        if len(classes) != 2:
            raise config.error(
                ("train", "positive_class"), "positive_class applies to binary targets only"
            )
        if not any(_same_class(c, tc.positive_class) for c in classes):
            raise config.error(
                ("train", "positive_class"),
                f"{tc.positive_class!r} is not a class of {target!r} (classes: {classes})",
            )
    return frame, task, classes


def choose_metrics(config: Config, task: str, n_classes: int) -> list[str]:
    tc = config.model.train
    if tc.metrics is None:
        return M.default_metrics(task, n_classes)
    for i, name in enumerate(tc.metrics):
        problem = M.check_metric(name, task, n_classes)
        if problem:
            raise config.error(("train", "metrics", i), problem)
    if not tc.metrics:
        raise config.error(("train", "metrics"), "list at least one metric")
    return list(dict.fromkeys(tc.metrics))


def positive_class(tc: TrainConfig, classes: list[Any] | None) -> Any:
    if not classes or len(classes) != 2:
        return None
    if tc.positive_class is not None:
        for c in classes:
            if _same_class(c, tc.positive_class):
                return c
    return classes[1]


def _same_class(value: Any, configured: Any) -> bool:
    """A class named in mlops.yaml matches by value or by its text (YAML `1` vs label '1')."""
    return value == configured or str(value) == str(configured)
