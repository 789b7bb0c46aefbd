"""`mlops serve --workers 2` on 127.0.0.1: /metrics reports the totals of both worker
processes, whichever of them answers the scrape."""

from __future__ import annotations

import http.client
import json
import os
import signal

import pytest

pytest.importorskip("fastapi", reason="the `serve` extra (fastapi) is not installed")
pytest.importorskip("prometheus_client", reason="prometheus_client is not installed")

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs SIGSTOP")


def _get(conn: http.client.HTTPConnection, path: str) -> bytes:
    conn.request("GET", path)
    resp = conn.getresponse()
    assert resp.status == 200
    return resp.read()


def _post(conn: http.client.HTTPConnection, records: list[dict]) -> None:
    body = json.dumps({"records": records})
    conn.request("POST", "/predict", body=body, headers={"content-type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    resp.read()


def _samples(conn: http.client.HTTPConnection) -> dict[tuple[str, tuple], float]:
    from prometheus_client.parser import text_string_to_metric_families

    text = _get(conn, "/metrics").decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.slow
def test_metrics_sum_over_workers(project, serve_process):
    server = serve_process("churn", "--workers", "2")
    records = json.loads(project.batch.head(7).to_json(orient="records"))
    first = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    first_pid = json.loads(_get(first, "/health"))["pid"]
    _post(first, records[:4])
    # with the first worker stopped, the next connection can only be accepted by the other
    os.kill(first_pid, signal.SIGSTOP)
    try:
        second = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        second_pid = json.loads(_get(second, "/health"))["pid"]
        _post(second, records[4:])
    finally:
        os.kill(first_pid, signal.SIGCONT)
    assert second_pid != first_pid
    predict_ok = (
        "mlops_requests_total",
        (("method", "POST"), ("path", "/predict"), ("status", "200")),
    )
    for conn in (first, second):  # each connection is answered by its own worker
        assert json.loads(_get(conn, "/health"))["pid"] in (first_pid, second_pid)
        samples = _samples(conn)
        assert samples[("mlops_predicted_rows_total", ())] == 7
        assert samples[predict_ok] == 2
        assert samples[("mlops_predict_latency_seconds_count", ())] == 2
        # logged at shutdown (1000 rows per file): all 7 wait in the two writers' queues
        assert samples[("mlops_prediction_log_queued_rows", ())] == 7
        assert samples[("mlops_prediction_log_written_rows_total", ())] == 0
        info = [k for k in samples if k[0] == "mlops_model_info"]
        assert len(info) == 1 and samples[info[0]] == 1
    first.close()
    second.close()
    code, err = server.stop(signal.SIGTERM)
    assert "Traceback" not in err
