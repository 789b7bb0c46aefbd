"""Files large enough to be copied block by block by a writer thread while they are hashed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from mlops.store.diskio import PIPELINE_MIN, WRITEBACK_EVERY, hash_copy
from mlops.store.objects import LocalObjectStore


@pytest.mark.parametrize("size", [PIPELINE_MIN, 2 * WRITEBACK_EVERY + 12_345])
def test_large_file_is_stored_as_the_bytes_hashed(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    (tmp_path / "store").mkdir()
    store = LocalObjectStore(tmp_path / "store")
    store.ensure()
    stored = store.put_many([src])[0]
    assert stored.digest == hashlib.sha256(data).hexdigest() and stored.size == size
    assert store.get(stored.digest) == data
    assert list(store.tmp.iterdir()) == []  # the staging copy was published, nothing left


def test_large_file_whose_blob_exists_leaves_no_copy(tmp_path: Path) -> None:
    data = os.urandom(PIPELINE_MIN + 1)
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(data)
    b.write_bytes(data)
    (tmp_path / "store").mkdir()
    store = LocalObjectStore(tmp_path / "store")
    store.ensure()
    first, second = store.put_many([a]), store.put_many([b])
    assert first == second and list(store.list()) == [first[0].digest]
    assert list(store.tmp.iterdir()) == []


def test_a_failed_write_is_raised_by_the_reader(tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(PIPELINE_MIN + 1))
    (tmp_path / "stage").write_bytes(b"")
    with (
        open(src, "rb") as f,
        open(tmp_path / "stage", "rb") as read_only,
        pytest.raises(OSError),  # EBADF from the writer thread, not a hang or a digest
    ):
        hash_copy(f.fileno(), read_only.fileno(), PIPELINE_MIN + 1)
