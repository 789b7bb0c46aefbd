"""`train`: fit the pipeline declared in mlops.yaml, score the holdout, record a run and store
one `model` artifact (see `model_io` for its files). Nothing here prints."""

from __future__ import annotations

import importlib
import io
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops import __version__
from mlops.errors import ConfigError, MlopsError
from mlops.lifecycle import metrics as M
from mlops.lifecycle.model_io import (
    CARD_FILE,
    HOLDOUT_FILE,
    IMPORTANCE_FILE,
    MODEL_FILE,
    MODEL_KIND,
    PROFILE_FILE,
    SIGNATURE_FILE,
    dump_model,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlops.config import Config
    from mlops.config.train import TrainConfig
    from mlops.store import Store
    from mlops.store.artifact import Artifact

Progress = Callable[[str], None]

DEFAULT_ESTIMATORS = {
    "classification": "sklearn.ensemble.HistGradientBoostingClassifier",
    "regression": "sklearn.ensemble.HistGradientBoostingRegressor",
}
PREDICTION = "prediction"
PROBA_PREFIX = "proba_"
MAX_CLASSES_INFERRED = 20


@dataclass
class TrainResult:
    run_id: str
    model: dict[str, Any]
    datasets: list[dict[str, Any]]
    task: str
    target: str
    estimator: str
    features: list[str]
    classes: list[Any] | None
    metrics: dict[str, float | None]
    cv: dict[str, dict[str, float | None]] | None
    rows: dict[str, int]
    split: dict[str, Any]
    importance: list[dict[str, Any]]
    params: dict[str, Any]
    config_hash: str
    git_commit: str | None
    duration_s: float
    timings: dict[str, float]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- data -------------------------------------------------------------------------------------
@dataclass
class TrainingData:
    frame: pd.DataFrame
    datasets: list[Artifact]


def load_training_data(config: Config, store: Store, command: str | None = None) -> TrainingData:
    """Read data.train (paths, globs, directories, or `dataset:NAME[:VERSION|@ALIAS]` refs) and
    record the files as a `dataset` artifact (unchanged files are not re-hashed)."""
    import pandas as pd

    from mlops.data.readers import CsvOptions, expand_paths, read_frame

    data = config.model.data
    if not data.train:
        raise config.error(
            ("data", "train"),
            "no training data; list files, globs or a dataset:NAME ref",
            hint="e.g. data: {train: data/train.csv}",
        )
    csv = CsvOptions(delimiter=data.delimiter, encoding=data.encoding)
    frames: list[pd.DataFrame] = []
    datasets: list[Artifact] = []
    paths: list[Path] = []
    specs: list[str] = []
    for i, spec in enumerate(data.train):
        if spec.startswith("dataset:"):
            ref = spec.removeprefix("dataset:")
            try:
                art = store.resolve(ref, kind="dataset")
            except MlopsError as e:
                raise config.error(("data", "train", i), e.message, hint=e.hint) from None
            with tempfile.TemporaryDirectory(prefix="mlops-data-") as tmp:
                store.export(art, Path(tmp))
                files = expand_paths([tmp])
                frames.append(read_frame(files, csv_options=csv))
            datasets.append(art)
        else:
            specs.append(spec)
    if specs:
        paths = expand_paths(specs, base=config.base_dir)
        frame = read_frame(paths, csv_options=csv)
        frames.append(frame)
        name = config.model.train.dataset_name or f"{config.model.project}-train"
        files = _relative_names(paths, config.base_dir)
        meta = {
            "source": specs,
            "rows": len(frame),
            "columns": [str(c) for c in frame.columns],
        }
        datasets.append(store.add_artifact("dataset", name, files, metadata=meta, command=command))
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(frame) == 0:
        raise config.error(("data", "train"), "the training data has no rows")
    return TrainingData(frame.reset_index(drop=True), datasets)


def _relative_names(paths: list[Path], base: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    base = base.resolve()
    for p in paths:
        rp = p.resolve()
        name = rp.relative_to(base).as_posix() if rp.is_relative_to(base) else rp.name
        while name in out:
            name = "_" + name
        out[name] = p
    return out


# -- columns and task ---------------------------------------------------------------------------
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
    target = tc.target
    if target is None:
        raise config.error(
            ("train",),
            "train.target is required: name the column to predict",
            hint="train: {target: COLUMN}",
        )
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
        match = [c for c in classes if c == tc.positive_class or str(c) == str(tc.positive_class)]
        if not match:
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


# -- estimator and pipeline -------------------------------------------------------------------
def import_class(config: Config, path: str, keys: tuple[str | int, ...]) -> type:
    if "." not in path:
        from sklearn.utils import all_estimators

        found = {n: c for n, c in all_estimators()}
        if path in found:
            return found[path]
        raise config.error(
            keys,
            f"{path!r} is not a scikit-learn estimator name; give an import path such as "
            "sklearn.linear_model.LogisticRegression",
        )
    module_name, _, cls_name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise config.error(
            keys,
            f"cannot import module {module_name!r} ({e.msg if hasattr(e, 'msg') else e})",
            hint="check the spelling, or install the package that provides it",
        ) from None
    cls = getattr(module, cls_name, None)
    if cls is None or not isinstance(cls, type):
        raise config.error(keys, f"module {module_name!r} has no class {cls_name!r}")
    return cls


def make_estimator(config: Config, task: str) -> tuple[Any, str]:
    from sklearn.base import is_classifier, is_regressor

    tc = config.model.train
    path = tc.estimator or DEFAULT_ESTIMATORS[task]
    cls = import_class(config, path, ("train", "estimator"))
    if not (hasattr(cls, "fit") and hasattr(cls, "predict")):
        raise config.error(
            ("train", "estimator"), f"{path!r} has no fit/predict; it is not an estimator"
        )
    try:
        est = cls()
    except TypeError as e:
        raise config.error(("train", "estimator"), f"{path} cannot be created: {e}") from None
    valid = est.get_params(deep=False) if hasattr(est, "get_params") else {}
    for key in tc.params:
        if key not in valid:
            import difflib

            close = difflib.get_close_matches(key, list(valid), n=1)
            raise config.error(
                ("train", "params", key),
                f"{cls.__name__} has no parameter {key!r}",
                hint=f"did you mean {close[0]!r}?"
                if close
                else f"its parameters: {', '.join(valid)}",
            )
    params = dict(tc.params)
    if "random_state" in valid and "random_state" not in params:
        params["random_state"] = tc.random_state
    est.set_params(**params)
    _validate_params(config, est)
    if task == "classification" and is_regressor(est):
        raise config.error(
            ("train", "estimator"), f"{cls.__name__} is a regressor but the task is classification"
        )
    if task == "regression" and is_classifier(est):
        raise config.error(
            ("train", "estimator"), f"{cls.__name__} is a classifier but the task is regression"
        )
    return est, path if "." in path else f"{cls.__module__.split('._')[0]}.{cls.__name__}"


def _validate_params(config: Config, est: Any) -> None:
    """Check parameter values before fitting (scikit-learn's own constraints)."""
    validate = getattr(est, "_validate_params", None)
    if validate is None:
        return
    try:
        validate()
    except (ValueError, TypeError) as e:
        raise _param_error(config, e) from None


def _param_error(config: Config, e: BaseException) -> ConfigError:
    import re

    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    params = config.model.train.params
    m = re.search(r"The '([A-Za-z0-9_]+)' parameter", msg)
    if m and m.group(1) in params:
        key: tuple[str | int, ...] = ("train", "params", m.group(1))
    else:
        named = [p for p in params if re.search(rf"\b{re.escape(p)}\b", msg)]
        if not named:
            return config.error(
                ("train", "estimator"), f"fitting the estimator failed: {msg.rstrip('.')}"
            )
        key = ("train", "params", named[0])
    return config.error(key, f"the estimator rejects its parameters: {msg.rstrip('.')}")


def build_pipeline(config: Config, est: Any, cols: Columns) -> Any:
    from sklearn.pipeline import Pipeline

    pp = config.model.train.preprocessing
    if not pp.enabled:
        return Pipeline([("model", est)])
    if pp.transformer:
        cls = import_class(config, pp.transformer, ("train", "preprocessing", "transformer"))
        try:
            transformer = cls(**pp.transformer_params)
        except (TypeError, ValueError) as e:
            raise config.error(
                ("train", "preprocessing", "transformer_params"),
                f"{cls.__name__} rejects them: {e}",
            ) from None
        return Pipeline([("preprocess", transformer), ("model", est)])
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import (
        MinMaxScaler,
        OneHotEncoder,
        OrdinalEncoder,
        RobustScaler,
        StandardScaler,
    )

    parts = []
    if cols.numeric:
        steps: list[tuple[str, Any]] = []
        if pp.numeric.impute != "none":
            steps.append(("impute", SimpleImputer(strategy=pp.numeric.impute)))
        scaler = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}.get(
            pp.numeric.scale
        )
        if scaler is not None:
            steps.append(("scale", scaler()))
        parts.append(("num", Pipeline(steps) if steps else "passthrough", cols.numeric))
    if cols.categorical:
        cat = pp.categorical
        steps = []
        if cat.impute == "constant":
            steps.append(("impute", SimpleImputer(strategy="constant", fill_value="missing")))
        elif cat.impute == "most_frequent":
            steps.append(("impute", SimpleImputer(strategy="most_frequent")))
        if cat.encode == "onehot":
            grouped = cat.max_categories is not None or cat.min_frequency is not None
            steps.append(
                (
                    "encode",
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist" if grouped else "ignore",
                        max_categories=cat.max_categories,
                        min_frequency=cat.min_frequency,
                        sparse_output=False,
                    ),
                )
            )
        elif cat.encode == "ordinal":
            steps.append(
                (
                    "encode",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=-1,
                        encoded_missing_value=-1,
                    ),
                )
            )
        parts.append(("cat", Pipeline(steps) if steps else "passthrough", cols.categorical))
    pre = ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)
    return Pipeline([("preprocess", pre), ("model", est)])


# -- split --------------------------------------------------------------------------------------
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


# -- scoring ------------------------------------------------------------------------------------
def predict(pipeline: Any, x: pd.DataFrame, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    pred = pipeline.predict(x)
    proba = None
    if task == "classification" and hasattr(pipeline, "predict_proba"):
        try:
            proba = pipeline.predict_proba(x)
        except (AttributeError, NotImplementedError):
            proba = None
    return pred, proba


def _fit(config: Config, pipeline: Any, x: pd.DataFrame, y: pd.Series) -> None:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            pipeline.fit(x, y)
    except (ValueError, TypeError) as e:
        raise _param_error(config, e) from None


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
        _fit(config, model, x.iloc[tr], y.iloc[tr])
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
    copies = []
    for c in cols:
        for _ in range(repeats):
            xc = x.copy()
            xc[c] = x[c].to_numpy()[rng.permutation(n)]
            copies.append(xc)
    big = pd.concat(copies, ignore_index=True)
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
            lo = (i * repeats + r) * n
            sl = slice(lo, lo + n)
            v = M.compute(
                [metric],
                y,
                pred_all[sl],
                None if proba_all is None else proba_all[sl],
                classes,
                pos_label,
            )[metric]
            if v is not None:
                drops.append(sign * (base - v))
        out.append(
            {
                "feature": c,
                "importance": float(np.mean(drops)) if drops else None,
                "std": float(np.std(drops)) if drops else None,
            }
        )
    out.sort(key=lambda d: -(d["importance"] if d["importance"] is not None else -math.inf))
    return out


# -- the step -----------------------------------------------------------------------------------
def train(
    config: Config,
    store: Store,
    command: str | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Fit, score the holdout, record a `train` run and store the `model` artifact."""
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    tc = config.model.train
    git_commit = _git_commit(config.base_dir)
    run_id = store.start_run(
        step="train",
        name=config.model.project,
        config_hash=config.hash,
        command=command,
        git_commit=git_commit,
        info={"packages": package_versions(tc.estimator)},
    )
    try:
        result = _train(config, store, run_id, command, git_commit, say, timings, t0)
    except BaseException as e:
        store.finish_run(
            run_id,
            status="failed",
            info={"error": getattr(e, "message", None) or f"{type(e).__name__}: {e}"},
        )
        raise
    store.finish_run(run_id, info={"timings": timings, "duration_s": result.duration_s})
    return result


def _train(
    config: Config,
    store: Store,
    run_id: str,
    command: str | None,
    git_commit: str | None,
    say: Progress,
    timings: dict[str, float],
    t0: float,
) -> TrainResult:
    import sklearn

    tc = config.model.train
    warnings_: list[str] = []

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 4)
        return now

    if tc.target is None:
        raise config.error(
            ("train",),
            "train.target is required: name the column to predict",
            hint="train: {target: COLUMN}",
        )
    say("reading training data")
    t = time.perf_counter()
    td = load_training_data(config, store, command=command)
    for ds in td.datasets:
        store.link_run(run_id, ds.id, "input")
    t = lap("read", t)
    frame, task, classes = prepare_target(config, td.frame, warnings_)
    cols = select_columns(config, frame)
    n_classes = len(classes or [])
    names = choose_metrics(config, task, n_classes)
    pos_label = _positive(tc, classes)
    est, est_path = make_estimator(config, task)
    pipeline = build_pipeline(config, est, cols)
    fit_idx, hold_idx, split_info = split_rows(config, frame, task)
    x_all = frame[cols.features]
    y_all = frame[tc.target]
    x_fit, y_fit = x_all.iloc[fit_idx], y_all.iloc[fit_idx]
    x_hold, y_hold = x_all.iloc[hold_idx], y_all.iloc[hold_idx]
    if task == "classification":
        unseen = sorted(set(y_hold.unique()) - set(y_fit.unique()), key=str)
        if unseen:
            warnings_.append(
                f"class(es) {unseen[:5]} appear only in the holdout; the model never saw them"
            )
    t = lap("prepare", t)
    cv = None
    if tc.cv:
        say(f"cross-validating ({tc.cv} folds)")
        cv = cross_validate(
            config, pipeline, x_fit, y_fit, task, split_info["method"], names, classes, pos_label
        )
        t = lap("cv", t)
    say(f"fitting {est_path.rsplit('.', 1)[-1]} on {len(fit_idx)} rows")
    _fit(config, pipeline, x_fit, y_fit)
    t = lap("fit", t)
    model_classes = _jsonable(list(getattr(pipeline, "classes_", []))) or None
    if task == "classification" and model_classes is not None:
        classes = model_classes
    pred, proba = predict(pipeline, x_hold, task)
    scores = M.compute(names, y_hold, pred, proba, classes, pos_label)
    t = lap("score", t)
    importance: list[dict[str, Any]] = []
    imp_rows = min(
        len(hold_idx),
        tc.importance.max_rows,
        max(50, tc.importance.max_predict_rows // (len(cols.features) * tc.importance.repeats)),
    )
    if tc.importance.enabled:
        metric = tc.importance.metric or names[0]
        problem = M.check_metric(metric, task, n_classes)
        if problem:
            raise config.error(("train", "importance", "metric"), problem)
        importance = permutation_importance(
            pipeline,
            x_hold,
            y_hold,
            task,
            metric,
            classes,
            pos_label,
            imp_rows,
            tc.importance.repeats,
            tc.random_state,
            tc.importance.max_predict_rows,
        )
        t = lap("importance", t)
    say("profiling and storing")
    out_names = _output_names(cols.features + [tc.target], task, classes)
    holdout = frame.iloc[hold_idx].reset_index(drop=True)
    _add_outputs(holdout, pred, proba, out_names)
    profile = _reference_profile(
        frame, cols, tc.target, task, fit_idx, hold_idx, holdout, out_names
    )
    t = lap("profile", t)

    params = _run_params(config, est, est_path, task, split_info, cols)
    signature = {
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
        "target": tc.target,
        "target_dtype": str(frame[tc.target].dtype),
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
    flat_metrics = dict(scores)
    if cv:
        for n, s in cv.items():
            flat_metrics[f"cv_{n}_mean"] = s["mean"]
            flat_metrics[f"cv_{n}_std"] = s["std"]
    rows = {"total": len(frame), "train": len(fit_idx), "holdout": len(hold_idx)}
    metadata = {
        "task": task,
        "target": tc.target,
        "features": cols.features,
        "classes": classes,
        "metrics": {k: v for k, v in scores.items()},
        "cv": cv,
        "estimator": est_path,
        "params": params,
        "sklearn_version": sklearn.__version__,
        "mlops_version": __version__,
        "run_id": run_id,
        "config_hash": config.hash,
        "git_commit": git_commit,
        "rows": rows,
        "split": split_info,
        "datasets": [d.id for d in td.datasets],
    }
    card = model_card(config, metadata, importance, td.datasets, warnings_)
    files: dict[str, Any] = {
        MODEL_FILE: dump_model(pipeline),
        SIGNATURE_FILE: _json_bytes(signature),
        PROFILE_FILE: _json_bytes(profile),
        HOLDOUT_FILE: _parquet_bytes(holdout),
        IMPORTANCE_FILE: _json_bytes(
            {
                "metric": tc.importance.metric or names[0],
                "rows": imp_rows if importance else 0,
                "repeats": tc.importance.repeats,
                "features": importance,
            }
        ),
        CARD_FILE: card.encode(),
    }
    art = store.add_artifact(
        MODEL_KIND,
        config.model.project,
        files,
        metadata=metadata,
        parents=[d.id for d in td.datasets],
        run_id=run_id,
        command=command,
    )
    store.log_params(run_id, params)
    store.log_metrics(run_id, {k: v for k, v in flat_metrics.items()})
    t = lap("store", t)
    duration = round(time.perf_counter() - t0, 4)
    return TrainResult(
        run_id=run_id,
        model={"id": art.id, "name": art.name, "version": art.version, "label": art.label},
        datasets=[{"id": d.id, "name": d.name, "version": d.version} for d in td.datasets],
        task=task,
        target=tc.target,
        estimator=est_path,
        features=cols.features,
        classes=classes,
        metrics=scores,
        cv=cv,
        rows=rows,
        split=split_info,
        importance=importance,
        params=params,
        config_hash=config.hash,
        git_commit=git_commit,
        duration_s=duration,
        timings=timings,
        warnings=warnings_,
    )


def _positive(tc: TrainConfig, classes: list[Any] | None) -> Any:
    if not classes or len(classes) != 2:
        return None
    if tc.positive_class is not None:
        for c in classes:
            if c == tc.positive_class or str(c) == str(tc.positive_class):
                return c
    return classes[1]


def _output_names(taken: list[str], task: str, classes: list[Any] | None) -> dict[str, Any]:
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


def _add_outputs(
    frame: pd.DataFrame, pred: np.ndarray, proba: np.ndarray | None, names: dict[str, Any]
) -> None:
    frame[names["prediction"]] = pred
    if proba is not None and names.get("proba"):
        for j, col in enumerate(names["proba"].values()):
            if j < proba.shape[1]:
                frame[col] = proba[:, j]


def _reference_profile(
    frame: pd.DataFrame,
    cols: Columns,
    target: str,
    task: str,
    fit_idx: np.ndarray,
    hold_idx: np.ndarray,
    holdout: pd.DataFrame,
    out_names: dict[str, Any],
) -> dict[str, Any]:
    """The profile of the training data (features and target over every row) plus the model's
    outputs on the holdout (predictions of unseen rows, as production will see them)."""
    from mlops.stats.profile import CATEGORICAL, NUMERIC, build_spec, profile_chunks

    kinds = {c: NUMERIC for c in cols.numeric}
    kinds.update({c: CATEGORICAL for c in cols.categorical})
    kinds[target] = CATEGORICAL if task == "classification" else NUMERIC
    data_cols = cols.features + [target]
    spec = build_spec(frame[data_cols], columns=data_cols, kinds=kinds)
    data_profile = profile_chunks(frame[data_cols], spec).to_dict()
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
        "rows": {"data": len(frame), "predictions": len(holdout)},
    }


def _run_params(
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
        params[f"params.{k}"] = _jsonable(v) if _is_plain(v) else repr(v)
    return params


def _is_plain(v: Any) -> bool:
    import numpy as np

    return (
        v is None
        or isinstance(v, str | int | float | bool | np.generic)
        or (isinstance(v, list | tuple | dict) and len(json.dumps(_jsonable(v), default=str)) < 500)
    )


def _jsonable(v: Any) -> Any:
    import numpy as np

    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(_jsonable(obj), indent=1, sort_keys=True, default=str).encode()


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def model_card(
    config: Config,
    meta: dict[str, Any],
    importance: list[dict[str, Any]],
    datasets: list[Artifact],
    warnings_: list[str],
) -> str:
    lines = [
        f"# Model card: {config.model.project}",
        "",
        f"- task: {meta['task']} (target `{meta['target']}`)",
        f"- estimator: `{meta['estimator']}` (scikit-learn {meta['sklearn_version']})",
        f"- rows: {meta['rows']['train']} for fitting, {meta['rows']['holdout']} held out "
        f"({meta['split']['method']} split)",
    ]
    if meta.get("classes"):
        lines.append(f"- classes: {', '.join(map(str, meta['classes']))}")
    lines += ["", "## Data", ""]
    for d in datasets:
        lines.append(f"- dataset `{d.name}:{d.version}` ({d.id[:12]})")
    lines.append(
        f"- features ({len(meta['features'])}): " + ", ".join(f"`{f}`" for f in meta["features"])
    )
    lines += ["", "## Holdout metrics", "", "| metric | value |", "|---|---|"]
    for k, v in meta["metrics"].items():
        lines.append(f"| {k} | {'n/a' if v is None else f'{v:.4f}'} |")
    if meta.get("cv"):
        lines += ["", "## Cross-validation", "", "| metric | mean | std |", "|---|---|---|"]
        for k, s in meta["cv"].items():
            mean = "n/a" if s["mean"] is None else f"{s['mean']:.4f}"
            std = "n/a" if s["std"] is None else f"{s['std']:.4f}"
            lines.append(f"| {k} | {mean} | {std} |")
    if importance:
        lines += ["", "## Permutation importance (holdout sample)", ""]
        for d in importance[:10]:
            v = d["importance"]
            lines.append(f"- `{d['feature']}`: {'n/a' if v is None else f'{v:.4f}'}")
    lines += ["", "## Parameters", ""]
    for k, v in meta["params"].items():
        lines.append(f"- {k}: `{v}`")
    lines += [
        "",
        "## Lineage",
        "",
        f"- run: {meta['run_id']}",
        f"- config hash: {meta['config_hash'][:16]}",
        f"- git commit: {meta['git_commit'] or '(not a git repository)'}",
        f"- mlops {meta['mlops_version']}",
    ]
    if warnings_:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in warnings_]
    return "\n".join(lines) + "\n"


def _git_commit(directory: Path) -> str | None:
    try:
        r = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = r.stdout.strip()
    return sha if r.returncode == 0 and len(sha) >= 40 else None


def package_versions(estimator: str | None = None) -> dict[str, str]:
    from importlib import metadata

    names = ["numpy", "pandas", "scipy", "scikit-learn", "joblib", "pyarrow"]
    if estimator and "." in estimator:
        top = estimator.split(".", 1)[0]
        if top not in ("sklearn", "mlops"):
            names.append(top)
    out = {"python": sys.version.split()[0], "mlops": __version__}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            continue
    return out
