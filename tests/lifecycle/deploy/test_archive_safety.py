"""Crafted package archives are refused (exit 3) and nothing is written outside the target."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from mlops.errors import StoreIntegrityError
from mlops.lifecycle.deploy import build_package
from mlops.lifecycle.deploy import bundle as bundle_io


def _member(name: str, data: bytes = b"x", **kw) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    return info, data


def _archive(path: Path, members, base_files: dict[str, bytes] | None = None) -> Path:
    """A gzip tar with the members in order (after an optional valid bundle)."""
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for rel, data in sorted((base_files or {}).items()):
            info = tarfile.TarInfo(f"pkg/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in members:
            if info.isreg():
                tar.addfile(info, io.BytesIO(data))
            else:
                info.size = 0
                tar.addfile(info)
    return path


def _crafted(tmp: Path) -> dict[str, list]:
    victim = tmp / "outside" / "victim.txt"
    return {
        "dotdot": [_member("pkg/../../outside/victim.txt", b"pwned")],
        "dotdot-plain": [_member("../outside/victim.txt", b"pwned")],
        "absolute": [_member(str(victim), b"pwned")],
        "symlink-out": [
            _member("pkg/link", type=tarfile.SYMTYPE, linkname=str(victim.parent)),
            _member("pkg/link/victim.txt", b"pwned"),
        ],
        "symlink-relative-out": [
            _member("pkg/link", type=tarfile.SYMTYPE, linkname="../../outside"),
            _member("pkg/link/victim.txt", b"pwned"),
        ],
        "hardlink-out": [_member("pkg/hard", type=tarfile.LNKTYPE, linkname="/etc/passwd")],
        "char-device": [_member("pkg/dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3)],
        "block-device": [_member("pkg/blk", type=tarfile.BLKTYPE, devmajor=8, devminor=0)],
        "fifo": [_member("pkg/fifo", type=tarfile.FIFOTYPE)],
        "setuid": [_member("pkg/run", b"#!/bin/sh\n", mode=0o4755)],
    }


EXPECT = {
    "dotdot": "'..'",
    "dotdot-plain": "'..'",
    "absolute": "absolute",
    "symlink-out": "points outside",
    "symlink-relative-out": "points outside",
    "hardlink-out": "points outside",
    "char-device": "device",
    "block-device": "device",
    "fifo": "device or special",
    "setuid": "setuid",
}


@pytest.fixture
def good_files(project, tmp_path) -> dict[str, bytes]:
    with project.store() as store:
        result = build_package(store, "churn", tmp_path / "dist")
    return bundle_io.read_bundle_dir(result.directory)


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


@pytest.mark.parametrize("case", sorted(EXPECT))
def test_safe_extract_refuses_crafted_member(tmp_path, good_files, case):
    (tmp_path / "outside").mkdir()
    archive = _archive(tmp_path / f"{case}.tar.gz", _crafted(tmp_path)[case], good_files)
    dest = tmp_path / "dest"
    with pytest.raises(StoreIntegrityError, match=EXPECT[case]):
        bundle_io.safe_extract(archive, dest)
    assert _tree(dest) == []  # checked before anything is written
    assert _tree(tmp_path / "outside") == []


@pytest.mark.parametrize("case", sorted(EXPECT))
def test_predict_with_crafted_archive_exits_3(project, subprocess_cli, tmp_path, good_files, case):
    (tmp_path / "outside").mkdir()
    archive = _archive(tmp_path / f"{case}.tar.gz", _crafted(tmp_path)[case], good_files)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    before = _tree(project.root)
    out = tmp_path / "out.csv"
    r = subprocess_cli(
        "predict",
        str(archive),
        "--input",
        str(project.batch_csv),
        "--output",
        str(out),
        cwd=project.root,
        env={"TMPDIR": str(scratch)},
    )
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert EXPECT[case].strip("'") in r.stderr
    assert _tree(tmp_path / "outside") == []
    assert _tree(scratch) == []  # the private unpack directory is removed
    assert not out.exists()
    assert _tree(project.root) == before


def test_symlink_inside_archive_is_refused(tmp_path, good_files):
    archive = _archive(
        tmp_path / "in.tar.gz",
        [_member("pkg/alias.json", type=tarfile.SYMTYPE, linkname="signature.json")],
        good_files,
    )
    with pytest.raises(StoreIntegrityError, match="regular files only"):
        bundle_io.safe_extract(archive, tmp_path / "dest")


def test_safe_extract_does_not_follow_symlinked_dest_parts(tmp_path, good_files):
    archive = tmp_path / "ok.tar.gz"
    bundle_io.write_archive(good_files, "pkg", archive)
    dest = tmp_path / "dest"
    dest.mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", dest / "pkg")
    with pytest.raises(StoreIntegrityError, match="symlink"):
        bundle_io.safe_extract(archive, dest)
    assert _tree(tmp_path / "elsewhere") == []


def test_good_archive_extracts_and_verifies(tmp_path, good_files):
    archive = tmp_path / "ok.tar.gz"
    bundle_io.write_archive(good_files, "pkg", archive)
    dest = bundle_io.safe_extract(archive, tmp_path / "dest")
    root = bundle_io.bundle_root(dest)
    assert root == dest / "pkg"
    assert bundle_io.read_bundle_dir(root) == good_files
    for p in root.rglob("*"):
        assert p.stat().st_mode & 0o777 == (0o755 if p.is_dir() else 0o644)


def test_not_an_archive_exits_3(project, cli, tmp_path):
    fake = tmp_path / "fake.tar.gz"
    fake.write_bytes(b"not a tarball at all")
    r = cli(
        "predict",
        str(fake),
        "--input",
        str(project.batch_csv),
        "--output",
        str(tmp_path / "o.csv"),
        cwd=project.root,
    )
    assert r.returncode == 3, r.stderr


class _Zeros(io.RawIOBase):
    """n zero bytes, streamed (a gzip bomb's payload without holding it in memory)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        k = min(len(b), self.n)
        b[:k] = bytes(k)
        self.n -= k
        return k


def _bomb(path: Path, size: int, first: dict[str, bytes] | None = None) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=9) as tar:
        for rel, data in (first or {}).items():
            info = tarfile.TarInfo(f"pkg/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("pkg/model.pkl")
        info.size = size
        tar.addfile(info, io.BufferedReader(_Zeros(size)))
    return path


def test_a_gzip_bomb_is_refused_before_anything_is_written(tmp_path, good_files):
    # 24 MiB of zeros packs into ~25 KiB (about 1000x); with a 1 MiB floor the limit is 100x
    archive = _bomb(tmp_path / "bomb.tar.gz", 24 << 20, first={"MANIFEST": b""})
    assert archive.stat().st_size < 64 << 10
    dest = tmp_path / "dest"
    with pytest.raises(StoreIntegrityError, match=r"declares more than 24\.0 MiB of files from"):
        bundle_io.safe_extract(archive, dest, floor=1 << 20)
    assert not dest.exists()
    # the same bytes at a ratio a real model reaches are fine
    good = tmp_path / "ok.tar.gz"
    bundle_io.write_archive(good_files, "pkg", good)
    bundle_io.safe_extract(good, tmp_path / "dest2", floor=1 << 10)
    assert bundle_io.unpacked_limit(1 << 20) == 256 << 20  # the floor
    assert bundle_io.unpacked_limit(1 << 30) == 16 << 30  # 100x, capped at 16 GiB


def test_a_header_declaring_a_huge_member_is_refused_at_once(project, cli, tmp_path):
    # the header says 8 GiB; the data is not there: refused on the header, no data is read
    archive = tmp_path / "huge.tar.gz"
    info = tarfile.TarInfo("pkg/model.pkl")
    info.size = 8 << 30
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb") as gz:
        gz.write(info.tobuf(format=tarfile.GNU_FORMAT) + bytes(4096))
    archive.write_bytes(raw.getvalue())
    data = tmp_path / "x.csv"
    data.write_text("a,b\n1,2\n")
    r = cli("predict", str(archive), "-i", str(data), "-o", str(tmp_path / "out.csv"))
    assert r.exit_code == 3
    assert "declares more than 8.0 GiB of files" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "out.csv").exists()
