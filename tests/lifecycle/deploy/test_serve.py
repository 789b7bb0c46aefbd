"""The HTTP API: in process with FastAPI's TestClient, and `mlops serve` on a real socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from helpers.cli import SRC
from helpers.data import features_of

pytest.importorskip("fastapi", reason="the `serve` extra (fastapi) is not installed")
pytest.importorskip("httpx", reason="httpx (for FastAPI's TestClient) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from mlops.lifecycle.deploy import (  # noqa: E402  # noqa: E402
    build_package,
    create_app,
    frame_from_body,
    load_from_store,
    open_package,
)
from mlops.lifecycle.deploy.serve import LATENCY_BUCKETS, Metrics  # noqa: E402


@pytest.fixture
def handle(project):
    with project.store() as store:
        return load_from_store(store, store.resolve("churn"))


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def test_health_metadata_and_predict_records(project, handle):
    rows = project.batch.head(25)
    with TestClient(create_app(handle)) as client:
        assert client.get("/health").json()["status"] == "ok"
        meta = client.get("/metadata").json()
        assert meta["model_id"] == project.model.id
        assert [c["name"] for c in meta["inputs"]][:3] == [
            "tenure_months",
            "monthly_charges",
            "total_charges",
        ]
        r = client.post("/predict", json={"records": _records(rows)})
        assert r.status_code == 200, r.text
        body = r.json()
    expected = project.pipeline.predict(features_of(rows))
    assert body["predictions"] == expected.tolist()
    proba = project.pipeline.predict_proba(features_of(rows))
    got = np.array([[p["0"], p["1"]] for p in body["probabilities"]])
    np.testing.assert_allclose(got, proba, atol=1e-12)
    assert body["model_id"] == project.model.id


def test_predict_columns_and_mlflow_split(project, handle):
    rows = features_of(project.batch.head(5))
    cols = {c: json.loads(rows[c].to_json(orient="values")) for c in rows.columns}
    split = json.loads(rows.to_json(orient="split", index=False))
    with TestClient(create_app(handle)) as client:
        a = client.post("/predict", json={"columns": cols}).json()["predictions"]
        b = client.post("/predict", json={"dataframe_split": split}).json()["predictions"]
    assert a == b == project.pipeline.predict(rows).tolist()


def test_schema_errors_are_422_naming_the_field(project, handle):
    rows = _records(project.batch.head(3))
    for row in rows:
        del row["region"]
    bad_value = _records(project.batch.head(3))
    bad_value[1]["tenure_months"] = "long"
    with TestClient(create_app(handle)) as client:
        r = client.post("/predict", json={"records": rows})
        assert r.status_code == 422
        assert r.json()["field"] == "region" and "region" in r.json()["error"]
        r = client.post("/predict", json={"records": bad_value})
        assert r.status_code == 422
        assert r.json()["field"] == "tenure_months" and "row 1" in r.json()["error"]
        r = client.post("/predict", json={"rows": []})
        assert r.status_code == 422


def test_oversized_body_is_413_and_wrong_type_415(project, handle):
    with TestClient(create_app(handle, max_body_bytes=2000)) as client:
        big = {"records": _records(project.batch.head(200))}
        r = client.post("/predict", json=big)
        assert r.status_code == 413
        r = client.post(
            "/predict", content=b"x" * 5000, headers={"content-type": "application/json"}
        )
        assert r.status_code == 413
        r = client.post(
            "/predict",
            content=b"\x80\x04K\x01.",
            headers={"content-type": "application/octet-stream"},
        )
        assert r.status_code == 415
        r = client.post(
            "/predict", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 400


def test_chunked_body_without_length_is_capped(project, handle):
    def gen():
        for _ in range(10):
            yield b" " * 1000

    with TestClient(create_app(handle, max_body_bytes=4000)) as client:
        r = client.post("/predict", content=gen(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def _families(text: str) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_are_prometheus_text(project, handle):
    with TestClient(create_app(handle)) as client:
        client.post("/predict", json={"records": _records(project.batch.head(4))})
        client.post("/predict", json={"records": [{"age": 1}]})
        response = client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    fams = _families(response.text)
    assert {n: f.type for n, f in fams.items()} == {
        "mlops_model_info": "gauge",
        "mlops_requests": "counter",
        "mlops_request_errors": "counter",
        "mlops_predicted_rows": "counter",
        "mlops_predict_latency_seconds": "histogram",
    }
    assert "# TYPE mlops_requests_total counter" in response.text  # names as before
    assert "_created" not in response.text
    (info,) = fams["mlops_model_info"].samples
    assert info.labels == {"model_id": handle.model_id, "name": "churn", "version": "1"}
    requests = {
        (s.labels["path"], s.labels["method"], s.labels["status"]): s.value
        for s in fams["mlops_requests"].samples
    }
    assert requests == {("/predict", "POST", "200"): 1, ("/predict", "POST", "422"): 1}
    (err,) = fams["mlops_request_errors"].samples
    assert (err.name, err.labels, err.value) == (
        "mlops_request_errors_total",
        {"path": "/predict", "kind": "client"},
        1,
    )
    (rows,) = fams["mlops_predicted_rows"].samples
    assert (rows.name, rows.value) == ("mlops_predicted_rows_total", 4)
    hist = {
        (s.name, s.labels.get("le")): s.value for s in fams["mlops_predict_latency_seconds"].samples
    }
    les = [le for (name, le) in hist if name.endswith("_bucket")]
    assert les == [str(b) for b in LATENCY_BUCKETS] + ["+Inf"]
    assert hist[("mlops_predict_latency_seconds_bucket", "+Inf")] == 2
    assert hist[("mlops_predict_latency_seconds_count", None)] == 2


def test_metrics_label_values_round_trip(handle):
    odd = 'a"b\\c\nd'
    metrics = Metrics(handle)
    metrics.observe(odd, "POST", 500, 0.2, rows=3)
    fams = _families(metrics.render().decode())
    (req,) = fams["mlops_requests"].samples
    assert req.labels == {"path": odd, "method": "POST", "status": "500"}
    (err,) = fams["mlops_request_errors"].samples
    assert err.labels == {"path": odd, "kind": "server"}
    assert fams["mlops_predicted_rows"].samples[0].value == 0  # only /predict counts rows


def test_host_header_allow_list(project, handle):
    app = create_app(handle, allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        assert client.get("/health").status_code == 200
        assert client.get("/health", headers={"host": "evil.example:8080"}).status_code == 400
        assert client.get("/health", headers={"host": "localhost:8080"}).status_code == 200


def test_traversal_paths_are_404(project, handle):
    with TestClient(create_app(handle)) as client:
        for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/docs", "/openapi.json"):
            assert client.get(path).status_code == 404


def test_served_predictions_are_logged(project, tmp_path):
    with project.store() as store:
        pkg = build_package(store, "churn", tmp_path / "dist")
        handle = open_package(pkg.archive, store)
    log_dir = tmp_path / "predictions"
    rows = project.batch.head(30)
    with TestClient(create_app(handle, log_dir=log_dir, flush_rows=20)) as client:
        for start in (0, 10, 20):
            r = client.post("/predict", json={"records": _records(rows.iloc[start : start + 10])})
            assert r.status_code == 200
    files = sorted(log_dir.rglob("*.parquet"))
    assert len(files) == 2  # one flush at 20 rows, one at shutdown
    df = pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    assert len(df) == 30
    assert df["_source"].unique().tolist() == ["serve"]
    assert df["_batch_id"].nunique() == 3
    assert df["_id"].tolist() == [str(v) for v in rows["customer_id"]]
    assert df["_model_id"].unique().tolist() == [project.model.id]
    np.testing.assert_array_equal(df["_prediction"], project.pipeline.predict(features_of(rows)))


def test_frame_from_body_rejects_ragged_columns():
    from mlops.lifecycle.deploy import RequestError

    with pytest.raises(RequestError) as e:
        frame_from_body({"columns": {"a": [1, 2], "b": [1]}}, ["a", "b"])
    assert e.value.status == 422


def test_serve_cli_without_extra_message(project, cli, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_fastapi(name, *args, **kwargs):
        if name in ("fastapi", "uvicorn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fastapi)
    r = cli("serve", "churn", cwd=project.root)
    assert r.returncode == 2 and "mlops[serve]" in r.stderr


def _listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


def test_serve_on_a_busy_port_exits_2_before_claiming_to_serve(project, subprocess_cli):
    with _listening_socket() as busy:
        port = busy.getsockname()[1]
        r = subprocess_cli("serve", "churn", "--port", str(port), "--no-log", cwd=project.root)
    assert r.returncode == 2, r.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in r.stderr
    assert "serving" not in r.stderr and "Traceback" not in r.stderr


def test_serve_on_a_busy_port_answers_json_on_stdout(project, subprocess_cli):
    with _listening_socket() as busy:
        port = busy.getsockname()[1]
        r = subprocess_cli("--json", "serve", "churn", "--port", str(port), cwd=project.root)
    doc = json.loads(r.stdout)
    assert doc["exit_code"] == 2 == r.returncode
    assert "already in use" in doc["error"] and "--port" in doc["hint"]


def test_serve_answers_health_on_a_real_socket(project):
    with _listening_socket() as probe:
        port = probe.getsockname()[1]  # free once closed; the server binds it again
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("MLOPS_STORE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops", "serve", "churn", "--port", str(port), "--no-log"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = None
        for _ in range(600):  # up to 60 s for the model to load on a busy machine
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                    body = json.loads(resp.read())
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None, proc.stderr.read() if proc.poll() is not None else "no answer"
        assert body["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _count(client: TestClient, name: str, **labels: str) -> float:
    """The value of one sample in /metrics (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def _raw(client: TestClient, body: str):
    return client.post("/predict", content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    "literal", ["Infinity", "-Infinity", "NaN", "1e999", "-1e999", "9" * 400, "-" + "9" * 400]
)
def test_non_finite_and_overflowing_numbers_are_422_naming_the_field(project, handle, literal):
    row = _records(project.batch.head(1))[0]
    text = json.dumps({"records": [row]}).replace(
        f'"monthly_charges": {json.dumps(row["monthly_charges"])}',
        f'"monthly_charges": {literal}',
    )
    assert literal in text
    with TestClient(create_app(handle)) as client:
        r = _raw(client, text)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == "monthly_charges"
        assert set(r.json()) == {"error", "field"}
        assert _count(client, "mlops_requests_total", path="/predict", status="422") == 1
        assert _count(client, "mlops_request_errors_total", path="/predict", kind="client") == 1


@pytest.mark.parametrize(
    "split",
    [
        {"data": [[1, 2]]},
        {"columns": ["a", "b"]},
        {"columns": ["a", "b"], "data": [[1, 2], [1]]},
        {"columns": ["a", "b"], "data": "not a list"},
        {"columns": ["a", "b"], "data": [1, 2]},
        {"columns": "ab", "data": [[1, 2]]},
        {"columns": [["a"], {"b": 1}], "data": [[1, 2]]},
        {"columns": ["a", "a"], "data": [[1, 2]]},
        [["a", "b"], [[1, 2]]],
        None,
    ],
)
def test_malformed_dataframe_split_is_422(handle, split):
    with TestClient(create_app(handle)) as client:
        r = client.post("/predict", json={"dataframe_split": split})
        assert r.status_code == 422, r.text
        assert isinstance(r.json()["error"], str)
        assert _count(client, "mlops_requests_total", path="/predict", status="500") == 0


def test_nested_values_and_deep_nesting_are_4xx_not_500(project, handle):
    row = _records(project.batch.head(1))[0]
    deep = "[" * 10_000 + "]" * 10_000
    with TestClient(create_app(handle)) as client:
        r = _raw(client, deep)
        assert r.status_code == 400 and "nested" in r.json()["error"]
        r = _raw(client, '{"records": [{"monthly_charges": ' + deep + "}]}")
        assert r.status_code == 400
        r = client.post("/predict", json={"records": [{**row, "monthly_charges": [[[1]]]}]})
        assert r.status_code == 422 and r.json()["field"] == "monthly_charges"
        r = client.post("/predict", json={"records": [{**row, "tenure_months": {"a": 1}}]})
        assert r.status_code == 422 and r.json()["field"] == "tenure_months"
        assert _count(client, "mlops_request_errors_total", path="/predict", kind="server") == 0


def test_unhandled_error_is_500_with_the_error_shape_and_counted(project, handle, monkeypatch):
    def broken(X):
        raise RuntimeError("boom")

    monkeypatch.setattr(handle, "score", broken)
    with TestClient(create_app(handle)) as client:
        r = client.post("/predict", json={"records": _records(project.batch.head(2))})
        assert r.status_code == 500
        assert r.json() == {"error": "internal server error"}
        assert "boom" not in r.text
        assert _count(client, "mlops_requests_total", path="/predict", status="500") == 1
        assert _count(client, "mlops_request_errors_total", path="/predict", kind="server") == 1
        assert client.get("/health").status_code == 200


@pytest.mark.parametrize("text", ["Infinity", "-inf", "INFINITY", "1e999"])
def test_text_reading_as_infinite_in_a_numeric_column_is_422(project, handle, text):
    row = _records(project.batch.head(1))[0]
    with TestClient(create_app(handle)) as client:
        for column in ("monthly_charges", "age"):  # a float and an int column
            r = client.post("/predict", json={"records": [{**row, column: text}]})
            assert r.status_code == 422, r.text
            assert r.json()["field"] == column
        assert _count(client, "mlops_request_errors_total", path="/predict", kind="server") == 0
