"""Properties of the store, checked with hypothesis against real files and real SQLite."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
)

from mlops.errors import AmbiguousRefError, NotFoundError
from mlops.store import Store
from mlops.store.maintenance import fsck, gc

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _fresh_store() -> tuple[tempfile.TemporaryDirectory, Store]:
    tmp = tempfile.TemporaryDirectory()
    return tmp, Store.open(Path(tmp.name) / "store")


@SETTINGS
@given(data=st.binary(max_size=4096), path=st.sampled_from(["a", "x.bin", "d/e/f.txt"]))
def test_bytes_round_trip(data: bytes, path: str) -> None:
    tmp, store = _fresh_store()
    with tmp, store:
        art = store.add_artifact("blob", "thing", {path: data})
        assert store.read_file(store.resolve(art.id), path) == data
        out = Path(tmp.name) / "out"
        store.export(art, out)
        assert (out / path).read_bytes() == data
        assert store.objects.get(art.files[path].hash) == data


@SETTINGS
@given(data=st.binary(max_size=2048))
def test_file_round_trip(data: bytes) -> None:
    tmp, store = _fresh_store()
    with tmp, store:
        src = Path(tmp.name) / "src.bin"
        src.write_bytes(data)
        art, stats = store.add_path(src, name="src")
        assert stats["files"] == 1
        assert store.read_file(art, "src.bin") == data


@SETTINGS
@given(data=st.binary(max_size=2048), names=st.lists(st.sampled_from("abcd"), min_size=2))
def test_same_bytes_are_one_blob(data: bytes, names: list[str]) -> None:
    tmp, store = _fresh_store()
    with tmp, store:
        src = Path(tmp.name) / "f"
        src.write_bytes(data)
        for i, n in enumerate(names):
            # as bytes, as a file, under different artifact names and paths
            store.add_artifact("blob", n, {f"p{i}": data}, metadata={"i": i})
            store.add_artifact("blob", n + "-file", {"f": src}, metadata={"i": i})
        blobs = list(store.objects.list())
        data_blobs = [d for d in blobs if store.objects.get(d) == data]
        assert len(data_blobs) == 1
        # every other blob is a manifest (one per artifact)
        n_artifacts = store.conn.execute("SELECT count(*) FROM artifacts").fetchone()[0]
        assert len(blobs) == n_artifacts + 1


@SETTINGS
@given(payloads=st.lists(st.binary(max_size=64), min_size=1, max_size=12, unique=True))
def test_id_prefix_resolves_or_is_ambiguous(payloads: list[bytes]) -> None:
    tmp, store = _fresh_store()
    with tmp, store:
        ids = [store.add_artifact("blob", f"n{i}", {"f": p}).id for i, p in enumerate(payloads)]
        for aid, length in itertools.product(ids, (4, 5, 6, 12, 64)):
            prefix = aid[:length]
            matching = [i for i in ids if i.startswith(prefix)]
            if len(matching) == 1:
                assert store.resolve(prefix).id == aid
            else:
                with pytest.raises(AmbiguousRefError):
                    store.resolve(prefix)


def test_ambiguous_prefix_is_reported(store: Store) -> None:
    # find two artifacts that share a 4-character prefix (birthday bound: a few hundred adds)
    seen: dict[str, str] = {}
    for i in itertools.count():
        aid = store.add_artifact("blob", f"n{i}", {"f": str(i).encode()}).id
        if aid[:4] in seen:
            other = seen[aid[:4]]
            break
        seen[aid[:4]] = aid
    with pytest.raises(AmbiguousRefError, match="matches 2 artifacts"):
        store.resolve(aid[:4])
    n = next(i for i in range(64) if aid[i] != other[i]) + 1
    assert store.resolve(aid[:n]).id == aid
    assert store.resolve(other[:n]).id == other


def test_unknown_prefix_is_not_found(store: Store) -> None:
    store.add_artifact("blob", "x", {"f": b"1"})
    aid = store.resolve("x").id
    missing = ("0" if aid[0] != "0" else "1") * 8
    with pytest.raises(NotFoundError):
        store.resolve(missing)


class GcNeverRemovesReferenced(RuleBasedStateMachine):
    """Random adds (files and bytes, shared content), orphan blobs and gc runs."""

    contents = Bundle("contents")

    def __init__(self) -> None:
        super().__init__()
        self.tmp, self.store = _fresh_store()
        self.expected: dict[str, dict[str, bytes]] = {}  # artifact id -> {path: bytes}
        self.n = 0

    @rule(target=contents, data=st.binary(max_size=128))
    def new_content(self, data: bytes) -> bytes:
        return data

    @rule(data=contents, name=st.sampled_from(["a", "b", "c"]), as_file=st.booleans())
    def add(self, data: bytes, name: str, as_file: bool) -> None:
        self.n += 1
        if as_file:
            src = Path(self.tmp.name) / f"src{self.n}"
            src.write_bytes(data)
            art = self.store.add_artifact("blob", name, {"f": src}, metadata={"n": self.n})
        else:
            art = self.store.add_artifact("blob", name, {"f": data}, metadata={"n": self.n})
        self.expected[art.id] = {"f": data}

    @rule(data=contents)
    def orphan(self, data: bytes) -> None:
        self.store.put_bytes(data + b"orphan")

    @rule(dry_run=st.booleans())
    def collect(self, dry_run: bool) -> None:
        gc(self.store, dry_run=dry_run)

    @invariant()
    def every_artifact_reads_back(self) -> None:
        for aid, files in self.expected.items():
            art = self.store.get(aid)
            for p, data in files.items():
                assert self.store.read_file(art, p) == data

    def teardown(self) -> None:
        gc(self.store)
        result = fsck(self.store)
        assert result.ok, result.problems
        assert result.unreferenced == 0
        self.store.close()
        self.tmp.cleanup()


GcNeverRemovesReferenced.TestCase.settings = settings(
    max_examples=30, stateful_step_count=25, deadline=None
)
test_gc_never_removes_referenced = GcNeverRemovesReferenced.TestCase
