"""The Store: content-addressed blobs plus the SQLite catalog, behind one small API.

Every step reads and writes artifacts through this class; tests call it directly. It is a facade:
each method delegates to the module that holds that part of the store —

    backend.py / objects.py   blobs (the ObjectStore interface; the local filesystem store)
    catalog.py, migrations.py the SQLite connection, its schema and upgrades
    ingest.py                 putting files in, and the file-state cache of their hashes
    artifacts.py              manifests and their catalog rows
    refs.py                   id prefix, name, name:version, name@alias -> id
    export.py                 verified reads and copies of an artifact's files
    lineage.py, aliases.py, runs.py, cache.py, locks.py
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from mlops.errors import InputError, NotFoundError, StoreIntegrityError
from mlops.store import aliases as _aliases
from mlops.store import artifacts as _artifacts
from mlops.store import cache as _cache
from mlops.store import export as _export
from mlops.store import ingest as _ingest
from mlops.store import lineage as _lineage
from mlops.store import runs as _runs
from mlops.store.artifact import Artifact, FileEntry
from mlops.store.artifacts import check_relpath_integrity
from mlops.store.backend import ObjectStore
from mlops.store.catalog import connect
from mlops.store.locks import Locks
from mlops.store.migrations import migrate
from mlops.store.names import check_kind, check_name
from mlops.store.objects import LocalObjectStore
from mlops.store.refs import resolve_id
from mlops.store.stamps import current_user, now_iso

__all__ = ["FileSource", "Store", "check_relpath_integrity", "current_user", "now_iso"]

FileSource = Path | bytes


def _refuse_link(path: Path, what: str = "file or directory") -> None:
    if path.is_symlink():
        raise StoreIntegrityError(
            f"{path} is a symlink; the store does not follow links out of itself",
            hint=f"replace the link with a real {what}",
        )


class Store:
    def __init__(self, root: Path, objects: ObjectStore | None = None) -> None:
        self.root = Path(root)
        self.objects: ObjectStore = objects or LocalObjectStore(self.root)
        self._conn: sqlite3.Connection | None = None
        self._locks = Locks(self.root / "locks")
        self._file_state = _ingest.FileStateCache()

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, root: Path | str, create: bool = True) -> Store:
        root = Path(root)
        if root.is_symlink():
            raise InputError(
                f"store path {root} is a symlink", hint="point --store at a real directory"
            )
        if not root.exists():
            if not create:
                raise NotFoundError(
                    f"no store at {root}",
                    hint="run a command that writes (e.g. `mlops add`) or check --store",
                )
            root.mkdir(parents=True)
        elif not root.is_dir():
            raise InputError(f"store path {root} is not a directory")
        for part, what in (
            ("objects", "directory"),
            ("tmp", "directory"),
            ("locks", "file or directory"),
            ("catalog.sqlite", "file or directory"),
        ):
            _refuse_link(root / part, what)
        store = cls(root)
        try:  # first the catalog: a store from a newer mlops is refused before anything is written
            migrate(store.conn, root / "catalog.sqlite")
        except BaseException:
            store.close()
            raise
        if isinstance(store.objects, LocalObjectStore):
            store.objects.ensure()
        (root / "locks").mkdir(exist_ok=True)
        return store

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.root / "catalog.sqlite")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- blobs and files -------------------------------------------------------------------
    def hash_file(self, path: Path) -> tuple[str, int, bool]:
        """(sha256, size, cached): skip re-hashing when path, inode, size and mtime are unchanged."""
        return _ingest.hash_file(self.conn, self._file_state, path)

    def put_file(self, path: Path) -> tuple[FileEntry, bool]:
        """Store a file; returns its entry and whether the hash came from the state cache."""
        with self.gc_guard():
            return _ingest.put_file(self.conn, self._file_state, self.objects, path)

    def put_bytes(self, data: bytes) -> FileEntry:
        with self.gc_guard():  # gc must not reclaim the staging file while it is written
            return FileEntry(*self.objects.put(data))

    # -- artifacts -------------------------------------------------------------------------
    def add_artifact(
        self,
        kind: str,
        name: str,
        files: Mapping[str, FileSource | FileEntry],
        metadata: dict[str, Any] | None = None,
        parents: list[str] | tuple[str, ...] = (),
        run_id: str | None = None,
        command: str | None = None,
        reuse_unchanged: bool = True,
    ) -> Artifact:
        """Store files and record them as the next version of (kind, name).

        With reuse_unchanged, an artifact identical in files, metadata and parents to the latest
        version is returned instead of a new version (as `dvc add` of unchanged data).
        """
        sorted_parents, meta = _artifacts.check_new(self.conn, kind, name, files, metadata, parents)
        with self.gc_guard():
            entries = self._entries(files)
            return _artifacts.record(
                self.conn,
                self.objects,
                kind,
                name,
                entries,
                meta,
                sorted_parents,
                run_id,
                command,
                reuse_unchanged,
            )

    def _entries(self, files: Mapping[str, FileSource | FileEntry]) -> dict[str, FileEntry]:
        entries: dict[str, FileEntry] = {}
        with self._file_state.batched(self.conn):
            for p, src in files.items():
                if isinstance(src, FileEntry):
                    if not self.objects.has(src.hash):
                        raise StoreIntegrityError(
                            f"object {src.hash[:12]} for {p} is not in the store"
                        )
                    entries[p] = src
                elif isinstance(src, bytes | bytearray):
                    entries[p] = self.put_bytes(bytes(src))
                else:
                    entries[p] = self.put_file(Path(src))[0]
        return entries

    def add_path(
        self,
        path: Path,
        name: str | None = None,
        kind: str = "dataset",
        metadata: dict[str, Any] | None = None,
        command: str | None = None,
    ) -> tuple[Artifact, dict[str, int]]:
        """Version a file or a directory tree (regular files only; symlinks are refused)."""
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path} does not exist")
        name = name or _artifacts.default_name(path)
        check_name(name)
        check_kind(kind)
        listing = list(_artifacts.walk(path))  # validates every path before anything is written
        if not listing:
            raise InputError(f"{path} holds no files to add")
        meta = {"source": str(path), "is_dir": path.is_dir(), **(metadata or {})}
        # one guard from the first staged blob to the catalog commit: gc cannot slip in between
        with self.gc_guard():
            files, stats = _ingest.put_files(self.conn, self.objects, listing)
            art = self.add_artifact(kind, name, files, metadata=meta, command=command)
        return art, stats

    def has(self, artifact_id: str) -> bool:
        """Whether the catalog holds an artifact with this full id."""
        return _artifacts.has(self.conn, artifact_id)

    def get(self, artifact_id: str) -> Artifact:
        return _artifacts.get(self.conn, self.objects, artifact_id)

    def list_artifacts(self, kind: str | None = None, name: str | None = None) -> list[Artifact]:
        return [self.get(r["id"]) for r in self.list_rows(kind, name)]

    def list_rows(self, kind: str | None = None, name: str | None = None) -> list[sqlite3.Row]:
        """Catalog rows only (no manifest reads): fast listings."""
        return _artifacts.list_rows(self.conn, kind, name)

    def resolve(self, ref: str, kind: str | None = None) -> Artifact:
        """An id or unique id prefix, `[kind/]name`, `[kind/]name:version` or `[kind/]name@alias`."""
        return self.get(resolve_id(self.conn, ref, kind))

    def try_resolve(self, ref: str, kind: str | None = None) -> Artifact | None:
        try:
            return self.resolve(ref, kind=kind)
        except NotFoundError:
            return None

    # -- reading files ---------------------------------------------------------------------
    def _entry(self, art: Artifact, path: str) -> FileEntry:
        return _export.entry(art, path)

    def read_file(self, art: Artifact, path: str) -> bytes:
        return _export.read_file(self.objects, art, path)

    def read_json(self, art: Artifact, path: str) -> Any:
        return _export.read_json(self.objects, art, path)

    def export(self, art: Artifact, dest: Path) -> list[Path]:
        """Copy every file of an artifact under dest, verified, all or nothing; refuses to write
        through symlinks."""
        return _export.export(self.objects, art, dest)

    def materialize(self, art: Artifact, path: str, dest: Path) -> Path:
        return _export.materialize(self.objects, art, path, dest)

    # -- lineage ---------------------------------------------------------------------------
    def parents(self, artifact_id: str) -> list[str]:
        return _lineage.parents(self.conn, artifact_id)

    def children(self, artifact_id: str) -> list[str]:
        return _lineage.children(self.conn, artifact_id)

    def lineage(self, artifact_id: str, down: bool = False, max_depth: int = 50) -> dict[str, Any]:
        """A tree {artifact, children: [...]} of ancestors (or, with down, descendants)."""
        return _lineage.lineage(self.conn, artifact_id, down, max_depth)

    # -- aliases ---------------------------------------------------------------------------
    def set_alias(
        self,
        art: Artifact,
        alias: str,
        why: str | None = None,
        who: str | None = None,
        expect_from: str | None | bool = False,
    ) -> str | None:
        """Point (kind, name)@alias at art; record the move. Returns the previous holder.
        expect_from (an id or None) makes it a compare-and-swap (see aliases.set_alias)."""
        return _aliases.set_alias(self.conn, art, alias, why, who, expect_from)

    def get_alias(self, kind: str, name: str, alias: str) -> str | None:
        return _aliases.get_alias(self.conn, kind, name, alias)

    def aliases(self, kind: str, name: str) -> dict[str, str]:
        return _aliases.aliases(self.conn, kind, name)

    def alias_history(
        self, kind: str | None = None, name: str | None = None, alias: str | None = None
    ) -> list[dict[str, Any]]:
        return _aliases.alias_history(self.conn, kind, name, alias)

    # -- runs ------------------------------------------------------------------------------
    def start_run(
        self,
        step: str,
        name: str | None = None,
        config_hash: str | None = None,
        command: str | None = None,
        git_commit: str | None = None,
        info: dict[str, Any] | None = None,
    ) -> str:
        return _runs.start_run(self.conn, step, name, config_hash, command, git_commit, info)

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        _runs.log_params(self.conn, run_id, params)

    def log_metrics(self, run_id: str, metrics: Mapping[str, float | None], step: int = 0) -> None:
        _runs.log_metrics(self.conn, run_id, metrics, step)

    def link_run(self, run_id: str, artifact_id: str, role: str) -> None:
        _runs.link_run(self.conn, run_id, artifact_id, role)

    def finish_run(
        self, run_id: str, status: str = "succeeded", info: dict[str, Any] | None = None
    ) -> None:
        _runs.finish_run(self.conn, run_id, status, info)

    def get_run(self, ref: str) -> dict[str, Any]:
        return _runs.get_run(self.conn, ref)

    def list_runs(self, step: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        return _runs.list_runs(self.conn, step, limit)

    # -- stage cache -----------------------------------------------------------------------
    def cache_get(self, key: str) -> dict[str, Any] | None:
        return _cache.cache_get(self.conn, key)

    def cache_put(self, key: str, stage: str, outputs: dict[str, Any]) -> None:
        _cache.cache_put(self.conn, key, stage, outputs)

    # -- locks -----------------------------------------------------------------------------
    def gc_guard(self, exclusive: bool = False) -> AbstractContextManager[None]:
        """Writers hold it shared from staging blobs to committing the catalog row; gc holds it
        exclusive, so it never reclaims a blob that a writer has not committed yet."""
        return self._locks.gc_guard(exclusive)

    def lock(self, name: str, wait: bool = False) -> AbstractContextManager[None]:
        """An exclusive advisory lock; the kernel drops it when the holder dies (no stale locks)."""
        return self._locks.lock(name, wait)
