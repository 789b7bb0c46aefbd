"""Every command on a read-only store and on a full disk: exit 0 or 2 with one `error:` line,
never 70 (a bug) and never a traceback; read commands keep working on a read-only store; and
nothing half-written is left in the store."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.cli import CliResult, invoke_cli

BATCH = "data/batches/2026-06.csv"

# commands that only read the store (their outputs go to OUT, outside it)
READS: list[tuple[str, ...]] = [
    ("ls",),
    ("show", "model/churn"),
    ("cat", "model/churn", "model.joblib"),
    ("export", "model/churn", "{out}/export"),
    ("lineage", "model/churn"),
    ("fsck",),
    ("predict", "model/churn", "-i", BATCH, "-o", "{out}/p.csv"),
    ("monitor", "history"),
    ("config", "show"),
    ("runs", "ls"),
    ("models", "ls"),
    ("models", "show", "churn"),
    ("models", "history", "churn"),
    ("remote", "ls"),
]
# commands that write to the store
WRITES: list[tuple[str, ...]] = [
    ("add", "{out}/new.csv"),
    ("fsck", "--rebuild"),
    ("train",),
    ("evaluate",),
    ("evaluate", "--promote", "production"),
    ("package", "churn"),
    ("run",),
    ("retrain", BATCH),
    ("monitor", BATCH),
    ("models", "promote", "churn", "1", "-a", "production"),
    ("remote", "add", "origin", "file:///srv/mlops-remote"),
]


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The churn example, trained, evaluated and packaged."""
    root = tmp_path_factory.mktemp("sweep") / "churn"
    assert invoke_cli("init", "--example", "churn", str(root)).returncode == 0
    for args in (("train",), ("evaluate",), ("package", "churn")):
        r = invoke_cli(*args, cwd=root)
        assert r.returncode in (0, 1), (args, r.stderr)
    return root


def _run(project: Path, out: Path, args: tuple[str, ...], env: dict[str, str]) -> CliResult:
    argv = [a.format(out=out) for a in args]
    r = invoke_cli(*argv, cwd=project, env=env)
    assert r.returncode in (0, 1, 2), (argv, r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, (argv, r.stderr)
    if r.returncode == 2:
        errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, (argv, r.stderr)
    return r


def _snapshot(store: Path) -> tuple[bytes, list[str]]:
    objects = sorted(str(p.relative_to(store)) for p in (store / "objects").rglob("*"))
    return (store / "catalog.sqlite").read_bytes(), objects


def _artifacts(project: Path) -> list[str]:
    r = invoke_cli("--json", "ls", cwd=project)
    assert r.returncode == 0, r.stderr
    return sorted(a["id"] for a in json.loads(r.stdout)["artifacts"])


def test_every_command_on_a_read_only_store(churn: Path, tmp_path: Path) -> None:
    project = tmp_path / "churn"
    shutil.copytree(churn, project)
    (tmp_path / "new.csv").write_text("a\n1\n")
    store = project / ".mlops"
    before = _snapshot(store)
    env = {"MLOPS_STORE_READONLY": "1"}
    for args in READS:
        r = _run(project, tmp_path, args, env)
        assert r.returncode == 0, (args, r.stderr)
    for args in WRITES:
        r = _run(project, tmp_path, args, env)
        assert r.returncode == 2, (args, r.stderr)
        assert "read-only" in r.stderr, (args, r.stderr)
    assert _snapshot(store) == before  # not a byte of the store changed


def _mount_tmpfs(where: Path, size: str) -> str | None:
    try:
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired) as e:
        return str(e)
    return None if r.returncode == 0 else (r.stderr.strip() or f"mount exit {r.returncode}")


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    why = _mount_tmpfs(disk, "48m")
    if why:
        pytest.skip(f"cannot mount a small tmpfs here (needs privileges): {why}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 16))
                f.flush()
        except OSError:
            pass
    return filler


@pytest.mark.slow
def test_every_command_on_a_full_disk(churn: Path, full_disk: Path, tmp_path: Path) -> None:
    project = full_disk / "churn"
    shutil.copytree(churn, project)
    out = tmp_path / "out"  # outputs outside the full disk
    out.mkdir()
    (out / "new.csv").write_text("a\n1\n")
    artifacts = _artifacts(project)
    filler = _fill(full_disk)
    refused = []
    for args in READS + WRITES:
        r = _run(project, out, args, {})
        if r.returncode == 2:
            refused.append(args)
            assert "no space left" in r.stderr, (args, r.stderr)
    assert set(WRITES) - {("fsck", "--rebuild")} <= set(refused)
    assert not set(READS) & set(refused)
    filler.unlink()
    assert _artifacts(project) == artifacts  # nothing half-written became an artifact
    r = invoke_cli("fsck", cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr
