"""Prometheus text format (parsed back) and the webhook against a local HTTP server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers.cli import run_cli
from mlops.lifecycle.monitor import MonitorResult, monitor
from mlops.lifecycle.monitor.notify import post
from mlops.report.monitor_prometheus import prometheus_text, write_prometheus
from mlops.stats.drift import ColumnDrift, DriftResult
from mlops.stats.quality import QualityResult


def parse_prometheus(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Sample name -> [(labels, value)], parsed by prometheus_client; every family a gauge."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    assert text.endswith("\n")
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family
        assert family.samples, f"{family.name} is exposed without samples"
        for sample in family.samples:
            assert sample.name == family.name
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def test_prometheus_round_trip(churn: Path, open_project) -> None:
    config, store = open_project
    result = monitor(config, store, [str(churn / "data/batches/2026-06.csv")])
    data = result.to_dict()
    path = write_prometheus(churn / "metrics" / "mlops.prom", result)
    parsed = parse_prometheus(path.read_text())
    assert parsed["mlops_monitor_drift_share"][0][1] == pytest.approx(
        data["drift"]["share_drifted"]
    )
    assert parsed["mlops_monitor_rows"][0][1] == 4000
    scores = {lab["feature"]: v for lab, v in parsed["mlops_monitor_feature_drift_score"]}
    for c in data["drift"]["columns"]:
        assert scores[c["column"]] == pytest.approx(c["score"])
    sev = {lab["severity"]: v for lab, v in parsed["mlops_monitor_alerts"]}
    assert sum(sev.values()) == len(data["alerts"])
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # atomic, no temp left


def test_prometheus_escapes_labels(tmp_path: Path) -> None:
    odd = 'we"ird\\name\nline two'
    drift = DriftResult(
        columns=[ColumnDrift('a\\"b', "numeric", "psi", float("nan"), 0.2, None, False, 1, 1)],
        n_drifted=0,
        share_drifted=0.0,
        drift_share=0.5,
        dataset_drift=False,
    )
    result = MonitorResult(
        model={"name": odd, "version": 1},
        data={"rows": 1},
        window=None,
        reference={},
        drift=drift,
        quality=QualityResult(columns=[], issues=[]),
        prediction_drift=None,
        target_drift=None,
        performance={},
        windows=[],
        alerts=[],
        fail_on="critical",
        created_at="2026-06-01T10:00:00Z",
    )
    parsed = parse_prometheus(prometheus_text(result))
    assert parsed["mlops_monitor_rows"] == [({"model": odd, "version": "1"}, 1.0)]
    ((labels, score),) = parsed["mlops_monitor_feature_drift_score"]
    assert labels == {"model": odd, "version": "1", "feature": 'a\\"b', "method": "psi"}
    assert score != score  # NaN
    assert "mlops_monitor_feature_drift_p_value" not in parsed  # None: no sample, no family
    ((_, ts),) = parsed["mlops_monitor_last_run_timestamp_seconds"]
    assert ts == 1780308000.0
    path = write_prometheus(tmp_path / "m.prom", result)
    assert path.stat().st_mode & 0o777 == 0o644


class _Hook:
    """A webhook receiver on 127.0.0.1: `script` lists the status (or 'sleep') per request."""

    def __init__(self, script: list) -> None:
        self.script = list(script)
        self.bodies: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.bodies.append(json.loads(body))
                step = hook.script.pop(0) if hook.script else 200
                if step == "sleep":
                    time.sleep(1.5)
                    step = 200
                try:
                    self.send_response(step)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_webhook_success() -> None:
    with _Hook([200]) as hook:
        outcome = post(hook.url, {"text": "hello"}, timeout_s=2, retries=2, backoff_s=0.01)
    assert outcome.ok and outcome.attempts == 1 and outcome.status == 200
    assert hook.bodies == [{"text": "hello"}]
    assert "secret" not in json.dumps(outcome.to_dict())


def test_webhook_500_then_retry() -> None:
    with _Hook([500, 200]) as hook:
        outcome = post(hook.url, {"text": "x"}, timeout_s=2, retries=2, backoff_s=0.01)
    assert outcome.ok and outcome.attempts == 2 and outcome.errors[0].startswith("HTTP 500")
    assert len(hook.bodies) == 2


def test_webhook_timeout_and_client_error() -> None:
    with _Hook(["sleep", "sleep"]) as hook:
        outcome = post(hook.url, {"text": "x"}, timeout_s=0.3, retries=1, backoff_s=0.01)
        assert not outcome.ok and outcome.attempts == 2
        assert "timed out" in (outcome.error or "")
    with _Hook([404]) as hook:
        outcome = post(hook.url, {"text": "x"}, timeout_s=2, retries=3, backoff_s=0.01)
    assert not outcome.ok and outcome.attempts == 1  # a 4xx is not retried


def test_cli_notify_posts_alerts_and_survives_a_failed_post(churn: Path) -> None:
    with _Hook([200]) as hook:
        proc = run_cli(
            "monitor", "data/batches/2026-06.csv", "--notify", hook.url, "--json", cwd=churn
        )
    data = json.loads(proc.stdout)
    assert data["notify"]["ok"] and data["notify"]["posted_alerts"] > 0
    body = hook.bodies[0]
    assert "churn:1" in body["text"] and body["blocks"]
    assert any("payment_method" in a["message"] for a in body["mlops"]["alerts"])
    with _Hook([500, 500, 500]) as hook:
        proc = run_cli(
            "monitor", "data/batches/2026-06.csv", "--notify", hook.url, "--json", cwd=churn
        )
    data = json.loads(proc.stdout)
    assert not data["notify"]["ok"] and data["notify"]["attempts"] == 3
    assert "webhook post failed" in proc.stderr
    assert data["report_id"]  # the report was still stored
