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

from mlops.errors import InputError, NotFoundError, StoreIntegrityError, StoreReadOnlyError
from mlops.store import aliases as _aliases
from mlops.store import artifacts as _artifacts
from mlops.store import cache as _cache
from mlops.store import export as _export
from mlops.store import health as _health
from mlops.store import ingest as _ingest
from mlops.store import lineage as _lineage
from mlops.store import runs as _runs
from mlops.store.artifact import Artifact, FileEntry
from mlops.store.artifacts import check_relpath_integrity
from mlops.store.backend import ObjectStore
from mlops.store.catalog import CatalogDiskFull, open_checked
from mlops.store.locks import Locks
from mlops.store.migrations import migrate
from mlops.store.names import check_kind, check_name
from mlops.store.objects import LocalObjectStore
from mlops.store.refs import resolve_id
from mlops.store.stamps import current_user, now_iso

__all__ = ["FileSource", "Store", "check_relpath_integrity", "current_user", "now_iso"]

FileSource = Path | bytes


_NO_STORE = (
    "check --store and MLOPS_STORE; `mlops init` (or any command that writes, such as "
    "`mlops add`) creates the store"
)


def _refuse_link(path: Path, what: str = "file or directory") -> None:
    if path.is_symlink():
        raise StoreIntegrityError(
            f"{path} is a symlink; the store does not follow links out of itself",
            hint=f"replace the link with a real {what}",
        )


class Store:
    """A content-addressed store: immutable blobs behind an `ObjectStore`, and a SQLite catalog
    of artifacts, lineage, aliases and runs. Open it with `Store.open(path)`; use it as a context
    manager so the catalog connection is closed.
    """

    def __init__(
        self, root: Path, objects: ObjectStore | None = None, read_only: bool = False
    ) -> None:
        self.root = Path(root)
        self.read_only = read_only
        self.objects: ObjectStore = objects or LocalObjectStore(self.root)
        self._conn: sqlite3.Connection | None = None
        self._full: CatalogDiskFull | None = None
        self._locks = Locks(self.root / "locks")
        self._file_state = _ingest.FileStateCache()

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, root: Path | str, create: bool = True) -> Store:
        """Open the store at root, checking its catalog and migrating it to this release's schema.

        Args:
            root: the store directory (`.mlops`).
            create: make an empty store when root does not exist; read-only commands pass
                False so that a typo is reported instead of creating a store.

        Returns:
            The open store; read-only (`store.read_only`) when this process cannot write it.

        Raises:
            NotFoundError: root does not exist and create is False.
            InputError: root is a symlink, not a directory, or cannot be created.
            StoreIntegrityError: the catalog is missing or empty over existing objects, or
                damaged (`PRAGMA quick_check`); the hint is `mlops fsck --rebuild`.
            StoreVersionError: the catalog was written by a newer mlops (exit 2).
        """
        root = Path(root)
        if root.is_symlink():
            raise InputError(
                f"store path {root} is a symlink", hint="point --store at a real directory"
            )
        if not root.exists():
            if not create:
                raise NotFoundError(f"no store at {root} (the path does not exist)", hint=_NO_STORE)
            try:
                root.mkdir(parents=True)
            except OSError as e:
                raise InputError(f"cannot create a store at {root}: {e.strerror}") from None
        elif not root.is_dir():
            raise InputError(f"store path {root} is not a directory")
        for part, what in (
            ("objects", "directory"),
            ("tmp", "directory"),
            ("locks", "file or directory"),
            ("catalog.sqlite", "file or directory"),
        ):
            _refuse_link(root / part, what)
        _health.refuse_missing_catalog(root)
        if not create and not (root / "catalog.sqlite").exists():
            raise NotFoundError(
                f"{root} is not an mlops store (it has no catalog.sqlite)", hint=_NO_STORE
            )
        new_catalog = not (root / "catalog.sqlite").exists()
        store = cls(root, read_only=not _health.writable(root))
        if store.read_only and new_catalog:
            raise StoreReadOnlyError(f"the store at {root} is read-only and has no catalog yet")
        try:  # first the catalog: a store from a newer mlops is refused before anything is written
            migrate(store.conn, root / "catalog.sqlite", read_only=store.read_only)
            if not store.read_only:
                if isinstance(store.objects, LocalObjectStore):
                    store.objects.ensure()
                    store.objects.checks = _ingest.BlobChecks(store.conn)
                (root / "locks").mkdir(exist_ok=True)
                _health.stamp_store_id(store.conn, root, new_catalog)
        except OSError as e:
            store.close()
            raise InputError(f"cannot use {root} as a store: {e.strerror}") from None
        except BaseException:
            store.close()
            raise
        return store

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            path = self.root / "catalog.sqlite"
            try:
                self._conn = open_checked(path, read_only=self.read_only)
            except CatalogDiskFull as e:
                # read commands still work on a full disk; writes are refused with this error
                self._conn = open_checked(path, read_only=True)
                self.read_only, self._full = True, e
        return self._conn

    def require_writable(self) -> None:
        """Raise StoreReadOnlyError (exit 2) when this store was opened read-only, or the
        no-space error (exit 2) when its disk was full when the catalog was opened."""
        if self._full is not None:
            raise self._full
        if self.read_only:
            raise StoreReadOnlyError(
                f"the store at {self.root} is read-only",
                hint="read commands (ls, show, cat, export, lineage, fsck) work on it; "
                "write to a writable copy",
            )

    def catalog_mismatch(self) -> str | None:
        """Why the catalog may not index these objects (another store's, or made after them)."""
        return _health.catalog_mismatch(self.conn, self.root)

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
        self.require_writable()
        with self.gc_guard():
            return _ingest.put_file(self.conn, self._file_state, self.objects, path)

    def put_bytes(self, data: bytes) -> FileEntry:
        self.require_writable()
        with self.gc_guard():  # gc must not reclaim the staging file while it is written
            return FileEntry(*self.objects.put(data))

    def repaired_blobs(self) -> list[str]:
        """Damaged blobs this store replaced with good bytes while putting (verify before reuse)."""
        return list(getattr(self.objects, "repaired", []))

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

        Args:
            kind: the artifact kind (`dataset`, `model`, ...).
            name: the artifact name; versions count per (kind, name).
            files: path inside the artifact -> a file path, bytes, or an entry already stored.
            metadata: JSON-serialisable facts stored in the manifest.
            parents: ids of the artifacts this one was made from (lineage).
            run_id: the run that made it.
            command: the command line that made it.
            reuse_unchanged: return the latest version instead of a new one when files,
                metadata and parents are identical (as `dvc add` of unchanged data).

        Returns:
            The artifact; its id is the hash of its manifest.

        Raises:
            InputError: a bad kind, name or file path, or a file that cannot be read.
            NotFoundError: a parent id is not in the store.
        """
        self.require_writable()
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
                    if not self.objects.reusable(src.hash, src.size):  # verify before reuse
                        raise StoreIntegrityError(
                            f"object {src.hash[:12]} for {p} is missing or damaged",
                            hint="run `mlops fsck`; rerun the step that made it",
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
        """Version a file or a directory tree as one artifact, as `mlops add` does.

        Args:
            path: a regular file or a directory (its regular files; symlinks are refused).
            name: the artifact name (default: from the path).
            kind: the artifact kind.
            metadata: extra facts for the manifest.
            command: the command line that made it.

        Returns:
            The artifact, and counts of files hashed and reused from the file-state cache.

        Raises:
            InputError: path does not exist, is a symlink or holds one.
        """
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path} does not exist")
        self.require_writable()
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
        """The artifact with this full id, read from its verified manifest.

        Raises:
            NotFoundError: no such artifact.
            StoreIntegrityError: its manifest is missing or damaged.
        """
        return _artifacts.get(self.conn, self.objects, artifact_id)

    def list_artifacts(self, kind: str | None = None, name: str | None = None) -> list[Artifact]:
        return [self.get(r["id"]) for r in self.list_rows(kind, name)]

    def list_rows(self, kind: str | None = None, name: str | None = None) -> list[sqlite3.Row]:
        """Catalog rows only (no manifest reads): fast listings."""
        return _artifacts.list_rows(self.conn, kind, name)

    def find_by_file(self, kind: str, path: str, digest: str) -> Artifact | None:
        """The first artifact of this kind whose file at `path` has this sha256, confirmed
        against its verified manifest (the catalog is only the index); None when there is none.

        Raises:
            StoreIntegrityError: a matching artifact's manifest is missing or damaged.
        """
        for artifact_id in _artifacts.ids_with_file(self.conn, kind, path, digest):
            art = self.get(artifact_id)
            entry = art.files.get(path)
            if entry is not None and entry.hash == digest:
                return art
        return None

    def resolve(self, ref: str, kind: str | None = None) -> Artifact:
        """The artifact a reference names.

        Args:
            ref: an id or unique id prefix, `[kind/]name` (the latest version),
                `[kind/]name:version` or `[kind/]name@alias`.
            kind: only artifacts of this kind.

        Returns:
            The artifact.

        Raises:
            NotFoundError: nothing matches.
            AmbiguousRefError: a prefix or a name matches several artifacts.
        """
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
        """The bytes of one file of an artifact, verified against its hash.

        Raises:
            NotFoundError: the artifact has no such file.
            StoreIntegrityError: the blob is missing or its bytes do not match.
        """
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
        """Point (kind, name)@alias at art and append the move to the alias history.

        Args:
            art: the new holder.
            alias: the alias (`production`).
            why: the reason recorded with the move.
            who: the user recorded (default: $MLOPS_USER or the login name).
            expect_from: an id, or None for "no holder yet", makes the move a compare-and-swap;
                False (the default) moves unconditionally.

        Returns:
            The previous holder's id, or None.

        Raises:
            LockedError: with expect_from, the alias had moved meanwhile (exit 1).
        """
        self.require_writable()
        return _aliases.set_alias(self.conn, art, alias, why, who, expect_from)

    def get_alias(self, kind: str, name: str, alias: str) -> str | None:
        return _aliases.get_alias(self.conn, kind, name, alias)

    def aliases(self, kind: str, name: str) -> dict[str, str]:
        return _aliases.aliases(self.conn, kind, name)

    def alias_history(
        self,
        kind: str | None = None,
        name: str | None = None,
        alias: str | None = None,
        include_refused: bool = False,
    ) -> list[dict[str, Any]]:
        """Every alias move, oldest first: seq, kind, name, alias, from_id, to_id, at, who, why.
        Each filter left None matches everything; moves a remote refused (docs/remote.md) are
        left out unless include_refused."""
        return _aliases.alias_history(self.conn, kind, name, alias, include_refused)

    # -- runs ------------------------------------------------------------------------------
    def start_run(
        self,
        step: str,
        name: str | None = None,
        config_hash: str | None = None,
        command: str | None = None,
        git_commit: str | None = None,
        info: dict[str, Any] | None = None,
        started_at: str | None = None,
    ) -> str:
        """Record a run as `running` and return its id; close it with `finish_run`.

        Args:
            step: what ran (`train`, `evaluate`, `monitor`, ...).
            name: the project or model name it ran for.
            config_hash: the hash of the config section it used.
            command: the command line.
            git_commit: the commit of the working tree, when it is a git checkout.
            info: more facts, JSON-serialisable.
            started_at: when the work began (ISO 8601, UTC), if before this call; default now.
                `finish_run` measures the run's duration from it.
        """
        self.require_writable()
        return _runs.start_run(
            self.conn, step, name, config_hash, command, git_commit, info, started_at
        )

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Record a run's parameters (values stored as JSON)."""
        _runs.log_params(self.conn, run_id, params)

    def log_metrics(self, run_id: str, metrics: Mapping[str, float | None], step: int = 0) -> None:
        """Record a run's metrics at a step (a None value is stored as missing)."""
        _runs.log_metrics(self.conn, run_id, metrics, step)

    def link_run(self, run_id: str, artifact_id: str, role: str) -> None:
        _runs.link_run(self.conn, run_id, artifact_id, role)

    def finish_run(
        self, run_id: str, status: str = "succeeded", info: dict[str, Any] | None = None
    ) -> None:
        _runs.finish_run(self.conn, run_id, status, info)

    def add_run_info(self, run_id: str, info: dict[str, Any]) -> None:
        """Merge info into a run's info, e.g. what happened after the run's artifacts were
        stored (a webhook post)."""
        _runs.add_run_info(self.conn, run_id, info)

    def get_run(self, ref: str) -> dict[str, Any]:
        return _runs.get_run(self.conn, ref)

    def list_runs(self, step: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        return _runs.list_runs(self.conn, step, limit)

    # -- stage cache -----------------------------------------------------------------------
    def cache_get(self, key: str) -> dict[str, Any] | None:
        return _cache.cache_get(self.conn, key)

    def cache_put(self, key: str, stage: str, outputs: dict[str, Any]) -> None:
        self.require_writable()
        _cache.cache_put(self.conn, key, stage, outputs)

    # -- locks -----------------------------------------------------------------------------
    def gc_guard(self, exclusive: bool = False) -> AbstractContextManager[None]:
        """Writers hold it shared from staging blobs to committing the catalog row; gc holds it
        exclusive, so it never reclaims a blob that a writer has not committed yet."""
        self.require_writable()
        return self._locks.gc_guard(exclusive)

    def lock(self, name: str, wait: bool = False) -> AbstractContextManager[None]:
        """An exclusive advisory lock; the kernel drops it when the holder dies (no stale locks)."""
        self.require_writable()
        return self._locks.lock(name, wait)
