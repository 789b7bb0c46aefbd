"""Helpers for store tests that run real processes against this tree's `mlops`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child processes that must import this tree's `mlops`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("MLOPS_STORE", None)
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mlops", *args],
        cwd=cwd,
        env=subprocess_env(**env),
        capture_output=True,
        timeout=120,
    )
