"""Hostile and damaged package archives: the reader returns verified files or refuses with an
mlops error (exit 2 or 3), never another exception, and never writes outside its private
directory."""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops.errors import MlopsError
from mlops.lifecycle.deploy import bundle as bundle_io

FILES = {"MLmodel": b"flavors: {}\n", "model.pkl": b"\x80\x04N.", "signature.json": b"{}"}
BUNDLE = {**FILES, bundle_io.MANIFEST: bundle_io.manifest_text(FILES)}


def _good_archive() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "b.tar.gz"
        bundle_io.write_archive(BUNDLE, "pkg", path)
        return path.read_bytes()


GOOD = _good_archive()

names = st.one_of(
    st.sampled_from(
        ["pkg/MANIFEST", "pkg/model.pkl", "pkg/../x", "/etc/x", "pkg/a/../../x", "pkg/", ".", ""]
    ),
    st.text(alphabet="pkg/.ab\\\x00", min_size=1, max_size=20),
)
members = st.tuples(
    names,
    st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE]),
    st.binary(max_size=64),
    st.sampled_from([0o644, 0o755, 0o4755, 0o777]),
    st.sampled_from(["", "pkg/MANIFEST", "../../x", "/etc/passwd"]),
)


def _crafted(items: list[tuple]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for name, kind, data, mode, link in items:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.linkname = kind, mode, link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return raw.getvalue()


def _read(tmp: Path, blob: bytes) -> None:
    outside = tmp / "outside"
    outside.mkdir(exist_ok=True)
    archive = tmp / "in.tar.gz"
    archive.write_bytes(blob)
    private = Path(tempfile.mkdtemp(dir=tmp))  # the reader's temporary directories go here
    saved, tempfile.tempdir = tempfile.tempdir, str(private)
    try:
        files = bundle_io.read_bundle(archive)
    except MlopsError as e:
        assert e.exit_code in (2, 3), e
    else:
        assert files == BUNDLE  # only an intact bundle reads
    finally:
        tempfile.tempdir = saved
    assert list(outside.iterdir()) == []
    assert os.listdir(private) == []  # the private unpack directory is always removed


@settings(max_examples=120)
@given(flips=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), max_size=4))
def test_damaged_bytes(tmp_path: Path, flips: list[tuple[int, int]]) -> None:
    blob = bytearray(GOOD)
    for at, xor in flips:
        blob[at] ^= xor
    _read(tmp_path, bytes(blob))


@settings(max_examples=60)
@given(cut=st.integers(0, len(GOOD)))
def test_truncated(tmp_path: Path, cut: int) -> None:
    _read(tmp_path, GOOD[:cut])


@settings(max_examples=120)
@given(items=st.lists(members, max_size=6))
def test_crafted_members(tmp_path: Path, items: list[tuple]) -> None:
    _read(tmp_path, _crafted(items))
