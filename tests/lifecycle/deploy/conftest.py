"""Fixtures for package/predict/serve: a project with a stored churn model (helpers.models)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.cli import child_env
from helpers.data import churn_frames
from helpers.models import Project, add_model
from mlops.store import Store


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "mlops.yaml").write_text(
        "version: 1\nproject: churn\ndata:\n  id_column: customer_id\n"
        "package:\n  prediction_log: predictions\n  chunk_rows: 128\n"
    )
    train, batch = churn_frames()
    store_path = root / ".mlops"
    with Store.open(store_path) as store:
        art, pipeline = add_model(store, train)
    batch_csv = root / "batch.csv"
    batch.to_csv(batch_csv, index=False)
    return Project(root, store_path, art, pipeline, train, batch, batch_csv)


class Server:
    """`mlops serve` as a real process on a free 127.0.0.1 port."""

    def __init__(self, project: Project, *args: str) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]  # free once closed; the server binds it again
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "mlops", "serve", *args, "--port", str(self.port)]
        self.proc = subprocess.Popen(
            cmd, cwd=project.root, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    def wait_ready(self) -> None:
        for _ in range(1200):  # up to 120 s for the model to load on a busy machine
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"server not ready: {self.stop()[1]}")

    def post(self, path: str, body: bytes, ctype: str = "application/json") -> tuple[int, Any]:
        req = urllib.request.Request(
            self.url + path, data=body, headers={"content-type": ctype}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        """Send sig and wait for the exit: (exit code, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err.decode(errors="replace")


@pytest.fixture
def serve_process(project: Project) -> Iterator[Callable[..., Server]]:
    """Start `mlops serve ARGS...` in the project; every server is stopped at teardown."""
    started: list[Server] = []

    def start(*args: str) -> Server:
        server = Server(project, *args)
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()
