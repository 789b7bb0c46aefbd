"""Prometheus text format (parsed back) and the webhook against a local HTTP server."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
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


@contextlib.contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering with handler, in a thread; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Hostile:
    """A receiver on 127.0.0.1 (http.server in a thread) that misbehaves after the request:
    `drip` sends a status line then one header byte every `pause` seconds until stopped,
    `headers` sends header lines without end."""

    def __init__(self, mode: str, pause: float = 0.2) -> None:
        self.stop = threading.Event()
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    self.wfile.flush()
                    n = 0
                    while not hostile.stop.is_set() and n < 200_000:
                        if mode == "drip":
                            self.wfile.write(b"X")
                            self.wfile.flush()
                            hostile.stop.wait(pause)
                        else:
                            self.wfile.write(b"X-Filler-%d: y\r\n" % n)
                        n += 1
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        port = self.server.server_address[1]
        self.url = f"http://user:hunter22@127.0.0.1:{port}/hooks/T000/pathsecret?token=tok3n&x=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Hostile:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


SECRETS = ("hunter22", "pathsecret", "tok3n", "user:")


def test_redact_url_hides_user_password_path_and_query_values() -> None:
    from mlops.lifecycle.monitor.notify import redact_url, scrub

    url = "https://bot:s3cret@hooks.example.com:8443/services/T1/B2/xyz?token=abc&sig=def#frag"
    assert redact_url(url) == "https://***@hooks.example.com:8443/...?token=***&sig=***"
    assert redact_url("https://example.com/?key=value") == "https://example.com/?key=***"
    assert redact_url("http://example.com") == "http://example.com"
    assert redact_url("http://[::1]:80/a?b") == "http://[::1]:80/...?***"
    message = f"cannot reach {url} (password s3cret, token abc)"
    scrubbed = scrub(message, url)
    assert not any(s in scrubbed for s in ("s3cret", "abc", "def", "xyz", "bot:"))
    assert redact_url(url) in scrubbed


def test_webhook_deadline_covers_a_dripping_response() -> None:
    # the receiver drips forever: without a total deadline per attempt the post never returns
    with _Hostile("drip") as hook:
        start = time.monotonic()
        outcome = post(hook.url, {"text": "x"}, timeout_s=1.0, retries=1, backoff_s=0.01)
        elapsed = time.monotonic() - start
    assert not outcome.ok and outcome.attempts == 2
    assert "timed out" in (outcome.error or "")
    assert elapsed < 60
    assert not any(s in json.dumps(outcome.to_dict()) for s in SECRETS)


def test_webhook_endless_headers_is_a_clear_failure() -> None:
    with _Hostile("headers") as hook:
        outcome = post(hook.url, {"text": "x"}, timeout_s=30, retries=0)
    assert not outcome.ok and outcome.attempts == 1
    assert "bad HTTP response" in (outcome.error or "") and "headers" in (outcome.error or "")


def test_webhook_user_and_password_are_sent_as_basic_auth() -> None:
    import base64

    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.headers.get("Authorization"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with _serving(Handler) as base:
        url = base.replace("http://", "http://bot:p%40ss@") + "/h"
        outcome = post(url, {"text": "x"}, timeout_s=5)
    assert outcome.ok and outcome.status == 204
    assert seen == ["Basic " + base64.b64encode(b"bot:p@ss").decode()]


def test_webhook_goes_through_the_proxy_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a forward proxy on 127.0.0.1 that answers itself: the hook's host is never resolved
    requests: list[tuple[str, dict]] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append((self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    with _serving(Proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        outcome = post("http://hooks.example.invalid/services/T1", {"text": "via"}, timeout_s=5)
    assert outcome.ok, outcome
    assert requests == [("http://hooks.example.invalid/services/T1", {"text": "via"})]


def test_the_report_is_stored_before_the_webhook_is_called(churn: Path) -> None:
    from mlops.store import Store

    def reports() -> list[str]:
        with Store.open(churn / ".mlops") as store:
            return [r["id"] for r in store.list_rows(kind="monitor-report")]

    before = reports()
    seen_at_post: list[list[str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen_at_post.append(reports())
            seen_at_post.append([body["mlops"]["report_id"]])
            self.send_response(500)  # the receiver fails: the report must still be there
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with _serving(Handler) as base:
        url = f"{base}/hook"
        proc = run_cli("monitor", "data/batches/2026-06.csv", "--notify", url, "--json", cwd=churn)
    data = json.loads(proc.stdout)
    assert not data["notify"]["ok"] and data["notify"]["attempts"] == 3
    stored_then, [posted_id] = seen_at_post[0], seen_at_post[1]
    assert stored_then == [*before, data["report_id"]] and posted_id == data["report_id"]
    with Store.open(churn / ".mlops") as store:
        run = store.get_run(data["run_id"])
    assert run["status"] == "succeeded" and run["info"]["notify"] == data["notify"]


def test_cli_webhook_redacts_the_url_in_json_run_and_command(churn: Path) -> None:
    from mlops.store import Store

    with _Hostile("headers") as hook:
        proc = run_cli(
            "monitor", "data/batches/2026-06.csv", "--notify", hook.url, "--json", cwd=churn
        )
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    assert not data["notify"]["ok"] and "bad HTTP response" in data["notify"]["error"]
    assert data["notify"]["url"].startswith("http://***@127.0.0.1:")
    assert "token=***" in data["notify"]["url"]
    assert "webhook post failed" in proc.stderr
    for text in (proc.stdout, proc.stderr):
        assert not any(s in text for s in SECRETS), text
    with Store.open(churn / ".mlops") as store:
        report = store.read_file(store.get(data["report_id"]), "report.json").decode()
        runs = store.list_runs("monitor")
    assert json.loads(report)["notify"] is None  # stored before the post
    assert runs[0]["info"]["notify"] == data["notify"]
    commands = [r.get("command") or "" for r in runs]
    assert commands and "--notify" in commands[0]
    assert not any(s in c for c in commands for s in SECRETS), commands
    for file in (churn / ".mlops").glob("catalog.sqlite*"):
        assert not any(s.encode() in file.read_bytes() for s in SECRETS), file
