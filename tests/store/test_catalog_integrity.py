"""The catalog is an index of the manifests: a lost or damaged catalog is reported (exit 3), never
silently replaced; `fsck --rebuild` restores it from the manifests; gc refuses a catalog that was
not made with the objects and never deletes manifests unless told to; damaged blobs are repaired
by re-adding their bytes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops.cli.app import app
from mlops.store import Store
from mlops.store.maintenance import fsck
from mlops.store.migrations import migrate


def cli(store: Path, *args: str, **env: str):
    return CliRunner().invoke(app, ["--store", str(store), *args], env={"MLOPS_STORE": None, **env})


def make_store(root: Path) -> dict[str, list[str]]:
    """Datasets and models with lineage; returns {id: sorted parent ids}."""
    lineage: dict[str, list[str]] = {}
    with Store.open(root) as store:
        for i in range(12):
            data = store.add_artifact("dataset", f"data{i % 3}", {"d.csv": b"x,y\n%d,1\n" % i})
            model = store.add_artifact(
                "model", "churn", {"model.bin": b"model %d" % i}, parents=[data.id]
            )
            lineage[data.id] = []
            lineage[model.id] = [data.id]
        store.set_alias(model, "production", why="test")
    return lineage


def catalog_state(root: Path) -> dict[str, list[str]]:
    with Store.open(root, create=False) as store:
        return {r["id"]: sorted(store.parents(r["id"])) for r in store.list_rows()}


def delete(catalog: Path) -> None:
    catalog.unlink()


def empty(catalog: Path) -> None:
    catalog.write_bytes(b"")


def truncate(catalog: Path) -> None:
    with open(catalog, "r+b") as f:
        f.truncate(catalog.stat().st_size // 2)


def corrupt_header(catalog: Path) -> None:
    with open(catalog, "r+b") as f:
        f.write(b"this is no sqlite")


def malformed_page(catalog: Path) -> None:
    conn = sqlite3.connect(catalog)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'files'").fetchone()[0]
    conn.close()
    with open(catalog, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * 64)


DAMAGE = [delete, empty, truncate, corrupt_header, malformed_page]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_damaged_catalog_is_exit_3_then_rebuilt(tmp_path: Path, damage) -> None:
    root = tmp_path / "store"
    lineage = make_store(root)
    blobs_before = sorted(p.name for p in (root / "objects" / "sha256").rglob("*") if p.is_file())
    catalog = root / "catalog.sqlite"
    damage(catalog)
    (tmp_path / "new.txt").write_text("new\n")

    for args in (["ls"], ["add", str(tmp_path / "new.txt")], ["fsck"], ["gc"], ["show", "churn"]):
        r = cli(root, *args)
        assert r.exit_code == 3, (args, r.output)
        assert "fsck --rebuild" in r.stderr
        assert "catalog" in r.stderr.splitlines()[0]
        assert "internal error" not in r.output
    if damage is delete:
        assert not catalog.exists()  # no new empty catalog was made over the objects
    blobs_after = sorted(p.name for p in (root / "objects" / "sha256").rglob("*") if p.is_file())
    assert blobs_after == blobs_before  # gc deleted nothing

    r = cli(root, "--json", "fsck", "--rebuild")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["ok"] and report["rebuild"]["artifacts"] == len(lineage)
    assert catalog_state(root) == lineage
    if damage is not delete:
        kept = list(root.glob("catalog.sqlite.damaged-*"))
        assert [p.name for p in kept if not p.name.endswith(("-wal", "-shm"))]
    with Store.open(root) as store:
        assert fsck(store).ok
        churn = store.resolve("model/churn:12")
        assert store.read_file(churn, "model.bin") == b"model 11"
        # the store works again
        store.add_artifact("dataset", "after", {"a.csv": b"a\n"})
    assert cli(root, "gc").exit_code == 0
    assert catalog_state(root).keys() >= lineage.keys()


def test_rebuild_keeps_aliases_and_runs_when_the_old_catalog_still_reads(tmp_path: Path) -> None:
    root = tmp_path / "store"
    make_store(root)
    with Store.open(root) as store:
        run = store.start_run("train", name="churn")
        store.log_metrics(run, {"auc": 0.9})
        store.finish_run(run)
    r = cli(root, "--json", "fsck", "--rebuild")
    assert r.exit_code == 0, r.output
    rebuilt = json.loads(r.stdout)["rebuild"]
    assert rebuilt["old_catalog_damaged"] is False
    assert list(root.glob("catalog.sqlite.replaced-*"))
    with Store.open(root) as store:
        assert store.get_alias("model", "churn", "production") is not None
        assert store.get_run(run)["metrics"] == {"auc": 0.9}
        assert len(store.alias_history(name="churn")) == 1


def test_rebuild_settles_version_clashes_by_creation(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    with Store.open(a) as sa, Store.open(b) as sb:
        first = sa.add_artifact("dataset", "d", {"f": b"first\n"})
        second = sb.add_artifact("dataset", "d", {"f": b"second\n"})
    for blob in (b / "objects" / "sha256").rglob("*"):  # b's blobs copied into a's objects
        if blob.is_file():
            dest = a / blob.relative_to(b)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(blob, dest)
    r = cli(a, "--json", "fsck", "--rebuild")
    assert r.exit_code == 0, r.output
    [clash] = json.loads(r.stdout)["rebuild"]["clashes"]
    assert clash["kept"] == first.id and clash["renumbered"] == {second.id: 2}
    with Store.open(a) as store:
        assert store.resolve("d:1").id == first.id and store.resolve("d:2").id == second.id


def test_gc_refuses_a_catalog_created_after_the_objects(tmp_path: Path) -> None:
    root = tmp_path / "store"
    lineage = make_store(root)
    catalog = root / "catalog.sqlite"
    for p in root.glob("catalog.sqlite*"):
        p.unlink()
    conn = sqlite3.connect(catalog, isolation_level=None)  # as an older mlops made one
    migrate(conn, catalog)
    conn.close()
    blobs = sorted(p for p in (root / "objects" / "sha256").rglob("*") if p.is_file())

    for args in (["gc"], ["gc", "--dry-run"], ["gc", "--include-manifests"]):
        r = cli(root, *args)
        assert r.exit_code == 3, r.output
        assert "created after the objects" in r.stderr
    assert sorted(p for p in (root / "objects" / "sha256").rglob("*") if p.is_file()) == blobs
    r = cli(root, "fsck")
    assert r.exit_code == 3 and "created after the objects" in r.output
    assert cli(root, "fsck", "--rebuild").exit_code == 0
    assert catalog_state(root) == lineage


def test_gc_refuses_another_stores_catalog(tmp_path: Path) -> None:
    make_store(tmp_path / "a")
    with Store.open(tmp_path / "b") as other:
        other.add_artifact("dataset", "x", {"x": b"x"})
    for p in (tmp_path / "a").glob("catalog.sqlite*"):
        p.unlink()
    shutil.copy(tmp_path / "b" / "catalog.sqlite", tmp_path / "a" / "catalog.sqlite")
    r = cli(tmp_path / "a", "gc")
    assert r.exit_code == 3 and "another store" in r.stderr


def test_gc_keeps_manifests_the_catalog_forgot_unless_named(tmp_path: Path) -> None:
    root = tmp_path / "store"
    with Store.open(root) as store:
        kept = store.add_artifact("dataset", "kept", {"k": b"kept\n"})
        forgotten = store.add_artifact("dataset", "forgotten", {"f": b"forgotten\n"})
        garbage = store.put_bytes(b"unreferenced, not a manifest")
        with store.conn:
            store.conn.execute("DELETE FROM files WHERE artifact_id = ?", (forgotten.id,))
            store.conn.execute("DELETE FROM artifacts WHERE id = ?", (forgotten.id,))
    r = cli(root, "--json", "gc")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["removed_hashes"] == [garbage.hash]
    assert result["unindexed_manifests"] == 1
    with Store.open(root) as store:
        assert store.objects.has(forgotten.id) and store.objects.has(forgotten.files["f"].hash)
        r = cli(root, "fsck")
        assert r.exit_code == 0 and "not in the catalog" in r.output
    r = cli(root, "--json", "gc", "--include-manifests")
    assert r.exit_code == 0
    assert set(json.loads(r.stdout)["removed_hashes"]) == {forgotten.id, forgotten.files["f"].hash}
    with Store.open(root) as store:
        assert store.objects.has(kept.files["k"].hash)


def _blob(root: Path, digest: str) -> Path:
    return root / "objects" / "sha256" / digest[:2] / digest[2:]


@pytest.mark.parametrize("how", ["flip", "truncate"])
def test_readding_the_original_repairs_a_damaged_blob(tmp_path: Path, how: str) -> None:
    root = tmp_path / "store"
    src = tmp_path / "data.csv"
    src.write_bytes(b"id,x\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(500)))
    assert cli(root, "add", str(src)).exit_code == 0
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    blob = _blob(root, digest)
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    if how == "flip":
        data[100] ^= 1
    else:
        del data[len(data) // 2 :]
    blob.write_bytes(bytes(data))

    r = cli(root, "--json", "add", str(src), "--name", "again")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["repaired"] == [digest]
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == digest
    r = cli(root, "--json", "add", str(src), "--name", "third")
    assert r.exit_code == 0 and "repaired" not in json.loads(r.stdout)
    assert cli(root, "fsck").exit_code == 0


def test_proc_file_is_stored_as_the_bytes_that_were_hashed(tmp_path: Path) -> None:
    root = tmp_path / "store"
    assert Path("/proc/self/status").stat().st_size == 0
    r = cli(root, "--json", "add", "/proc/self/status", "--name", "status")
    assert r.exit_code == 0, r.output
    entry = json.loads(r.stdout)["artifact"]["files"]["status"]
    assert entry["size"] > 0
    blob = _blob(root, entry["hash"]).read_bytes()
    assert len(blob) == entry["size"] and hashlib.sha256(blob).hexdigest() == entry["hash"]
    assert b"Name:" in blob
    assert cli(root, "fsck").exit_code == 0
