"""Damaged stores: fsck names every problem (exit 3) and readers never return wrong bytes."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from helpers.cli import run_cli
from mlops.errors import StoreIntegrityError
from mlops.store import Store
from mlops.store.artifact import Artifact
from mlops.store.maintenance import fsck

GOOD = b"id,x\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(2000))


def _blob(store: Store, art: Artifact, path: str = "data.csv") -> Path:
    return store.objects.path_for(art.files[path].hash)


def _writable(p: Path) -> None:
    os.chmod(p, 0o644)


def flip_byte(p: Path) -> None:
    _writable(p)
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))


def truncate(p: Path) -> None:
    _writable(p)
    with open(p, "r+b") as f:
        f.truncate(p.stat().st_size // 2)


def remove(p: Path) -> None:
    p.unlink()


@pytest.fixture
def damaged_setup(tmp_path: Path):
    root = tmp_path / "store"
    with Store.open(root) as store:
        good = store.add_artifact("dataset", "good", {"data.csv": b"fine\n"})
        bad = store.add_artifact(
            "dataset", "bad", {"data.csv": GOOD, "a-readme.txt": b"intact file that sorts first\n"}
        )
    return root, good, bad


@pytest.mark.parametrize("damage", [flip_byte, truncate, remove], ids=lambda f: f.__name__)
def test_damaged_blob_is_reported_and_never_read(tmp_path: Path, damaged_setup, damage) -> None:
    root, good, bad = damaged_setup
    with Store.open(root) as store:
        blob = _blob(store, bad)
        damage(blob)

        result = fsck(store)
        assert not result.ok
        [problem] = result.problems
        assert problem.object == bad.files["data.csv"].hash
        assert problem.artifact == "dataset/bad:1"
        assert "data.csv" in problem.problem

        with pytest.raises(StoreIntegrityError):
            store.read_file(bad, "data.csv")
        with pytest.raises(StoreIntegrityError):
            store.materialize(bad, "data.csv", tmp_path / "m.csv")
        assert not (tmp_path / "m.csv").exists()
        out = tmp_path / "export"
        with pytest.raises(StoreIntegrityError):
            store.export(bad, out)
        assert not out.exists() or list(out.iterdir()) == []
        # the intact artifact still reads
        assert store.read_file(good, "data.csv") == b"fine\n"

    env = {"MLOPS_STORE": str(root)}
    r = run_cli("fsck", cwd=tmp_path, env=env)
    assert r.returncode == 3, r.stderr
    text = r.stdout
    assert bad.files["data.csv"].hash[:16] in text and "dataset/bad:1" in text

    r = run_cli("--json", "fsck", cwd=tmp_path, env=env)
    assert r.returncode == 3
    report = json.loads(r.stdout)
    assert report["ok"] is False
    assert report["problems"][0]["object"] == bad.files["data.csv"].hash
    assert report["problems"][0]["artifact"] == "dataset/bad:1"

    r = run_cli("cat", "bad", "data.csv", cwd=tmp_path, env=env)
    assert r.returncode == 3
    assert r.stdout == ""
    assert "Traceback" not in r.stderr and bad.files["data.csv"].hash[:12] in r.stderr

    dest = tmp_path / "cli-export"
    r = run_cli("export", "bad", str(dest), cwd=tmp_path, env=env)
    assert r.returncode == 3, r.stderr
    assert not dest.exists() or list(dest.rglob("*")) == []

    r = run_cli("cat", "good", cwd=tmp_path, env=env)
    assert r.returncode == 0 and r.stdout == "fine\n"


def test_damaged_manifest_is_reported(tmp_path: Path, damaged_setup) -> None:
    root, _, bad = damaged_setup
    with Store.open(root) as store:
        flip_byte(store.objects.path_for(bad.id))
        result = fsck(store)
        assert [p.object for p in result.problems] == [bad.id]
        assert result.problems[0].artifact == "dataset/bad:1"
        with pytest.raises(StoreIntegrityError):
            store.resolve("bad")
    r = run_cli("show", "bad", cwd=tmp_path, env={"MLOPS_STORE": str(root)})
    assert r.returncode == 3 and "Traceback" not in r.stderr


def test_manifest_blob_that_is_not_json_is_integrity_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    with Store.open(root) as store:
        art = store.add_artifact("dataset", "x", {"f": b"1"})
        junk = store.put_bytes(b"not json at all").hash
        store.conn.execute("PRAGMA foreign_keys = OFF")
        store.conn.execute("UPDATE artifacts SET id = ? WHERE id = ?", (junk, art.id))
        store.conn.execute("UPDATE files SET artifact_id = ? WHERE artifact_id = ?", (junk, art.id))
        with pytest.raises(StoreIntegrityError):
            store.resolve("x")
        result = fsck(store)
        assert not result.ok and result.problems[0].object == junk
    r = run_cli("show", "x", cwd=tmp_path, env={"MLOPS_STORE": str(root)})
    assert r.returncode == 3, r.stderr


def test_catalog_row_pointing_nowhere(tmp_path: Path, damaged_setup) -> None:
    root, good, _ = damaged_setup
    nowhere = "ab" * 32
    conn = sqlite3.connect(root / "catalog.sqlite")
    with conn:
        conn.execute(
            "INSERT INTO artifacts (id, kind, name, version, created_at) VALUES (?,?,?,?,?)",
            (nowhere, "dataset", "ghost", 1, "2026-01-01T00:00:00Z"),
        )
        conn.execute(
            "INSERT INTO aliases (kind, name, alias, artifact_id) VALUES (?,?,?,?)",
            ("dataset", "good", "prod", "cd" * 32),
        )
    conn.close()
    with Store.open(root) as store:
        result = fsck(store)
        objects = {p.object: p for p in result.problems}
        assert nowhere in objects and objects[nowhere].artifact == "dataset/ghost:1"
        assert "missing" in objects[nowhere].problem
        assert "cd" * 32 in objects
        with pytest.raises(StoreIntegrityError):
            store.resolve("ghost")
        assert store.read_file(good, "data.csv") == b"fine\n"
    r = run_cli("fsck", cwd=tmp_path, env={"MLOPS_STORE": str(root)})
    assert r.returncode == 3
    assert "ghost" in r.stdout
    r = run_cli("cat", "ghost", cwd=tmp_path, env={"MLOPS_STORE": str(root)})
    assert r.returncode == 3 and r.stdout == ""


def test_blob_under_the_wrong_name(store: Store) -> None:
    a = store.add_artifact("dataset", "a", {"f": b"aaaa"})
    b = store.add_artifact("dataset", "b", {"f": b"bbbb"})
    pa, pb = (store.objects.path_for(x.files["f"].hash) for x in (a, b))
    _writable(pa)
    pa.write_bytes(pb.read_bytes())  # valid content, wrong address
    result = fsck(store)
    assert [p.object for p in result.problems] == [a.files["f"].hash]
    with pytest.raises(StoreIntegrityError):
        store.read_file(a, "f")


def test_fsck_clean_store_exits_0(tmp_path: Path, damaged_setup) -> None:
    root, _, _ = damaged_setup
    r = run_cli("--json", "fsck", cwd=tmp_path, env={"MLOPS_STORE": str(root)})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ok"] is True
