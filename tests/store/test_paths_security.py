"""Names, paths and symlinks: refused before anything touches the disk; temp files private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from helpers.cli import run_cli
from mlops.errors import InputError, StoreIntegrityError
from mlops.store import Store
from mlops.store.maintenance import fsck, gc
from mlops.store.names import check_kind, check_name, check_relpath

BAD_NAMES = [
    "../x",
    "..",
    "a/../b",
    "/etc/passwd",
    "a/b",
    "a\\b",
    "C:\\x",
    "x\x00y",
    "x\n",
    "x\ny",
    "\nx",
    "",
    ".hidden",
    "a#b",
    "a;b",
    "a?b",
    "%2e%2e%2f",
    "x" * 200,
]
BAD_PATHS = [
    "../x",
    "a/../../x",
    "/abs",
    "//host/x",
    "a\\..\\x",
    "C:x",
    "x\x00",
    "x\n",
    "a\rb",
    "",
    ".",
    "a/./b",
    "a//b",
    "a/",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_refused(name: str) -> None:
    with pytest.raises(InputError):
        check_name(name)


@pytest.mark.parametrize("kind", ["Dataset", "../x", "a/b", "x\n", "", "k" * 40])
def test_bad_kinds_refused(kind: str) -> None:
    with pytest.raises(InputError):
        check_kind(kind)


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_relpaths_refused(path: str) -> None:
    with pytest.raises(InputError):
        check_relpath(path)


@pytest.mark.parametrize("path", ["a", "a/b.csv", "dir/sub/x.parquet", "a..b", "..a"])
def test_good_relpaths_accepted(path: str) -> None:
    assert check_relpath(path) == path


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("name", ["../x", "/abs", "x\n", "a\x00b"])
def test_store_refuses_bad_names_without_writing(tmp_path: Path, name: str) -> None:
    root = tmp_path / "store"
    with Store.open(root) as store:
        art = store.add_artifact("dataset", "ok", {"f": b"fine"})
        before = _tree(tmp_path)
        with pytest.raises(InputError):
            store.add_artifact("dataset", name, {"f": b"data"})
        with pytest.raises(InputError):
            store.add_artifact("dataset", "ok", {name: b"data"})
        with pytest.raises(InputError):
            store.add_artifact(name, "ok", {"f": b"data"})
        with pytest.raises(InputError):
            store.set_alias(art, name)
        with pytest.raises(InputError), store.lock(name):
            pass
        with pytest.raises(InputError):
            store.resolve(name)
        assert _tree(tmp_path) - before <= {"store/catalog.sqlite-shm", "store/catalog.sqlite-wal"}
        assert store.alias_history() == []


@pytest.mark.parametrize("name", ["../x", "/tmp/abs", "x\ny"])
def test_cli_refuses_bad_name_before_creating_the_store(tmp_path: Path, name: str) -> None:
    src = tmp_path / "data.csv"
    src.write_text("a\n1\n")
    r = run_cli(
        "add", str(src), "--name", name, cwd=tmp_path, env={"MLOPS_STORE": str(tmp_path / "st")}
    )
    assert r.returncode == 2, r.stderr
    assert "invalid name" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "st").exists()
    r = run_cli(
        "add", str(src), "--kind", "../k", cwd=tmp_path, env={"MLOPS_STORE": str(tmp_path / "st")}
    )
    assert r.returncode == 2
    assert not (tmp_path / "st").exists()


def test_directory_with_a_bad_file_name_is_refused_whole(tmp_path: Path, store: Store) -> None:
    d = tmp_path / "data"
    d.mkdir()
    (d / "a.csv").write_text("fine")
    (d / "bad\nname.csv").write_text("newline in the name")
    with pytest.raises(InputError):
        store.add_path(d)
    assert list(store.objects.list()) == []  # nothing stored before the refusal


def test_directory_with_a_symlink_is_refused(tmp_path: Path, store: Store) -> None:
    d = tmp_path / "data"
    d.mkdir()
    (d / "a.csv").write_text("fine")
    (d / "link").symlink_to("/etc/passwd")
    with pytest.raises(InputError, match="symlink"):
        store.add_path(d)
    with pytest.raises(InputError, match="symlink"):
        store.add_path(d / "link")


def test_symlinked_objects_dir_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "store"
    root.mkdir()
    (root / "objects").symlink_to(outside)
    with pytest.raises(StoreIntegrityError, match="symlink"):
        Store.open(root)
    assert list(outside.iterdir()) == []
    r = run_cli("add", str(tmp_path / "store"), cwd=tmp_path, env={"MLOPS_STORE": str(root)})
    assert r.returncode == 3 and "symlink" in r.stderr


def test_symlinked_store_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(InputError):
        Store.open(tmp_path / "link")


def test_symlinked_blob_is_refused_and_reported(tmp_path: Path, store: Store) -> None:
    art = store.add_artifact("dataset", "x", {"f": b"secret-looking bytes"})
    blob = store.objects.path_for(art.files["f"].hash)
    copy = tmp_path / "copy"
    copy.write_bytes(blob.read_bytes())  # even with the right bytes behind it
    blob.unlink()
    blob.symlink_to(copy)
    with pytest.raises(StoreIntegrityError):
        store.read_file(art, "f")
    result = fsck(store)
    assert any(p.object == art.files["f"].hash and "symlink" in p.problem for p in result.problems)


def test_symlinked_fanout_dir_is_refused(tmp_path: Path, store: Store) -> None:
    art = store.add_artifact("dataset", "x", {"f": b"bytes behind a linked directory"})
    digest = art.files["f"].hash
    fan = store.objects.path_for(digest).parent
    outside = tmp_path / "outside"
    fan.rename(outside)
    fan.symlink_to(outside)
    with pytest.raises(StoreIntegrityError):
        store.read_file(art, "f")
    assert not fsck(store).ok
    # a writer never writes through it either
    store2 = tmp_path / "w"
    store2.mkdir()
    with pytest.raises(StoreIntegrityError):
        store.objects._publish([(_staged(store, b"x"), digest[:2] + "0" * 62)], synced=True)


def _staged(store: Store, data: bytes) -> Path:
    fd, p = store.objects._staging()
    os.write(fd, data)
    os.close(fd)
    return p


def test_export_refuses_to_write_through_symlinks(tmp_path: Path, store: Store) -> None:
    art = store.add_artifact("dataset", "x", {"sub/f.txt": b"payload", "g.txt": b"other"})
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside)
    with pytest.raises(InputError, match="symlink"):
        store.export(art, dest)
    assert list(outside.iterdir()) == []
    assert not (dest / "g.txt").exists()

    dest2 = tmp_path / "dest2"
    dest2.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    (dest2 / "g.txt").symlink_to(victim)
    with pytest.raises(InputError, match="symlink"):
        store.export(art, dest2)
    assert victim.read_text() == "keep me"
    with pytest.raises(InputError, match="symlink"):
        store.materialize(art, "g.txt", dest2 / "g.txt")
    assert victim.read_text() == "keep me"


def test_temp_files_are_private_and_gc_removes_leftovers(tmp_path: Path, store: Store) -> None:
    tmp = store.objects.tmp
    assert stat.S_IMODE(tmp.stat().st_mode) == 0o700
    fd, p = store.objects._staging()
    os.close(fd)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    art = store.add_artifact("dataset", "x", {"f": b"data"})
    blob = store.objects.path_for(art.files["f"].hash)
    assert stat.S_IMODE(blob.stat().st_mode) == 0o444
    result = gc(store, dry_run=True)
    assert result.tmp_removed == 1 and p.exists()
    result = gc(store)
    assert result.tmp_removed == 1 and not p.exists()
    assert store.read_file(art, "f") == b"data"
    # a store whose tmp/ was loosened is tightened again on open
    os.chmod(tmp, 0o777)
    Store.open(store.root).close()
    assert stat.S_IMODE(tmp.stat().st_mode) == 0o700


def test_export_file_modes_follow_umask(tmp_path: Path, store: Store) -> None:
    art = store.add_artifact("dataset", "x", {"f": b"data"})
    [out] = store.export(art, tmp_path / "out")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["f"]
