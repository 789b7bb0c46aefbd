"""MLflow's scoring protocol beside /predict: POST /invocations (JSON formats and CSV), GET
/ping; unknown routes answer the error shape. The last test drives `mlops serve` with the real
MLflow scoring client from the mlflow virtualenv (scripts/setup_mlflow_venv.sh)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from helpers.data import features_of
from helpers.mlflow_venv import MLFLOW_PYTHON, MLFLOW_SKIP_REASON
from mlops.lifecycle.deploy import load_from_store

pytest.importorskip("fastapi", reason="the `serve` extra (fastapi) is not installed")
pytest.importorskip("httpx", reason="httpx (for FastAPI's TestClient) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from mlops.lifecycle.deploy import create_app  # noqa: E402


@pytest.fixture
def client(project):
    with project.store() as store:
        handle = load_from_store(store, store.resolve("churn"))
    with TestClient(create_app(handle)) as c:
        yield c


def _bodies(rows) -> dict[str, dict]:
    records = json.loads(rows.to_json(orient="records"))
    split = json.loads(rows.to_json(orient="split", index=False))
    columns = {c: [r[c] for r in records] for c in rows.columns}
    return {
        "dataframe_split": {"dataframe_split": split},
        "dataframe_records": {"dataframe_records": records},
        "instances-records": {"instances": records},
        "instances-rows": {"instances": split["data"]},
        "inputs-columns": {"inputs": columns},
        "inputs-records": {"inputs": records},
        "inputs-rows": {"inputs": split["data"]},
        "with-params": {"dataframe_split": split, "params": {}},
    }


def test_every_json_format_and_csv_answers_mlflows_shape(project, client):
    rows = features_of(project.batch.head(40))
    expected = project.pipeline.predict(rows).tolist()
    for name, body in _bodies(rows).items():
        r = client.post("/invocations", json=body)
        assert r.status_code == 200, (name, r.text)
        assert r.json() == {"predictions": expected}, name
    for ctype in ("text/csv", "text/csv; charset=utf-8"):
        r = client.post(
            "/invocations", content=rows.to_csv(index=False), headers={"content-type": ctype}
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"predictions": expected}


def test_ping_and_counted_rows(project, client):
    r = client.get("/ping")
    assert r.status_code == 200 and r.text == "\n"
    rows = features_of(project.batch.head(7))
    client.post("/invocations", json=_bodies(rows)["dataframe_records"])
    metrics = client.get("/metrics").text
    assert "mlops_predicted_rows_total 7.0" in metrics
    assert 'mlops_requests_total{method="POST",path="/invocations",status="200"} 1.0' in metrics


@pytest.mark.parametrize(
    ("body", "ctype", "status", "words"),
    [
        ({"dataframe_split": {}, "instances": []}, "application/json", 400, "exactly one of"),
        ({"records": []}, "application/json", 400, "exactly one of"),
        ({"instances": [], "extra": 1}, "application/json", 400, "'extra'"),
        ([1, 2], "application/json", 400, "JSON object"),
        ({"instances": "x"}, "application/json", 422, "`instances`"),
        ({"inputs": [[1, 2]]}, "application/json", 422, "2 values for"),
        ("a,b\n1,2\n", "text/csv", 422, "missing column"),
        ("", "text/csv", 400, "empty"),
        ({"instances": []}, "text/plain", 415, "application/json or text/csv"),
        ({"instances": []}, "application/json; charset=latin-1", 415, "UTF-8"),
    ],
)
def test_bad_invocations_answer_both_error_shapes(client, body, ctype, status, words):
    content = body if isinstance(body, str) else json.dumps(body)
    r = client.post("/invocations", content=content, headers={"content-type": ctype})
    assert r.status_code == status, r.text
    answer = r.json()
    assert words in answer["error"]
    assert answer["message"] == answer["error"] and answer["error_code"] == "BAD_REQUEST"


def test_unknown_routes_and_methods_answer_the_error_shape(client):
    r = client.get("/nowhere")
    assert r.status_code == 404
    assert set(r.json()) == {"error"} and "POST /invocations" in r.json()["error"]
    r = client.get("/predict")
    assert r.status_code == 405
    assert r.json()["error"].startswith("GET is not allowed on /predict")
    assert 'path="other",status="404"' in client.get("/metrics").text


MLFLOW_CLIENT = r"""
import json, sys
import numpy as np
import pandas as pd
from mlflow.pyfunc.scoring_server.client import ScoringServerClient

client = ScoringServerClient("127.0.0.1", int(sys.argv[1]))
client.wait_server_ready(timeout=120)
frame = pd.read_json(sys.argv[2], orient="split")
by_frame = client.invoke(frame).get_predictions(predictions_format="ndarray")
# a list goes as {"inputs": [...]} (its dict path iterates a dict without .items())
by_records = client.invoke(json.loads(frame.to_json(orient="records")))
print(json.dumps({
    "frame": by_frame.tolist(),
    "records": by_records.get_predictions(predictions_format="ndarray").tolist(),
}))
"""


@pytest.mark.slow
@pytest.mark.skipif(MLFLOW_PYTHON is None, reason=MLFLOW_SKIP_REASON)
def test_the_mlflow_scoring_client_talks_to_mlops_serve(project, serve_process, tmp_path):
    server = serve_process("churn", "--no-log")
    rows = features_of(project.batch.head(50))
    frame_json = tmp_path / "frame.json"
    frame_json.write_text(rows.to_json(orient="split", index=False))
    script = tmp_path / "client.py"
    script.write_text(MLFLOW_CLIENT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    r = subprocess.run(
        [str(MLFLOW_PYTHON), str(script), str(server.port), str(frame_json)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-4000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    expected = project.pipeline.predict(rows).tolist()
    assert out["frame"] == expected
    assert out["records"] == expected
