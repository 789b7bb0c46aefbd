"""The collector settings of the `mlops` process: fewer passes while a command runs, none of the
interpreter's passes over live objects at exit, and nothing lost on the way out."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cli import child_env, run_cli
from helpers.projects import write_project
from mlops.cli.gc_tuning import YOUNG_THRESHOLD, batch_gc


def test_batch_gc_raises_the_young_threshold_and_restores_it() -> None:
    before = gc.get_threshold()
    with batch_gc():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before


def test_batch_gc_restores_the_thresholds_after_an_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), batch_gc():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before


def _main_then(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run mlops.cli.app.main with args in a new process, then `code` (after its SystemExit)."""
    script = (
        "import gc, sys\n"
        "from mlops.cli.app import main\n"
        f"sys.argv = ['mlops', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    status = e.code\n"
        f"{code}\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=child_env(), capture_output=True, text=True
    )


def test_main_leaves_live_objects_out_of_the_exit_collections(tmp_path: Path) -> None:
    p = _main_then("print('frozen', gc.get_freeze_count() > 0, status)", "--version", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == "frozen True 0"


def test_main_freezes_after_an_error_too(tmp_path: Path) -> None:
    p = _main_then("print('frozen', gc.get_freeze_count() > 0, status)", "train", cwd=tmp_path)
    assert p.stdout.splitlines()[-1] == "frozen True 2"
    assert "mlops.yaml" in p.stderr


def test_train_in_its_own_process_writes_everything(tmp_path: Path) -> None:
    """The model, the run and the JSON document are complete although the exit skips the
    collector's passes."""
    project = write_project(tmp_path)
    r = run_cli("--json", "train", cwd=project)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    check = run_cli("--json", "fsck", cwd=project)
    assert check.returncode == 0, check.stderr
    shown = run_cli("--json", "runs", "show", doc["run_id"], cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "succeeded"
