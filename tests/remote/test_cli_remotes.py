"""remote add/ls/remove, remotes in mlops.yaml, a missing backend, and a push killed half-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers.cli import child_env
from helpers.cli import invoke_cli as invoke
from helpers.remote import fsck_ok, machine, mlops
from mlops.store import Store


def test_remote_add_ls_remove(tmp_path: Path) -> None:
    store = tmp_path / "s"
    assert (
        invoke("--store", str(store), "remote", "add", "origin", str(tmp_path / "r")).exit_code == 0
    )
    res = invoke("--store", str(store), "remote", "add", "backup", "s3://bkt/x", "--default")
    assert res.exit_code == 0
    code, doc, _ = mlops(store, "remote", "ls")
    assert code == 0 and doc["default"] == "backup"
    assert {r["name"]: r["url"] for r in doc["remotes"]} == {
        "backup": "s3://bkt/x",
        "origin": (tmp_path / "r").as_uri(),
    }
    assert "secret" not in (store / "remotes.json").read_text()
    res = invoke("--store", str(store), "remote", "add", "bad", "s3://key:secret@bkt/x")
    assert res.exit_code == 2 and "secret" not in res.stderr and "credentials" in res.stderr
    assert invoke("--store", str(store), "remote", "remove", "backup").exit_code == 0
    res = invoke("--store", str(store), "remote", "remove", "backup")
    assert res.exit_code == 2 and "no remote named" in res.stderr


def test_remote_from_mlops_yaml_with_env_vars(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "mlops.yaml").write_text(
        "remote:\n  default: shared\n  remotes:\n    shared:\n      url: ${SHARED_DIR}/remote\n"
    )
    monkeypatch.setenv("SHARED_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with Store.open(tmp_path / ".mlops") as store:
        store.add_artifact("model", "churn", {"m": b"x"})
    res = invoke("--json", "push")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["remote"] == "shared"
    assert (tmp_path / "remote" / "versions" / "model" / "churn").is_dir()


def test_a_missing_backend_exits_2_with_the_pip_command(tmp_path: Path) -> None:
    store = tmp_path / "s"
    invoke("--store", str(store), "remote", "add", "gcs", "gs://bucket/mlops", "--default")
    res = invoke("--store", str(store), "push")
    assert res.exit_code == 2
    assert "gcsfs" in res.stderr and 'pip install "mlops[gcs]"' in res.stderr
    assert "Traceback" not in res.stderr


def test_an_unknown_scheme_exits_2(tmp_path: Path) -> None:
    res = invoke("--store", str(tmp_path / "s"), "remote", "add", "x", "ftp://host/dir")
    assert res.exit_code == 2 and "unsupported scheme" in res.stderr


def test_push_killed_half_way_then_rerun_completes(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    a, b = machine(tmp_path, "a", remote.as_uri()), machine(tmp_path, "b", remote.as_uri())
    with Store.open(a) as store:
        files = {f"part-{i:03d}.bin": os.urandom(256 << 10) for i in range(120)}
        art = store.add_artifact("dataset", "big", files)
        store.set_alias(art, "production")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops", "--store", str(a), "push"],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    objects = remote / "objects" / "sha256"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if objects.is_dir() and sum(1 for _ in objects.rglob("*") if _.is_file()) >= 10:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = sum(1 for p in objects.rglob("*") if p.is_file())
    assert 0 < before < 121, "the push was not caught half-way"
    assert not (remote / "versions").exists()  # nothing published before every blob is there

    code, doc, err = mlops(a, "push")
    assert code == 0, err
    assert doc["blobs_uploaded"] == 121 - before and doc["blobs_present"] == before
    assert [p["label"] for p in doc["published"]] == ["big:1"]
    code, doc, _ = mlops(b, "pull", "big@production")
    assert code == 0 and doc["blobs_downloaded"] == 120
    fsck_ok(a)
    fsck_ok(b)
    from mlops.remote.remotes import Remote
    from mlops.remote.site import Site

    site = Site(Remote("origin", remote.as_uri()))
    assert all(site.objects.verify(d) is None for d in site.objects.list())
    assert site.objects.clean_staging(dry_run=True) <= 8  # at most the killed uploads' temps
