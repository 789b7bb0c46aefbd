"""The real chain: `mlops train` on the churn example, then package, predict --log, serve, mlflow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from helpers.cli import invoke_cli
from helpers.mlflow_venv import MLFLOW_PYTHON, mlflow_predict
from mlops.lifecycle.model_io import load_model
from mlops.store import Store


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    r = invoke_cli("init", "--example", "churn", "churn", cwd=base)
    assert r.returncode == 0, r.stderr
    root = base / "churn"
    r = invoke_cli("train", "--json", cwd=root)
    assert r.returncode == 0, r.stderr
    return root


@pytest.mark.slow
def test_train_package_predict_log(trained, tmp_path):
    root = trained
    r = invoke_cli("package", "churn", "-o", str(tmp_path / "dist"), "--json", cwd=root)
    assert r.returncode == 0, r.stderr
    pkg = json.loads(r.stdout)
    batch = root / "data" / "batches" / "2026-06.csv"
    out = tmp_path / "scores.parquet"
    r = invoke_cli(
        "predict", pkg["archive"], "-i", str(batch), "-o", str(out), "--log", "--json", cwd=root
    )
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["id_column"] == "customer_id"

    frame = pd.read_csv(batch)
    with Store.open(root / ".mlops") as store:
        model = load_model(store, "churn")
    pred, proba = model.predict(frame)
    got = pd.read_parquet(out)
    assert got["customer_id"].tolist() == frame["customer_id"].tolist()
    np.testing.assert_array_equal(got["prediction"].to_numpy(), pred)
    classes = model.classes
    np.testing.assert_allclose(
        got[[f"proba_{c}" for c in classes]].to_numpy(), proba, rtol=0, atol=1e-12
    )

    log = pq.read_table(result["log_file"]).to_pandas()
    assert (root / "predictions") in Path(result["log_file"]).parents
    assert list(log.columns[: len(model.features)]) == model.features
    np.testing.assert_array_equal(log["_prediction"].to_numpy(), pred)

    if MLFLOW_PYTHON is not None:
        mf = mlflow_predict(pkg["directory"], frame[model.features].head(200), tmp_path)
        np.testing.assert_array_equal(mf["predictions"], pred[:200])


@pytest.mark.slow
def test_trained_model_served(trained):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from mlops.lifecycle.deploy import create_app, load_from_store

    frame = pd.read_csv(trained / "data" / "batches" / "2026-06.csv").head(20)
    with Store.open(trained / ".mlops") as store:
        handle = load_from_store(store, store.resolve("churn", kind="model"))
        expected, _ = load_model(store, "churn").predict(frame)
    records = json.loads(frame.to_json(orient="records"))
    with TestClient(create_app(handle)) as client:
        r = client.post("/predict", json={"records": records})
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == expected.tolist()
