"""Run this tree's `mlops`, in-process (CliRunner) or as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from mlops.cli.app import app

SRC = Path(__file__).resolve().parents[2] / "src"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("MLOPS_STORE", None)
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlops", *args],
        cwd=cwd,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def invoke(*args: str, **env: str | None):
    """In-process run; stdout and stderr kept apart."""
    env.setdefault("MLOPS_STORE", None)
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
