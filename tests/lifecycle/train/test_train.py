from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from helpers.data import dataset_frame
from helpers.projects import FAST_LR
from mlops.errors import ConfigError
from mlops.lifecycle.model_io import load_model
from mlops.lifecycle.train import train
from mlops.stats.profile import DatasetProfile

MODEL_FILES = {
    "model.joblib",
    "profile.json",
    "holdout.parquet",
    "importance.json",
    "model_card.md",
    "signature.json",
}


def test_binary_breast_cancer_artifact_run_and_lineage(project, store):
    config = project("breast_cancer", train=FAST_LR)
    r = train(config, store)

    assert r.task == "classification" and r.classes == [0, 1]
    assert r.metrics["roc_auc"] > 0.95 and 0 <= r.metrics["log_loss"] < 0.3
    assert set(r.metrics) == {"roc_auc", "accuracy", "f1", "precision", "recall", "log_loss"}
    art = store.resolve("proj:1", kind="model")
    assert art.id == r.model["id"] and art.kind == "model"
    assert set(art.files) == MODEL_FILES
    meta = art.metadata
    for key in (
        "task",
        "target",
        "features",
        "classes",
        "metrics",
        "estimator",
        "sklearn_version",
        "run_id",
        "config_hash",
    ):
        assert key in meta
    assert meta["run_id"] == r.run_id and meta["config_hash"] == config.hash
    # lineage: the training data is a dataset artifact and the model's parent
    (ds,) = r.datasets
    dataset = store.get(ds["id"])
    assert dataset.kind == "dataset" and dataset.name == "proj-train"
    assert art.parents == [dataset.id]

    sig = store.read_json(art, "signature.json")
    assert [c["name"] for c in sig["inputs"]] == meta["features"]
    assert sig["target"] == "target" and sig["classes"] == [0, 1] and sig["positive_class"] == 1
    assert sig["outputs"]["prediction"] == "prediction"

    prof = store.read_json(art, "profile.json")
    data_profile = DatasetProfile.from_dict(prof["data"])
    assert data_profile.rows == 569
    assert set(data_profile.columns) == set(meta["features"]) | {"target"}
    preds = DatasetProfile.from_dict(prof["predictions"])
    assert "prediction" in preds.columns and "proba_1" in preds.columns

    hold = pd.read_parquet(io.BytesIO(store.read_file(art, "holdout.parquet")))
    assert len(hold) == r.rows["holdout"] == 114
    assert {"target", "prediction", "proba_0", "proba_1"} <= set(hold.columns)
    assert np.allclose(hold["proba_0"] + hold["proba_1"], 1.0)

    imp = store.read_json(art, "importance.json")
    assert imp["rows"] == 114 and len(imp["features"]) == 30
    card = store.read_file(art, "model_card.md").decode()
    assert "roc_auc" in card and r.run_id in card

    run = store.get_run(r.run_id)
    assert run["status"] == "succeeded" and run["step"] == "train"
    assert run["metrics"]["roc_auc"] == pytest.approx(r.metrics["roc_auc"])
    assert run["params"]["params.max_iter"] == 2000
    assert run["params"]["estimator"] == "sklearn.linear_model.LogisticRegression"
    assert {"numpy", "pandas", "scikit-learn"} <= set(run["info"]["packages"])
    assert run["config_hash"] == config.hash and run["duration_s"] > 0
    roles = {a["role"] for a in run["artifacts"]}
    assert roles == {"input", "output"}

    loaded = load_model(store, "proj")
    assert loaded.warnings == []
    pred, proba = loaded.predict(dataset_frame("breast_cancer").head(5))
    assert pred.shape == (5,) and proba.shape == (5, 2)


def test_same_config_data_and_seed_give_same_metrics(project, store):
    config = project(
        "breast_cancer",
        train={
            "estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
            "params": {"max_iter": 30},
            "cv": 3,
        },
    )
    a = train(config, store)
    b = train(config, store)
    assert a.metrics == b.metrics
    assert a.cv == b.cv
    assert [d["feature"] for d in a.importance] == [d["feature"] for d in b.importance]
    assert a.datasets == b.datasets  # unchanged data: the same dataset artifact, not a new version
    assert a.model["version"] == 1 and b.model["version"] == 2


def test_multiclass_wine_uses_macro_f1_and_ovr_auc(project, store):
    r = train(project("wine", train={**FAST_LR, "cv": 3}), store)
    assert r.classes == [0, 1, 2]
    assert set(r.metrics) == {"accuracy", "f1", "roc_auc", "log_loss"}
    assert r.metrics["roc_auc"] > 0.95 and r.metrics["f1"] > 0.85
    assert set(r.cv) == set(r.metrics)
    assert all(s["folds"] == 3 and s["std"] >= 0 for s in r.cv.values())
    run = store.get_run(r.run_id)
    assert "cv_f1_mean" in run["metrics"] and "cv_f1_std" in run["metrics"]


def test_regression_diabetes(project, store):
    r = train(project("diabetes", train={"estimator": "sklearn.linear_model.Ridge"}), store)
    assert r.task == "regression" and r.classes is None
    assert set(r.metrics) == {"rmse", "mae", "r2"}
    assert 0.2 < r.metrics["r2"] < 0.7 and r.metrics["rmse"] > 0
    assert r.split["method"] == "random"


def test_string_labels_categoricals_and_missing_values(project, store):
    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "x": rng.normal(size=n),
            "color": rng.choice(["red", "green", "blue"], n),
            "flag": rng.random(n) < 0.5,
        }
    )
    df.loc[rng.random(n) < 0.05, "x"] = np.nan
    df.loc[rng.random(n) < 0.05, "color"] = None
    df["target"] = np.where((df["x"].fillna(0) > 0) ^ (df["color"] == "red"), "yes", "no")
    config = project(
        df,
        train={"positive_class": "yes", **FAST_LR},
        data={"train": "data/train.csv", "id_column": "id"},
    )
    r = train(config, store)
    assert r.features == ["x", "color", "flag"]  # id excluded
    assert r.classes == ["no", "yes"]
    sig = store.read_json(store.resolve("proj"), "signature.json")
    kinds = {c["name"]: c["kind"] for c in sig["inputs"]}
    assert kinds == {"x": "numeric", "color": "categorical", "flag": "categorical"}
    assert sig["positive_class"] == "yes"
    # unseen category at predict time is ignored, not an error
    loaded = load_model(store, "proj")
    pred, _ = loaded.predict(pd.DataFrame({"x": [0.3], "color": ["purple"], "flag": [True]}))
    assert pred[0] in ("yes", "no")


def test_time_split_trains_on_the_past(project, store):
    frame = dataset_frame("breast_cancer")
    frame["day"] = pd.date_range("2026-01-01", periods=len(frame), freq="D").strftime("%Y-%m-%d")
    frame = frame.sample(frac=1.0, random_state=0)
    config = project(frame, train={**FAST_LR, "split": {"method": "time", "time_column": "day"}})
    r = train(config, store)
    assert "day" not in r.features
    hold = pd.read_parquet(io.BytesIO(store.read_file(store.resolve("proj"), "holdout.parquet")))
    assert r.split["method"] == "time"
    assert hold["day"].min() == r.split["cutoff"]
    assert hold["day"].min() > sorted(frame["day"])[len(frame) - len(hold) - 1]


def test_preprocessing_can_be_disabled(project, store):
    r = train(
        project(
            "wine",
            train={
                "estimator": "sklearn.ensemble.RandomForestClassifier",
                "params": {"n_estimators": 20},
                "preprocessing": False,
            },
        ),
        store,
    )
    loaded = load_model(store, r.model["id"])
    assert [name for name, _ in loaded.pipeline.steps] == ["model"]


def test_importance_is_bounded_and_can_be_disabled(project, store):
    r = train(project("breast_cancer", train={**FAST_LR, "importance": False}), store)
    assert r.importance == []
    assert store.read_json(store.resolve("proj"), "importance.json")["features"] == []


def test_dataset_ref_as_training_data(project, store, tmp_path):
    config = project("wine", train=FAST_LR)
    first = train(config, store)
    ref = f"dataset:{first.datasets[0]['name']}:1"
    config2 = project("wine", train=FAST_LR, data={"train": [ref]})
    second = train(config2, store)
    assert second.datasets == first.datasets
    assert second.metrics == first.metrics


@pytest.mark.parametrize(
    ("train_cfg", "frame_edit", "key", "words"),
    [
        (
            {"estimator": "sklearn.linear_model.NoSuchModel"},
            None,
            "train.estimator",
            "has no class",
        ),
        ({"estimator": "nosuchpkg.Model"}, None, "train.estimator", "cannot import"),
        ({"estimator": "NotAnEstimatorName"}, None, "train.estimator", "not a scikit-learn"),
        (
            {"estimator": "sklearn.tree.DecisionTreeClassifier", "params": {"max_depht": 3}},
            None,
            "train.params.max_depht",
            "did you mean",
        ),
        (
            {"estimator": "sklearn.tree.DecisionTreeClassifier", "params": {"max_depth": -1}},
            None,
            "train.params.max_depth",
            "rejects",
        ),
        ({"target": "nope"}, None, "train.target", "not in the training data"),
        ({}, "single_class", "train.target", "single class"),
        ({"task": "regression"}, "text_target", "train.task", "not numeric"),
        ({"metrics": ["rmse"]}, None, "train.metrics.0", "regression metric"),
        ({"metrics": ["auroc"]}, None, "train.metrics.0", "unknown metric"),
        ({"features": ["mean radius", "ghost"]}, None, "train.features.1", "not in the training"),
        ({"estimator": "sklearn.linear_model.Ridge"}, None, "train.estimator", "regressor"),
    ],
)
def test_bad_input_is_a_positioned_config_error(project, store, train_cfg, frame_edit, key, words):
    frame = dataset_frame("breast_cancer")
    if frame_edit == "single_class":
        frame["target"] = 1
    elif frame_edit == "text_target":
        frame["target"] = np.where(frame["target"] == 1, "benign", "malignant")
    config = project(frame, train=train_cfg)
    with pytest.raises(ConfigError) as info:
        train(config, store)
    msg = info.value.message
    assert msg.split(":")[0].endswith("mlops.yaml") and f": {key}: " in msg, msg
    assert words in msg + (info.value.hint or ""), msg
    line, col = msg.split(":")[1:3]
    assert int(line) > 1 and int(col) >= 1
    assert "\n" not in msg
    # the failed attempt is recorded as a failed run
    (run,) = store.list_runs(step="train")
    assert run["status"] == "failed" and run["info"]["error"] == msg


def test_missing_training_data_names_the_key(tmp_path, store):
    from mlops.config import load_config

    (tmp_path / "mlops.yaml").write_text(
        "project: p\ndata:\n  id_column: id\ntrain:\n  target: y\n"
    )
    with pytest.raises(ConfigError, match=r"mlops\.yaml:\d+:\d+: data\.train: no training data"):
        train(load_config(tmp_path / "mlops.yaml"), store)


def test_run_params_are_json(project, store):
    r = train(project("wine", train=FAST_LR), store)
    run = store.get_run(r.run_id)
    json.dumps(run)
    assert run["params"]["split.method"] == "stratified"
