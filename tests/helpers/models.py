"""A real fitted scikit-learn Pipeline stored as a `model` artifact in the layout `mlops train`
writes (model.joblib, signature.json, profile.json, model_card.md, holdout.parquet,
importance.json + metadata), and the project the deploy tests build around it."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from helpers.data import CATEGORICAL, FEATURES, NUMERIC
from mlops.store import Artifact, Store


@dataclass
class Project:
    root: Path
    store_path: Path
    model: Artifact
    pipeline: Any
    train: pd.DataFrame
    batch: pd.DataFrame
    batch_csv: Path

    def store(self) -> Store:
        return Store.open(self.store_path)


_FITTED: dict[tuple[int, str], bytes] = {}


def fit_pipeline(train: pd.DataFrame, task: str = "classification") -> Pipeline:
    """Fitted once per session and data (joblib bytes cached); each caller gets its own copy."""
    key = (len(train), task)
    if key not in _FITTED:
        buf = io.BytesIO()
        joblib.dump(_fit(train, task), buf)
        _FITTED[key] = buf.getvalue()
    return joblib.load(io.BytesIO(_FITTED[key]))


def _fit(train: pd.DataFrame, task: str) -> Pipeline:
    num = list(NUMERIC)
    cat = list(CATEGORICAL)
    pre = ColumnTransformer(
        [
            (
                "num",
                Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]),
                num,
            ),
            ("cat", OneHotEncoder(handle_unknown="ignore"), cat),
        ]
    )
    if task == "classification":
        model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000))])
        model.fit(train[num + cat], train["churned"])
    else:
        model = Pipeline([("pre", pre), ("reg", Ridge())])
        model.fit(train[num + cat], train["churned"].astype(float) * 10)
    return model


def add_model(
    store: Store, train: pd.DataFrame, task: str = "classification"
) -> tuple[Artifact, Any]:
    pipeline = fit_pipeline(train, task)
    buf = io.BytesIO()
    joblib.dump(pipeline, buf)
    classes = [int(c) for c in pipeline.classes_] if task == "classification" else []
    signature = {
        "columns": [{"name": k, "dtype": v} for k, v in FEATURES.items()],
        "task": task,
        "target": "churned",
        "classes": classes,
        "id_column": "customer_id",
    }
    holdout = io.BytesIO()
    train.head(50).to_parquet(holdout, index=False)
    data_art = store.add_artifact(
        "dataset", "churn-train", files={"train.csv": train.to_csv(index=False).encode()}
    )
    run_id = store.start_run("train", name="churn")
    art = store.add_artifact(
        "model",
        "churn" if task == "classification" else "churn-reg",
        files={
            "model.joblib": buf.getvalue(),
            "signature.json": json.dumps(signature).encode(),
            "profile.json": json.dumps({"columns": {}}).encode(),
            "model_card.md": b"# churn\n\nA test model.\n",
            "holdout.parquet": holdout.getvalue(),
            "importance.json": json.dumps({"tenure_months": 0.3}).encode(),
        },
        metadata={
            "task": task,
            "target": "churned",
            "features": list(FEATURES),
            "classes": classes,
            "metrics": {"accuracy": 0.8} if classes else {"rmse": 1.0},
            "estimator": type(pipeline.steps[-1][1]).__name__,
            "sklearn_version": __import__("sklearn").__version__,
            "run_id": run_id,
        },
        parents=[data_art.id],
        run_id=run_id,
    )
    store.finish_run(run_id)
    return art, pipeline
