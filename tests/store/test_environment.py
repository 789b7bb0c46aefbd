"""The environment is not a bug: a read-only store, a full disk, a store path that is a file or
under /proc give exit 2 and one sentence (never 70); read commands work on a read-only store;
runs whose process died are shown as failed (abandoned); gc cleans staging leftovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.cli import child_env
from mlops.cli.app import app
from mlops.store import Store
from mlops.store.maintenance import fsck


def cli(store: Path, *args: str, **env: str):
    return CliRunner().invoke(app, ["--store", str(store), *args], env={"MLOPS_STORE": None, **env})


def _mount(*args: str) -> str | None:
    """Run mount; None on success, else why it is not permitted here."""
    try:
        r = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    except (FileNotFoundError, subprocess.TimeoutExpired) as e:
        return str(e)
    return None if r.returncode == 0 else (r.stderr.strip() or f"mount exit {r.returncode}")


@pytest.fixture
def populated(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    with Store.open(root) as store:
        store.add_artifact("dataset", "data", {"d.csv": b"a,b\n1,2\n"})
    return root


@pytest.fixture
def read_only_mount(tmp_path: Path, populated: Path) -> Iterator[Path]:
    """The populated store seen through a read-only bind mount (where mounting is permitted)."""
    view = tmp_path / "ro"
    view.mkdir()
    why = _mount("--bind", str(populated), str(view))
    if why:
        pytest.skip(f"cannot bind-mount here (needs privileges): {why}")
    why = _mount("-o", "remount,bind,ro", str(view))
    if why:
        subprocess.run(["umount", "-l", str(view)], check=False)
        pytest.skip(f"cannot remount read-only here: {why}")
    try:
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)


def _assert_read_commands_work(store: Path, env: dict[str, str]) -> None:
    r = cli(store, "--json", "ls", **env)
    assert r.exit_code == 0, r.output
    assert [a["name"] for a in json.loads(r.stdout)["artifacts"]] == ["data"]
    assert cli(store, "show", "data", **env).exit_code == 0
    r = cli(store, "cat", "data", **env)
    assert r.exit_code == 0 and r.stdout == "a,b\n1,2\n"
    r = cli(store, "fsck", **env)
    assert r.exit_code == 0, r.output
    assert cli(store, "lineage", "data", **env).exit_code == 0


def _assert_writes_refused(store: Path, tmp_path: Path, env: dict[str, str]) -> None:
    new = tmp_path / "new.csv"
    new.write_text("x\n1\n")
    for args in (["add", str(new)], ["gc"], ["fsck", "--rebuild"]):
        r = cli(store, *args, **env)
        assert r.exit_code == 2, (args, r.output)
        [error] = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        assert "read-only" in error
        assert "internal error" not in r.output


def test_read_only_mount(read_only_mount: Path, tmp_path: Path) -> None:
    assert not os.access(read_only_mount, os.W_OK)
    _assert_read_commands_work(read_only_mount, {})
    _assert_writes_refused(read_only_mount, tmp_path, {})
    r = cli(read_only_mount, "runs", "ls")
    assert r.exit_code == 0, r.output


def test_read_only_by_environment_knob(populated: Path, tmp_path: Path) -> None:
    env = {"MLOPS_STORE_READONLY": "1"}
    catalog = (populated / "catalog.sqlite").read_bytes()
    blobs = sorted((populated / "objects").rglob("*"))
    _assert_read_commands_work(populated, env)
    _assert_writes_refused(populated, tmp_path, env)
    assert (populated / "catalog.sqlite").read_bytes() == catalog
    assert sorted((populated / "objects").rglob("*")) == blobs


def test_disk_full_is_exit_2_and_commits_nothing(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    why = _mount("-t", "tmpfs", "-o", "size=400k", "tmpfs", str(disk))
    if why:
        pytest.skip(f"cannot mount a small tmpfs here (needs privileges): {why}")
    try:
        root = disk / "store"
        small = tmp_path / "small.csv"
        small.write_text("a\n1\n")
        assert cli(root, "add", str(small)).exit_code == 0
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(1 << 20))
        r = cli(root, "add", str(big))
        assert r.exit_code == 2, r.output
        assert "no space left" in r.stderr.splitlines()[0]
        r = cli(root, "--json", "ls")
        assert r.exit_code == 0
        assert [a["name"] for a in json.loads(r.stdout)["artifacts"]] == ["small.csv"]
        assert cli(root, "gc").exit_code == 0  # staging leftovers of the failed add go
        assert list((root / "tmp").iterdir()) == []
        with Store.open(root) as store:
            assert fsck(store).ok
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_store_path_that_is_a_file_or_under_proc(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    (tmp_path / "d.csv").write_text("a\n")
    for store in (f, Path("/proc/self/mlops-store"), Path("/proc/mlops-store")):
        for args in (["add", str(tmp_path / "d.csv")], ["gc"], ["ls"]):
            r = cli(store, *args)
            assert r.exit_code == 2, (store, args, r.output)
            assert "internal error" not in r.output


def test_gc_cleans_staging_leftovers_of_killed_writers(populated: Path) -> None:
    leftover = populated / "tmp" / "stage-dir"
    (leftover / "sub").mkdir(parents=True)
    (leftover / "sub" / "part").write_bytes(b"half")
    (populated / "tmp" / "stage-file").write_bytes(b"half")
    r = cli(populated, "--json", "gc")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["tmp_removed"] == 2
    assert list((populated / "tmp").iterdir()) == []


CHILD = """
import sys, time
from mlops.store import Store
store = Store.open(sys.argv[1])
run = store.start_run("train", name="churn")
print(run, flush=True)
time.sleep(120)
"""


def test_run_of_a_killed_process_is_shown_as_abandoned(populated: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(populated)],
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        run_id = child.stdout.readline().strip()
        with Store.open(populated) as store:
            assert store.get_run(run_id)["status"] == "running"  # alive: still running
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    r = cli(populated, "--json", "runs", "ls")
    assert r.exit_code == 0, r.output
    [run] = json.loads(r.stdout)["runs"]
    assert run["id"] == run_id and run["status"] == "failed (abandoned)"
    r = cli(populated, "--json", "runs", "show", run_id[:8])
    assert json.loads(r.stdout)["status"] == "failed (abandoned)"
    r = cli(populated, "runs", "ls")
    assert "abandoned" in r.stdout
