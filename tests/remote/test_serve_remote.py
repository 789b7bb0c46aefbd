"""`mlops serve REF --remote NAME` on a fresh server: pulls what REF needs, then serves it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.cli import Cli, child_env
from helpers.projects import CONFIG, write_project
from mlops.store import Store

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

REMOTE = "remote:\n  default: origin\n  remotes:\n    origin:\n      url: {url}\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_pulls_the_promoted_model_from_the_remote(tmp_path: Path) -> None:
    url = (tmp_path / "remote").as_uri()
    ci_dir = tmp_path / "ci"
    ci_dir.mkdir()
    write_project(ci_dir, config=CONFIG + REMOTE.format(url=url))
    ci = Cli(ci_dir)
    ci("train")
    model = ci.json("evaluate", "--promote", "production", "--push")["model"]

    server = tmp_path / "server"  # a config and nothing else: no store yet
    server.mkdir()
    (server / "mlops.yaml").write_text(CONFIG + REMOTE.format(url=url))
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlops",
            "serve",
            "churn@production",
            "--remote",
            "origin",
            "--port",
            str(port),
            "--no-log",
        ],  # fmt: skip
        cwd=server,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = None
        for _ in range(900):
            if proc.poll() is not None:
                break
            try:
                url_ = f"http://127.0.0.1:{port}/metadata"
                with urllib.request.urlopen(url_, timeout=2) as resp:
                    body = json.loads(resp.read())
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None, proc.stderr.read() if proc.poll() is not None else "no answer"
        assert model["id"] in json.dumps(body)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with Store.open(server / ".mlops", create=False) as store:
        art = store.resolve("churn@production")
        assert all(store.objects.has(e.hash) for e in art.files.values())


def test_serve_remote_refuses_a_local_package(tmp_path: Path) -> None:
    (tmp_path / "mlops.yaml").write_text("project: churn\n")
    (tmp_path / "bundle").mkdir()
    res = Cli(tmp_path)("serve", "bundle", "--remote", "origin", code=2)
    assert "local package" in res.stderr
