"""mlops.atomic: a file appears whole or not at all, and no temp file is left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mlops.atomic import (
    atomic_dir,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    default_mode,
)


def test_writes_replace_whole_and_follow_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    atomic_write_text(target, "first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert stat.S_IMODE(target.stat().st_mode) == default_mode()
    atomic_write_bytes(target, b"x", mode=0o640)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["out.txt"]


def test_an_error_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.txt.")
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_a_symlink_at_the_target_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    link = tmp_path / "link"
    link.symlink_to(victim)
    atomic_write_text(link, "new")
    assert victim.read_text() == "keep me"
    assert not link.is_symlink() and link.read_text() == "new"


def test_atomic_dir_swaps_a_whole_directory(tmp_path: Path) -> None:
    target = tmp_path / "bundle"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_dir(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        (tmp / "sub").mkdir()
        (tmp / "sub" / "new.txt").write_text("new")
        assert (target / "old.txt").is_file()  # readers still see the old directory
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        "sub",
        "sub/new.txt",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # nothing left beside it


def test_atomic_dir_leaves_the_old_directory_on_error(tmp_path: Path) -> None:
    target = tmp_path / "bundle"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("interrupted")
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]
