"""Run this tree's `mlops`: in this process (Typer's CliRunner) or as a real process
(`python -m mlops`). Both return a CliResult; neither inherits MLOPS_STORE.

tests/conftest.py hands the two runners out as the `cli` and `subprocess_cli` fixtures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[2] / "src"
REPO = SRC.parent

Env = Mapping[str, str | None]


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def exit_code(self) -> int:
        """The same as returncode (the name click's Result uses)."""
        return self.returncode

    def json(self) -> Any:
        return json.loads(self.stdout)


def child_env(env: Env | None = None) -> dict[str, str]:
    """os.environ for a child process that must import this tree's `mlops`: src/ first on
    PYTHONPATH, MLOPS_STORE removed, no colour, 200 columns; then `env` (None removes a name)."""
    full = dict(os.environ)
    full["PYTHONPATH"] = str(SRC) + os.pathsep + full.get("PYTHONPATH", "")
    full.pop("MLOPS_STORE", None)
    full.update(NO_COLOR="1", COLUMNS="200")
    for name, value in (env or {}).items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    return full


def run_cli(
    *args: str, cwd: Path | None = None, env: Env | None = None, timeout: float = 300
) -> CliResult:
    """`python -m mlops ARGS...` in a new process, in cwd; text output."""
    proc = subprocess.run(
        [sys.executable, "-m", "mlops", *args],
        cwd=cwd,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def invoke_cli(*args: str, cwd: Path | None = None, env: Env | None = None) -> CliResult:
    """The CLI in this process (CliRunner, stdout and stderr kept apart), in cwd if given:
    fast, same exit codes and streams. Exceptions the app does not handle propagate."""
    from typer.testing import CliRunner

    from mlops.cli.app import app

    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        res = CliRunner().invoke(
            app, list(args), env={"MLOPS_STORE": None, **(env or {})}, catch_exceptions=False
        )
    finally:
        os.chdir(old)
    return CliResult(res.exit_code, res.stdout, res.stderr)


def run_json(*args: str, cwd: Path) -> tuple[int, Any]:
    """`mlops ARGS... --json` in a new process: (exit code, parsed stdout)."""
    proc = run_cli(*args, "--json", cwd=cwd)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


class Cli:
    """`mlops` bound to a project directory, as user `tester`: cli(*args) runs in process and
    checks the exit code (code=None: any); cli.json(...) parses --json output;
    cli.subprocess(...) runs a real process."""

    ENV = {"MLOPS_USER": "tester"}

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def __call__(self, *args: str, code: int | None = 0) -> CliResult:
        result = invoke_cli(*args, cwd=self.cwd, env=self.ENV)
        if code is not None:
            assert result.returncode == code, (
                f"exit {result.returncode} != {code}\nstdout:\n{result.stdout}\n"
                f"stderr:\n{result.stderr}"
            )
        return result

    def json(self, *args: str, code: int | None = 0) -> Any:
        return json.loads(self("--json", *args, code=code).stdout)

    def subprocess(self, *args: str) -> CliResult:
        return run_cli(*args, cwd=self.cwd, env=self.ENV)


def on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run mlops with stderr on a pseudo-terminal; (exit code, what the terminal showed)."""
    import os
    import pty
    import subprocess
    import sys

    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops", *args],
        cwd=cwd,
        env=child_env({"COLUMNS": "120", "TERM": "xterm"}),
        stdout=subprocess.DEVNULL,
        stderr=secondary,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    return proc.wait(timeout=300), b"".join(chunks).decode(errors="replace")
