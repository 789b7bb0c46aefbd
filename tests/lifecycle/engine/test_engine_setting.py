"""The engine setting: mlops.yaml `engine:`, --engine/--scheduler, DASK_SCHEDULER_ADDRESS, and
the failures (no Dask installed, no scheduler) as one sentence and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cli import child_env


def test_engine_spec_precedence() -> None:
    from mlops.errors import UsageError
    from mlops.lifecycle.engine import engine_spec

    env = {"DASK_SCHEDULER_ADDRESS": "tcp://env:8786"}
    assert engine_spec(None, environ=env).kind == "local"  # the variable alone does not switch
    assert engine_spec(None, "dask", environ=env).address == "tcp://env:8786"
    assert engine_spec(None, "dask", environ={}).address is None  # a LocalCluster
    assert engine_spec(None, None, "tcp://opt:1", environ=env).address == "tcp://opt:1"
    with pytest.raises(UsageError):
        engine_spec(None, "spark")
    with pytest.raises(UsageError):
        engine_spec(None, "local", "tcp://x:1")


def test_engine_in_config_and_schema(tmp_path: Path, cli) -> None:
    from mlops.config import load_config

    (tmp_path / "mlops.yaml").write_text("engine: {kind: dask, address: tcp://s:8786}\n")
    assert load_config(tmp_path / "mlops.yaml").model.engine.address == "tcp://s:8786"
    (tmp_path / "mlops.yaml").write_text("engine: local\n")
    assert load_config(tmp_path / "mlops.yaml").model.engine.kind == "local"
    proc = cli("config", "schema", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert "engine" in schema["properties"]


def _script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", body],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_local_engine_imports_no_dask(churn: Path) -> None:
    """`mlops monitor` on the local engine, in one process: Dask is never imported."""
    body = (
        "import sys\n"
        "from mlops.cli.app import app\n"
        "try:\n"
        "    app(['monitor', 'data/lake', '--fail-on', 'none'], prog_name='mlops')\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "print('CODE', code, sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed')))\n"
    )
    proc = _script(churn, body)
    assert "CODE 0 []" in proc.stdout, proc.stdout + proc.stderr


def test_without_dask_installed_exit_2_with_pip_command(churn: Path, tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "distributed"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no distributed here')\n")
    env = child_env()
    env["PYTHONPATH"] = f"{shadow.parent}:{env['PYTHONPATH']}"
    proc = subprocess.run(
        [sys.executable, "-m", "mlops", "monitor", "data/lake", "--engine", "dask"],
        cwd=churn,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert 'pip install "mlops[dask]"' in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unreachable_scheduler_exit_2_naming_address(churn: Path, subprocess_cli) -> None:
    with open(churn / "mlops.yaml", "a") as f:
        f.write("\nengine: {kind: dask, connect_timeout_s: 2}\n")
    proc = subprocess_cli("monitor", "data/lake", "--scheduler", "tcp://127.0.0.1:9", cwd=churn)
    assert proc.returncode == 2, proc.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in proc.stderr
    assert "Traceback" not in proc.stderr
