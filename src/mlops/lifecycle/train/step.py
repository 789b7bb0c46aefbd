"""`train`: fit the pipeline declared in mlops.yaml, score the holdout, record a run and store
one `model` artifact (see `lifecycle/model_io.py` for its files). Nothing here prints.

The parts live beside it: `data` (reading data.train), `columns` (features, target, task,
metrics), `pipeline` (estimator and preprocessing), `split` (holdout and CV), `importance`,
`artifact` (the stored files) and `model_card`."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops import __version__
from mlops.jsonable import fields_dict
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
from mlops.lifecycle.runs import fail_run_on_error
from mlops.lifecycle.train.artifact import (
    add_outputs,
    json_bytes,
    jsonable,
    model_signature,
    output_names,
    parquet_bytes,
    reference_profile,
    run_params,
)
from mlops.lifecycle.train.columns import (
    choose_metrics,
    positive_class,
    prepare_target,
    require_target,
    select_columns,
)
from mlops.lifecycle.train.dask_fit import check_dask_estimator, fit_on_cluster, is_dask_estimator
from mlops.lifecycle.train.data import load_training_data
from mlops.lifecycle.train.importance import holdout_importance
from mlops.lifecycle.train.model_card import model_card
from mlops.lifecycle.train.pipeline import build_pipeline, fit_pipeline, make_estimator, predict
from mlops.lifecycle.train.split import cross_validate, split_rows

if TYPE_CHECKING:
    import pandas as pd

    from mlops.config import Config
    from mlops.lifecycle.engine import DaskEngine
    from mlops.lifecycle.train.columns import Columns
    from mlops.lifecycle.train.data import TrainingData
    from mlops.stats.profile import DatasetProfile, ProfileSpec
    from mlops.store import Store

Progress = Callable[[str], None]


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
        return fields_dict(self)


def train(
    config: Config,
    store: Store,
    command: str | None = None,
    progress: Progress | None = None,
    engine: DaskEngine | None = None,
    store_data: bool = False,
) -> TrainResult:
    """Fit the declared pipeline, score the holdout, record a `train` run and store the model.

    Args:
        config: the project's config; its `train:` section says what to fit.
        store: where the datasets, the run and the `model` artifact are recorded.
        command: the command line, recorded with the run.
        progress: called with a short message as each stage starts.
        engine: a Dask engine for the training sample (`train.sample_rows`) and the reference
            profile of every row of the training files (None: this process). Fitting stays
            in this process.
        store_data: also copy training files read from object storage into the store (they
            are always recorded by URL, size and ETag/version).

    Returns:
        The result: the model artifact, its metrics, the run id, timings and warnings.

    Raises:
        ConfigError: the `train:` section cannot be applied to the data (unknown column, bad
            estimator or params); the message names the key.
        InputError: the training data cannot be read or is empty.
    """
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
    with fail_run_on_error(store, run_id):
        result = _train(
            config, store, run_id, command, git_commit, say, timings, t0, engine, store_data
        )
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
    engine: DaskEngine | None = None,
    store_data: bool = False,
) -> TrainResult:
    # long: the training steps in order, each a call; splitting further would only pass state
    warnings_: list[str] = []
    lap = _Laps(timings)
    target = require_target(config)
    say("reading training data")
    td = load_training_data(config, store, command, engine, store_data)
    for ds in td.datasets:
        store.link_run(run_id, ds.id, "input")
    lap("read")
    p = _prepare(config, td.frame, target, warnings_)
    check_dask_estimator(config, p.est, engine)
    lap("prepare")
    cv = _cross_validate(config, p, say, lap)
    pred, proba, scores = _fit_and_score(config, p, say, lap, engine)
    importance = _importance(config, p, lap)
    say("profiling and storing")
    holdout, profile, out_names = _holdout_profile(p, target, pred, proba, td, engine)
    lap("profile")
    params = run_params(config, p.est, p.est_path, p.task, p.split, p.cols)
    metadata = _metadata(config, p, target, scores, cv, params, run_id, git_commit, td)
    files = _model_files(
        config, p, metadata, holdout, profile, out_names, importance, td, warnings_
    )
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
    store.log_metrics(run_id, _flat_metrics(scores, cv))
    lap("store")
    return TrainResult(
        run_id=run_id,
        model=art.summary(),
        datasets=[{"id": d.id, "name": d.name, "version": d.version} for d in td.datasets],
        task=p.task,
        target=target,
        estimator=p.est_path,
        features=p.cols.features,
        classes=p.classes,
        metrics=scores,
        cv=cv,
        rows=metadata["rows"],
        split=p.split,
        importance=importance["features"],
        params=params,
        config_hash=config.hash,
        git_commit=git_commit,
        duration_s=round(time.perf_counter() - t0, 4),
        timings=timings,
        warnings=warnings_,
    )


def _cross_validate(
    config: Config, p: _Prepared, say: Progress, lap: _Laps
) -> dict[str, dict[str, float | None]] | None:
    """Per metric, its mean and std over train.cv folds of the fit rows (None without cv)."""
    folds = config.model.train.cv
    if not folds:
        return None
    say(f"cross-validating ({folds} folds)")
    cv = cross_validate(
        config,
        p.pipeline,
        p.x_fit,
        p.y_fit,
        p.task,
        p.split["method"],
        p.names,
        p.classes,
        p.pos_label,
    )
    lap("cv")
    return cv


def _fit_and_score(
    config: Config, p: _Prepared, say: Progress, lap: _Laps, engine: DaskEngine | None
) -> tuple[Any, Any, dict[str, float | None]]:
    """Fit the pipeline (a Dask estimator on the cluster); its predictions, probabilities and
    scores on the holdout. A fitted classifier's own classes replace those read from the data."""
    say(f"fitting {p.est_path.rsplit('.', 1)[-1]} on {len(p.fit_idx)} rows")
    if engine is not None and is_dask_estimator(p.est):
        fit_on_cluster(config, p.pipeline, p.x_fit, p.y_fit, engine)
    else:
        fit_pipeline(config, p.pipeline, p.x_fit, p.y_fit)
    lap("fit")
    model_classes = jsonable(list(getattr(p.pipeline, "classes_", []))) or None
    if p.task == "classification" and model_classes is not None:
        p.classes = model_classes
    pred, proba = predict(p.pipeline, p.x_hold, p.task)
    scores = M.compute(p.names, p.y_hold, pred, proba, p.classes, p.pos_label)
    lap("score")
    return pred, proba, scores


def _importance(config: Config, p: _Prepared, lap: _Laps) -> dict[str, Any]:
    importance = holdout_importance(
        config,
        p.pipeline,
        p.x_hold,
        p.y_hold,
        p.task,
        p.names,
        p.n_classes,
        p.classes,
        p.pos_label,
    )
    if config.model.train.importance.enabled:
        lap("importance")
    return importance


def _holdout_profile(
    p: _Prepared,
    target: str,
    pred: Any,
    proba: Any,
    td: TrainingData,
    engine: DaskEngine | None,
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """The holdout rows with the model's outputs, the reference profile, the output names.
    When training on a sample, or on the Dask engine, the profile reads every row of the
    training files again (chunked, or per file on the workers)."""
    from mlops.lifecycle.train.sample import profile_files

    out_names = output_names(p.cols.features + [target], p.task, p.classes)
    holdout = p.frame.iloc[p.hold_idx].reset_index(drop=True)
    add_outputs(holdout, pred, proba, out_names)
    profile_all = None
    if td.paths and td.csv is not None and (td.all_rows is not None or engine is not None):
        paths, csv = td.paths, td.csv

        def profile_all(spec: ProfileSpec) -> DatasetProfile:
            return profile_files(paths, spec, csv, engine)

    profile = reference_profile(
        p.frame, p.cols, target, p.task, p.fit_idx, p.hold_idx, holdout, out_names, profile_all
    )
    return holdout, profile, out_names


def _model_files(
    config: Config,
    p: _Prepared,
    metadata: dict[str, Any],
    holdout: pd.DataFrame,
    profile: dict[str, Any],
    out_names: dict[str, Any],
    importance: dict[str, Any],
    td: TrainingData,
    warnings_: list[str],
) -> dict[str, Any]:
    """The model artifact's files (see model_io)."""
    signature = model_signature(
        config, p.frame, p.cols, p.task, p.classes, p.pos_label, out_names, p.est_path
    )
    card = model_card(config, metadata, importance["features"], td.datasets, warnings_)
    return {
        MODEL_FILE: dump_model(p.pipeline),
        SIGNATURE_FILE: json_bytes(signature),
        PROFILE_FILE: json_bytes(profile),
        HOLDOUT_FILE: parquet_bytes(holdout),
        IMPORTANCE_FILE: json_bytes(importance),
        CARD_FILE: card.encode(),
    }


class _Laps:
    """Seconds per stage into timings: each call closes the stage that began at the last one."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.since = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.since, 4)
        self.since = now


@dataclass
class _Prepared:
    """The training frame, its columns and task, the unfitted pipeline and the row split."""

    frame: pd.DataFrame
    task: str
    classes: list[Any] | None
    cols: Columns
    names: list[str]  # metrics
    pos_label: Any
    est: Any
    est_path: str
    pipeline: Any
    fit_idx: Any
    hold_idx: Any
    split: dict[str, Any]
    x_fit: pd.DataFrame
    y_fit: pd.Series
    x_hold: pd.DataFrame
    y_hold: pd.Series
    n_classes: int  # in the training data (classes may change to the fitted model's)


def _prepare(config: Config, frame: pd.DataFrame, target: str, warnings_: list[str]) -> _Prepared:
    tc = config.model.train
    frame, task, classes = prepare_target(config, frame, warnings_)
    cols = select_columns(config, frame)
    names = choose_metrics(config, task, len(classes or []))
    pos_label = positive_class(tc, classes)
    est, est_path = make_estimator(config, task)
    pipeline = build_pipeline(config, est, cols)
    fit_idx, hold_idx, split_info = split_rows(config, frame, task)
    x_all = frame[cols.features]
    y_all = frame[target]
    x_fit, y_fit = x_all.iloc[fit_idx], y_all.iloc[fit_idx]
    x_hold, y_hold = x_all.iloc[hold_idx], y_all.iloc[hold_idx]
    if task == "classification":
        unseen = sorted(set(y_hold.unique()) - set(y_fit.unique()), key=str)
        if unseen:
            warnings_.append(
                f"class(es) {unseen[:5]} appear only in the holdout; the model never saw them"
            )
    return _Prepared(
        frame,
        task,
        classes,
        cols,
        names,
        pos_label,
        est,
        est_path,
        pipeline,
        fit_idx,
        hold_idx,
        split_info,
        x_fit,
        y_fit,
        x_hold,
        y_hold,
        len(classes or []),
    )


def _metadata(
    config: Config,
    p: _Prepared,
    target: str,
    scores: dict[str, float | None],
    cv: dict[str, dict[str, float | None]] | None,
    params: dict[str, Any],
    run_id: str,
    git_commit: str | None,
    td: TrainingData,
) -> dict[str, Any]:
    """The model artifact's metadata."""
    import sklearn

    return {
        "task": p.task,
        "target": target,
        "features": p.cols.features,
        "classes": p.classes,
        "metrics": dict(scores),
        "cv": cv,
        "estimator": p.est_path,
        "params": params,
        "sklearn_version": sklearn.__version__,
        "mlops_version": __version__,
        "run_id": run_id,
        "config_hash": config.hash,
        "git_commit": git_commit,
        "rows": {"total": len(p.frame), "train": len(p.fit_idx), "holdout": len(p.hold_idx)}
        | ({"sampled_from": td.all_rows} if td.all_rows is not None else {}),
        "split": p.split,
        "datasets": [d.id for d in td.datasets],
    }


def _flat_metrics(
    scores: dict[str, float | None], cv: dict[str, dict[str, float | None]] | None
) -> dict[str, float | None]:
    """The holdout scores, and each CV metric's mean and std, as run metrics."""
    flat = dict(scores)
    for n, s in (cv or {}).items():
        flat[f"cv_{n}_mean"] = s["mean"]
        flat[f"cv_{n}_std"] = s["std"]
    return flat


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
