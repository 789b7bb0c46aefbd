"""Helpers for package/predict/serve tests: a real fitted scikit-learn Pipeline stored as a `model`
artifact in the layout `mlops train` writes (model.joblib, signature.json, profile.json,
model_card.md, holdout.parquet, importance.json + metadata)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops.examples.churn import generate_month
from mlops.store import Artifact, Store

SRC = Path(__file__).resolve().parents[2] / "src"

NUMERIC = {
    "tenure_months": "int",
    "monthly_charges": "float",
    "total_charges": "float",
    "support_calls": "int",
    "usage_gb": "float",
    "age": "int",
}
CATEGORICAL = {
    "contract": "string",
    "payment_method": "string",
    "region": "string",
    "has_partner": "bool",
}
FEATURES = {**NUMERIC, **CATEGORICAL}


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


def churn_frames(n_train: int = 800, n_batch: int = 300) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)
    train = generate_month(0, n_train, rng, 100_000)
    batch = generate_month(5, n_batch, rng, 200_000)
    return train, batch


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


def features_of(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[list(FEATURES)]


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    full_env.pop("MLOPS_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "mlops", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def invoke_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> CliResult:
    """The CLI in this process (Typer's CliRunner): fast, same exit codes and streams."""
    from typer.testing import CliRunner

    from mlops.cli.app import app

    old = os.getcwd()
    os.chdir(cwd)
    try:
        res = CliRunner().invoke(app, list(args), env={"MLOPS_STORE": None, **(env or {})})
    finally:
        os.chdir(old)
    return CliResult(res.exit_code, res.stdout, res.stderr)


# -- the real mlflow, in its own virtualenv (scripts/setup_mlflow_venv.sh) --------------------
def _mlflow_python() -> Path | None:
    explicit = os.environ.get("MLOPS_MLFLOW_PYTHON")
    if explicit:
        return Path(explicit)
    repo = Path(__file__).resolve().parents[2]
    venv = Path(os.environ.get("MLOPS_MLFLOW_VENV", repo / ".venv-mlflow"))
    candidate = venv / "bin" / "python"
    return candidate if candidate.exists() else None


MLFLOW_PYTHON = _mlflow_python()
MLFLOW_SKIP_REASON = (
    "no mlflow virtualenv: run scripts/setup_mlflow_venv.sh "
    "(or set MLOPS_MLFLOW_PYTHON to a python that has mlflow installed)"
)

SCRIPT = r"""
import json, sys
import pandas as pd
import mlflow.pyfunc

model = mlflow.pyfunc.load_model(sys.argv[1])
frame = pd.read_json(sys.argv[2], orient="split")
pred = model.predict(frame)
meta = model.metadata
print(json.dumps({
    "predictions": [p.item() if hasattr(p, "item") else p for p in list(pred)],
    "loader": meta.flavors["python_function"]["loader_module"],
    "signature_inputs": [c.name for c in meta.signature.inputs.inputs],
    "mlops_model_id": meta.metadata["mlops_model_id"],
}))
"""


def mlflow_predict(model_dir: Path, rows: pd.DataFrame, tmp: Path) -> dict[str, Any]:
    """Load model_dir with mlflow.pyfunc.load_model in the mlflow venv; predict rows."""
    assert MLFLOW_PYTHON is not None
    frame_json = tmp / "mlflow-frame.json"
    frame_json.write_text(rows.to_json(orient="split", index=False))
    script = tmp / "mlflow-load.py"
    script.write_text(SCRIPT)
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    r = subprocess.run(
        [str(MLFLOW_PYTHON), str(script), str(model_dir), str(frame_json)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(r.stdout.strip().splitlines()[-1])
