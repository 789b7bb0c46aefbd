"""Estimators with a Dask API (`lightgbm.DaskLGBMClassifier`, `lightgbm.DaskLGBMRegressor`, or
any whose class name starts with Dask and that has `to_local()`): fitted on the cluster, then
stored as their plain local estimator, so the model predicts, serves and packages without Dask.

The preprocessing in front of the estimator is fitted in this process on the training frame;
its output is split into one block per worker and the estimator trains on the workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from mlops.config import Config
    from mlops.lifecycle.engine import DaskEngine


def is_dask_estimator(est: Any) -> bool:
    """Whether est trains through Dask and converts to a local estimator."""
    return type(est).__name__.startswith("Dask") and callable(getattr(est, "to_local", None))


def check_dask_estimator(config: Config, est: Any, engine: DaskEngine | None) -> None:
    """Refuse a Dask estimator on the local engine, or with cross-validation, before fitting.

    Args:
        config: the project's config (errors name its keys).
        est: the unfitted estimator.
        engine: the engine of the run (None: local).

    Raises:
        ConfigError: a Dask estimator without the Dask engine, or with train.cv.
    """
    if not is_dask_estimator(est):
        return
    name = type(est).__name__
    if engine is None:
        local = name.removeprefix("Dask")
        raise config.error(
            ("train", "estimator"),
            f"{name} trains on a Dask cluster, but the engine is local",
            hint=f"run with --engine dask (or --scheduler ADDRESS), or use {local}",
        )
    if config.model.train.cv:
        raise config.error(
            ("train", "cv"),
            f"cross-validation is not available with {name} (it trains on the cluster)",
            hint="remove train.cv, or use the estimator's local class",
        )


def fit_on_cluster(
    config: Config, pipeline: Any, x: pd.DataFrame, y: pd.Series, engine: DaskEngine
) -> None:
    """Fit the pipeline's preprocessing here and its Dask estimator on the cluster, then put
    the estimator's local equivalent in the pipeline in its place.

    Args:
        config: the project's config (errors name its keys).
        pipeline: the unfitted scikit-learn Pipeline ending in a Dask estimator.
        x: the training features.
        y: the training target.
        engine: the Dask engine.

    Raises:
        ConfigError: the estimator rejects its parameters or the data.
    """
    import warnings

    import dask.array as da
    import numpy as np

    from mlops.lifecycle.train.pipeline import param_error

    name, est = pipeline.steps[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        xt = pipeline[:-1].fit_transform(x, y) if len(pipeline.steps) > 1 else x
    try:
        matrix = np.asarray(xt, dtype=float)
    except (TypeError, ValueError):
        raise config.error(
            ("train", "preprocessing"),
            f"{type(est).__name__} needs numeric features; enable train.preprocessing",
        ) from None
    block = max(1, -(-len(matrix) // max(1, engine.workers)))
    dx = da.from_array(matrix, chunks=(block, matrix.shape[1]))
    dy = da.from_array(np.asarray(y), chunks=block)
    est.set_params(client=engine.client)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            est.fit(dx, dy)
        local = est.to_local()
    except (ValueError, TypeError) as e:
        raise param_error(config, e) from None
    finally:
        est.set_params(client=None)  # the run records the parameters; a client is not one
    pipeline.steps[-1] = (name, local)
