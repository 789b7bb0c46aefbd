"""The scikit-learn pipeline: the estimator named in mlops.yaml (imported, its params checked),
the preprocessing in front of it, and fitting and predicting with config errors that name the
offending key."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlops.config import Config
    from mlops.config.train import CategoricalPreprocessing, NumericPreprocessing
    from mlops.errors import ConfigError
    from mlops.lifecycle.train.columns import Columns

DEFAULT_ESTIMATORS = {
    "classification": "sklearn.ensemble.HistGradientBoostingClassifier",
    "regression": "sklearn.ensemble.HistGradientBoostingRegressor",
}


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
    from mlops.lifecycle.train.class_lookup import find_module_spec, may_hold

    module_name, _, cls_name = path.rpartition(".")
    spec = find_module_spec(module_name)
    if spec is None:
        raise config.error(
            keys,
            f"cannot import module {module_name!r} (no module named {module_name!r})",
            hint="check the spelling, or install the package that provides it",
        )
    if not may_hold(spec, cls_name):  # checked before its top-level code runs
        raise config.error(keys, f"module {module_name!r} has no class {cls_name!r}")
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
    if validate is None or not hasattr(est, "_parameter_constraints"):
        return  # not a scikit-learn estimator with declared constraints (e.g. lightgbm's)
    try:
        validate()
    except (ValueError, TypeError) as e:
        raise param_error(config, e) from None


def param_error(config: Config, e: BaseException) -> ConfigError:
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
    from sklearn.compose import ColumnTransformer
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
    parts = []
    if cols.numeric:
        parts.append(("num", _numeric_steps(pp.numeric), cols.numeric))
    if cols.categorical:
        parts.append(("cat", _categorical_steps(pp.categorical), cols.categorical))
    pre = ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)
    return Pipeline([("preprocess", pre), ("model", est)])


def _numeric_steps(num: NumericPreprocessing) -> Any:
    """Imputation and scaling of the numeric columns ("passthrough" when neither is asked)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    steps: list[tuple[str, Any]] = []
    if num.impute != "none":
        steps.append(("impute", SimpleImputer(strategy=num.impute)))
    scaler = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}.get(
        num.scale
    )
    if scaler is not None:
        steps.append(("scale", scaler()))
    return Pipeline(steps) if steps else "passthrough"


def _categorical_steps(cat: CategoricalPreprocessing) -> Any:
    """Imputation and encoding of the categorical columns ("passthrough" when neither)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    steps: list[tuple[str, Any]] = []
    if cat.impute == "constant":
        steps.append(("impute", SimpleImputer(strategy="constant", fill_value="missing")))
    elif cat.impute == "most_frequent":
        steps.append(("impute", SimpleImputer(strategy="most_frequent")))
    if cat.encode == "onehot":
        grouped = cat.max_categories is not None or cat.min_frequency is not None
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist" if grouped else "ignore",
            max_categories=cat.max_categories,
            min_frequency=cat.min_frequency,
            sparse_output=False,
        )
        steps.append(("encode", encoder))
    elif cat.encode == "ordinal":
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
        )
        steps.append(("encode", encoder))
    return Pipeline(steps) if steps else "passthrough"


def predict(pipeline: Any, x: pd.DataFrame, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels (the estimator's own) and, for a classifier that has them, class probabilities:
    one pass over x where the labels follow from the probabilities (deploy.scoring)."""
    if task == "classification" and hasattr(pipeline, "predict_proba") and len(x):
        from mlops.lifecycle.deploy.scoring import predict_with_proba

        try:
            return predict_with_proba(pipeline, x)
        except (AttributeError, NotImplementedError):
            pass
    return pipeline.predict(x), None


def fit_pipeline(config: Config, pipeline: Any, x: pd.DataFrame, y: pd.Series) -> None:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            pipeline.fit(x, y)
    except (ValueError, TypeError) as e:
        raise param_error(config, e) from None
