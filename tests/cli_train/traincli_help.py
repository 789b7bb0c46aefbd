"""Helpers for the CLI tests: the real `mlops` app through CliRunner, or a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from mlops.cli.app import app

SRC = Path(__file__).resolve().parents[2] / "src"


class Cli:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int | None = 0) -> Any:
        old = Path.cwd()
        os.chdir(self.cwd)
        try:
            result = self.runner.invoke(app, list(args), env={"MLOPS_USER": "tester"})
        finally:
            os.chdir(old)
        if code is not None:
            assert result.exit_code == code, (
                f"exit {result.exit_code} != {code}\nstdout:\n{result.stdout}\n"
                f"stderr:\n{result.stderr}\n{result.exception!r}"
            )
        return result

    def json(self, *args: str, code: int | None = 0) -> Any:
        return json.loads(self("--json", *args, code=code).stdout)

    def subprocess(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(SRC), "MLOPS_USER": "tester"}
        env.pop("MLOPS_STORE", None)
        return subprocess.run(
            [sys.executable, "-m", "mlops", *args],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )


def sklearn_frame(name: str) -> Any:
    from sklearn import datasets

    return getattr(datasets, f"load_{name}")(as_frame=True).frame
