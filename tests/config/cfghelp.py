"""Run this tree's `mlops` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full["PYTHONPATH"] = str(SRC) + os.pathsep + full.get("PYTHONPATH", "")
    full.pop("MLOPS_STORE", None)
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "mlops", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
