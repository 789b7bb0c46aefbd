"""`train`: fit the pipeline declared in mlops.yaml, score the holdout, record a run and store
one `model` artifact (see `model_io` for its files). Nothing here prints.

The parts live beside it: `train_data` (reading data.train), `train_columns` (features, target,
task, metrics), `train_pipeline` (estimator and preprocessing), `train_split` (holdout and CV),
`train_importance`, `train_artifact` (the stored files) and `model_card`."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops import __version__
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
from mlops.lifecycle.train.data import load_training_data
from mlops.lifecycle.train.importance import holdout_importance
from mlops.lifecycle.train.model_card import model_card
from mlops.lifecycle.train.pipeline import build_pipeline, fit_pipeline, make_estimator, predict
from mlops.lifecycle.train.split import cross_validate, split_rows

if TYPE_CHECKING:
    from mlops.config import Config
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
        return asdict(self)


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
    with fail_run_on_error(store, run_id):
        result = _train(config, store, run_id, command, git_commit, say, timings, t0)
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

    target = require_target(config)
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
    t = lap("prepare", t)
    cv = None
    if tc.cv:
        say(f"cross-validating ({tc.cv} folds)")
        cv = cross_validate(
            config, pipeline, x_fit, y_fit, task, split_info["method"], names, classes, pos_label
        )
        t = lap("cv", t)
    say(f"fitting {est_path.rsplit('.', 1)[-1]} on {len(fit_idx)} rows")
    fit_pipeline(config, pipeline, x_fit, y_fit)
    t = lap("fit", t)
    model_classes = jsonable(list(getattr(pipeline, "classes_", []))) or None
    if task == "classification" and model_classes is not None:
        classes = model_classes
    pred, proba = predict(pipeline, x_hold, task)
    scores = M.compute(names, y_hold, pred, proba, classes, pos_label)
    t = lap("score", t)
    importance = holdout_importance(
        config, pipeline, x_hold, y_hold, task, names, n_classes, classes, pos_label
    )
    if tc.importance.enabled:
        t = lap("importance", t)
    say("profiling and storing")
    out_names = output_names(cols.features + [target], task, classes)
    holdout = frame.iloc[hold_idx].reset_index(drop=True)
    add_outputs(holdout, pred, proba, out_names)
    profile = reference_profile(frame, cols, target, task, fit_idx, hold_idx, holdout, out_names)
    t = lap("profile", t)

    params = run_params(config, est, est_path, task, split_info, cols)
    signature = model_signature(config, frame, cols, task, classes, pos_label, out_names, est_path)
    flat_metrics = dict(scores)
    if cv:
        for n, s in cv.items():
            flat_metrics[f"cv_{n}_mean"] = s["mean"]
            flat_metrics[f"cv_{n}_std"] = s["std"]
    rows = {"total": len(frame), "train": len(fit_idx), "holdout": len(hold_idx)}
    metadata = {
        "task": task,
        "target": target,
        "features": cols.features,
        "classes": classes,
        "metrics": dict(scores),
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
    card = model_card(config, metadata, importance["features"], td.datasets, warnings_)
    files: dict[str, Any] = {
        MODEL_FILE: dump_model(pipeline),
        SIGNATURE_FILE: json_bytes(signature),
        PROFILE_FILE: json_bytes(profile),
        HOLDOUT_FILE: parquet_bytes(holdout),
        IMPORTANCE_FILE: json_bytes(importance),
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
    store.log_metrics(run_id, flat_metrics)
    t = lap("store", t)
    duration = round(time.perf_counter() - t0, 4)
    return TrainResult(
        run_id=run_id,
        model=art.summary(),
        datasets=[{"id": d.id, "name": d.name, "version": d.version} for d in td.datasets],
        task=task,
        target=target,
        estimator=est_path,
        features=cols.features,
        classes=classes,
        metrics=scores,
        cv=cv,
        rows=rows,
        split=split_info,
        importance=importance["features"],
        params=params,
        config_hash=config.hash,
        git_commit=git_commit,
        duration_s=duration,
        timings=timings,
        warnings=warnings_,
    )


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
