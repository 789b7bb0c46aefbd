"""The ObjectStore contract (mlops.store.backend), checked for every implementation.

A new backend (fsspec: S3, GCS, a shared mount) adds a factory to IMPLEMENTATIONS and a way to
damage a blob to DAMAGE; every test here must pass unchanged.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops.errors import InputError, StoreIntegrityError
from mlops.store.backend import ObjectStore, Stored
from mlops.store.objects import LocalObjectStore
from mlops.store.remote_objects import FsspecObjectStore


def _local(root: Path) -> ObjectStore:
    store = LocalObjectStore(root)
    store.ensure()
    return store


def _damage_local(store: ObjectStore, digest: str, data: bytes) -> None:
    assert isinstance(store, LocalObjectStore)
    path = store.path_for(digest)
    os.chmod(path, 0o644)
    path.write_bytes(data)


def _fsspec_file(root: Path) -> ObjectStore:
    """A remote on a shared mount: fsspec's local filesystem (writes staged, then renamed)."""
    from mlops.remote.urls import open_filesystem

    return FsspecObjectStore(*open_filesystem(root.as_uri()))


def _s3(root: Path) -> ObjectStore:
    """A remote on S3 (moto's server; the s3_endpoint fixture set AWS_ENDPOINT_URL): a fresh
    prefix per store, named after the temporary directory."""
    from mlops.remote.urls import open_filesystem

    return FsspecObjectStore(*open_filesystem(f"s3://mlops-test/{root.name}-{uuid.uuid4().hex}"))


def _damage_fsspec(store: ObjectStore, digest: str, data: bytes) -> None:
    assert isinstance(store, FsspecObjectStore)
    store.fs.pipe_file(store.key_for(digest), data)


IMPLEMENTATIONS: dict[str, Callable[[Path], ObjectStore]] = {
    "local": _local,
    "fsspec-file": _fsspec_file,
    "s3": _s3,
}
DAMAGE: dict[str, Callable[[ObjectStore, str, bytes], None]] = {
    "local": _damage_local,
    "fsspec-file": _damage_fsspec,
    "s3": _damage_fsspec,
}
# S3 round trips to a local server make its hypothesis examples take ~a minute: slow suite
SLOW = {"s3"}

blobs = st.binary(max_size=1 << 14)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(
    params=[
        pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else [])
        for n in sorted(IMPLEMENTATIONS)
    ]
)
def impl(request: pytest.FixtureRequest) -> str:
    if request.param == "s3":
        request.getfixturevalue("s3_endpoint")
    if request.param != "local":
        pytest.importorskip("fsspec")
    return str(request.param)


@contextmanager
def fresh(impl: str) -> Iterator[ObjectStore]:
    """A new empty store per hypothesis example (a function fixture would be shared by all)."""
    with tempfile.TemporaryDirectory() as d:
        yield IMPLEMENTATIONS[impl](Path(d))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@SETTINGS
@given(data=blobs)
def test_put_get_round_trip_every_source(impl: str, data: bytes) -> None:
    with fresh(impl) as store, tempfile.TemporaryDirectory() as d:
        src = Path(d) / "src"
        src.write_bytes(data)
        expected = Stored(sha(data), len(data))
        assert store.put(data) == expected
        assert store.put(src) == expected
        assert store.put(io.BytesIO(data)) == expected
        assert store.has(expected.digest)
        assert store.get(expected.digest) == data
        assert store.size(expected.digest) == len(data)
        with store.open(expected.digest) as reader:
            assert reader.read() == data
        assert store.verify(expected.digest) is None
        assert list(store.list()) == [expected.digest]


@SETTINGS
@given(items=st.lists(blobs, max_size=12))
def test_put_is_idempotent_and_list_yields_each_digest_once(impl: str, items: list[bytes]) -> None:
    with fresh(impl) as store:
        for data in items + items:
            store.put(data)
        assert sorted(store.list()) == sorted({sha(d) for d in items})
        for data in items:
            assert store.get(sha(data)) == data


@SETTINGS
@given(items=st.lists(blobs, min_size=1, max_size=10, unique=True))
def test_put_many_matches_put(impl: str, items: list[bytes]) -> None:
    with fresh(impl) as store, tempfile.TemporaryDirectory() as d:
        paths = []
        for i, data in enumerate(items):
            p = Path(d) / f"f{i}"
            p.write_bytes(data)
            paths.append(p)
        assert store.put_many(paths + paths) == [Stored(sha(x), len(x)) for x in items + items]
        assert sorted(store.list()) == sorted(sha(x) for x in items)


@SETTINGS
@given(data=blobs, other=blobs)
def test_damaged_bytes_are_never_returned(impl: str, data: bytes, other: bytes) -> None:
    if other == data:
        other += b"!"
    with fresh(impl) as store:
        digest = store.put(data).digest
        DAMAGE[impl](store, digest, other)
        with pytest.raises(StoreIntegrityError, match="damaged"):
            store.get(digest)
        with pytest.raises(StoreIntegrityError, match="damaged"), store.open(digest) as reader:
            while reader.read(1024):
                pass
        assert store.verify(digest) is not None


@SETTINGS
@given(data=blobs, keep=blobs)
def test_delete_is_idempotent(impl: str, data: bytes, keep: bytes) -> None:
    if keep == data:
        keep += b"!"
    with fresh(impl) as store:
        digest = store.put(data).digest
        store.put(keep)
        store.delete(digest)
        store.delete(digest)
        assert not store.has(digest)
        assert list(store.list()) == [sha(keep)]
        assert store.verify(digest) == "missing"
        with pytest.raises(StoreIntegrityError, match="missing"):
            store.get(digest)
        with pytest.raises(StoreIntegrityError, match="missing"):
            store.open(digest)
        with pytest.raises(StoreIntegrityError, match="missing"):
            store.size(digest)
        assert store.put(data).digest == digest  # it can be stored again
        assert store.get(digest) == data


@pytest.mark.parametrize("bad", ["", "0" * 63, "G" * 64, "A" * 64, "../" + "0" * 61, "0" * 65])
def test_malformed_digests_are_refused(impl: str, tmp_path: Path, bad: str) -> None:
    store = IMPLEMENTATIONS[impl](tmp_path)
    for call in (store.has, store.get, store.open, store.size, store.delete):
        with pytest.raises(StoreIntegrityError, match="malformed"):
            call(bad)


def test_put_refuses_what_is_not_a_regular_file(impl: str, tmp_path: Path) -> None:
    store = IMPLEMENTATIONS[impl](tmp_path)
    (tmp_path / "dir").mkdir()
    with pytest.raises(InputError, match="not a regular file"):
        store.put(tmp_path / "dir")
    assert list(store.list()) == []
    assert store.clean_staging() == 0


def test_a_reader_closed_early_verifies_nothing_and_reports_nothing(
    impl: str, tmp_path: Path
) -> None:
    store = IMPLEMENTATIONS[impl](tmp_path)
    digest = store.put(b"0123456789" * 1000).digest
    with store.open(digest) as reader:
        assert reader.read(10) == b"0123456789"
        assert not reader.verified
    with store.open(digest) as reader:
        reader.read()
        assert reader.verified
