"""Served predictions are logged by a background writer: bounded, counted, never lost on a
clean shutdown (in process, and `mlops serve` under uvicorn stopped with SIGTERM)."""

from __future__ import annotations

import json
import signal

import pandas as pd
import pyarrow.parquet as pq
import pytest

from helpers.data import features_of
from mlops.lifecycle.deploy import load_from_store
from mlops.lifecycle.deploy.log_writer import PredictionLogWriter

pytest.importorskip("fastapi", reason="the `serve` extra (fastapi) is not installed")
pytest.importorskip("httpx", reason="httpx (for FastAPI's TestClient) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from mlops.lifecycle.deploy import create_app  # noqa: E402


@pytest.fixture
def handle(project):
    with project.store() as store:
        return load_from_store(store, store.resolve("churn"))


def _logged(log_dir) -> pd.DataFrame:
    files = sorted(log_dir.rglob("*.parquet"))
    if not files:
        return pd.DataFrame()
    return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)


def _scored(handle, rows: pd.DataFrame):
    X = handle.signature.coerce(rows, 0, "test")
    return X, handle.score(X)


def test_a_full_queue_drops_and_counts_rows(project, handle, tmp_path):
    writer = PredictionLogWriter(tmp_path / "log", handle, max_queued_rows=10)
    X, scores = _scored(handle, project.batch.head(4))
    # not started: nothing leaves the queue, so what fits is decided by the bound alone
    assert [writer.submit(X, scores) for _ in range(3)] == [True, True, False]
    big_X, big_scores = _scored(handle, project.batch.head(11))
    assert writer.submit(big_X, big_scores) is False
    assert (writer.queued_rows, writer.dropped_rows) == (8, 4 + 11)
    writer.close()
    assert writer.written_rows == 8 and writer.queued_rows == 0
    assert len(_logged(tmp_path / "log")) == 8
    assert writer.submit(X, scores) is False  # closed
    assert writer.dropped_rows == 4 + 11 + 4


def test_files_follow_flush_rows_and_close_writes_the_rest(project, handle, tmp_path):
    writer = PredictionLogWriter(tmp_path / "log", handle, flush_rows=10, flush_seconds=3600)
    writer.start()
    for start in range(0, 25, 5):
        X, scores = _scored(handle, project.batch.iloc[start : start + 5])
        assert writer.submit(X, scores)
    writer.close()
    assert [pq.read_metadata(f).num_rows for f in writer.files] == [10, 10, 5]
    assert writer.written_rows == 25 and writer.dropped_rows == 0
    logged = _logged(tmp_path / "log")  # each request keeps its own id, time and row numbers
    assert logged["_row"].tolist() == list(range(5)) * 5
    assert logged.groupby("_batch_id", sort=False).size().tolist() == [5] * 5
    assert logged["_scored_at"].is_monotonic_increasing
    assert logged.groupby("_batch_id", sort=False)["_scored_at"].nunique().tolist() == [1] * 5
    assert str(logged["_scored_at"].dt.tz) == "UTC"


def test_dropped_rows_are_in_metrics(project, handle, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    log_dir = tmp_path / "log"
    records = json.loads(project.batch.head(12).to_json(orient="records"))
    with TestClient(create_app(handle, log_dir=log_dir, max_queued_rows=5)) as client:
        assert client.post("/predict", json={"records": records[:10]}).status_code == 200
        assert client.post("/predict", json={"records": records[10:]}).status_code == 200
        text = client.get("/metrics").text
    samples = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples["mlops_prediction_log_dropped_rows_total"] == 10  # more than the queue holds
    assert samples["mlops_predicted_rows_total"] == 12  # answered all the same
    assert len(_logged(log_dir)) == 2


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_sigterm_loses_no_logged_rows(project, serve_process, workers):
    """Rows reach the log only at shutdown here (flush every 1000 rows or 60 s)."""
    server = serve_process("churn", "--workers", str(workers))
    sizes = [1, 7, 3, 25, 2, 11] * 5
    batch = project.batch.reset_index(drop=True)
    offset = 0
    for n in sizes:
        rows = batch.iloc[offset : offset + n]
        offset += n
        body = json.dumps({"records": json.loads(rows.to_json(orient="records"))})
        status, answer = server.post("/predict", body.encode())
        assert status == 200, answer
    code, err = server.stop(signal.SIGTERM)
    # uvicorn shuts down cleanly, then re-raises SIGTERM: the exit status says so
    assert code in (0, -signal.SIGTERM), err
    assert "Traceback" not in err
    logged = _logged(project.root / "predictions")
    assert len(logged) == sum(sizes) == offset
    assert logged["_batch_id"].nunique() == len(sizes)
    assert sorted(logged["_id"]) == sorted(str(v) for v in batch["customer_id"][:offset])
    served = batch.iloc[:offset].set_index(batch["customer_id"][:offset].astype(str))
    expected = project.pipeline.predict(features_of(served.loc[logged["_id"]]))
    assert logged["_prediction"].tolist() == expected.tolist()


def test_rows_reach_a_file_after_flush_seconds_without_close(project, handle, tmp_path):
    """Fewer rows than flush_rows are written once the oldest has waited flush_seconds; each
    later batch starts the clock again."""
    import time

    seen = []
    writer = PredictionLogWriter(tmp_path / "log", handle, flush_rows=1000, flush_seconds=0.05)
    writer.on_count = lambda written, dropped, queued: seen.append((written, dropped, queued))
    writer.start()
    try:
        for n in (3, 2):
            X, scores = _scored(handle, project.batch.head(n))
            assert writer.submit(X, scores)
            for _ in range(600):  # up to 60 s on a busy machine; no file is written before
                if writer.queued_rows == 0:
                    break
                time.sleep(0.1)
            assert writer.queued_rows == 0
        assert [pq.read_metadata(f).num_rows for f in writer.files] == [3, 2]
        assert seen == [(0, 0, 3), (3, 0, -3), (0, 0, 2), (2, 0, -2)]
    finally:
        writer.close()
    assert writer.written_rows == 5 and writer.dropped_rows == 0
