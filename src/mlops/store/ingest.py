"""Putting files into the store, and the file-state cache that spares re-hashing them.

The cache maps (real path, inode, size, mtime_ns) to the file's SHA-256: a file whose stat is
unchanged since it was last hashed is not read again (as git's index and DVC's state do).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mlops import progress
from mlops.errors import InputError
from mlops.store.artifact import FileEntry
from mlops.store.backend import ObjectStore
from mlops.store.catalog import write
from mlops.store.objects import sha256_file
from mlops.store.stamps import now_iso

RECHECK_AFTER = timedelta(days=7)

_LOOKUP = "SELECT hash FROM file_state WHERE path = ? AND inode = ? AND size = ? AND mtime_ns = ?"
_UPSERT = "INSERT OR REPLACE INTO file_state (path, inode, size, mtime_ns, hash) VALUES (?,?,?,?,?)"

StateRow = tuple[str, int, int, int, str]


def _row(key: str, st: os.stat_result, digest: str) -> StateRow:
    return (key, st.st_ino, st.st_size, st.st_mtime_ns, digest)


class FileStateCache:
    """The file_state table; rows can be collected and written in one transaction (batched)."""

    def __init__(self) -> None:
        self._pending: list[StateRow] | None = None

    @staticmethod
    def lookup(conn: sqlite3.Connection, key: str, st: os.stat_result) -> str | None:
        row = conn.execute(_LOOKUP, (key, st.st_ino, st.st_size, st.st_mtime_ns)).fetchone()
        return None if row is None else str(row["hash"])

    @staticmethod
    def write_rows(conn: sqlite3.Connection, rows: list[StateRow]) -> None:
        if rows:
            with write(conn):
                conn.executemany(_UPSERT, rows)

    def remember(self, conn: sqlite3.Connection, key: str, st: os.stat_result, digest: str) -> None:
        if self._pending is not None:
            self._pending.append(_row(key, st, digest))
        else:
            self.write_rows(conn, [_row(key, st, digest)])

    @contextmanager
    def batched(self, conn: sqlite3.Connection) -> Iterator[None]:
        """Collect the rows remembered inside and write them in one transaction at the end."""
        if self._pending is not None:
            yield
            return
        self._pending = []
        try:
            yield
        finally:
            rows, self._pending = self._pending, None
            self.write_rows(conn, rows)


class BlobChecks:
    """The catalog's blob_checks table: a blob hashed (or written) whole is trusted again
    without re-reading it while its ctime and size are those recorded then, for RECHECK_AFTER;
    after that, or after any change to the file, it is re-hashed before it is reused."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()  # puts may run in threads (fetch) on one connection

    def fresh(self, digest: str, st: os.stat_result) -> bool:
        with self._lock:
            row = self.conn.execute(
                "SELECT ctime_ns, size, checked_at FROM blob_checks WHERE hash = ?", (digest,)
            ).fetchone()
        if row is None or (row["ctime_ns"], row["size"]) != (st.st_ctime_ns, st.st_size):
            return False
        checked = datetime.fromisoformat(row["checked_at"].replace("Z", "+00:00"))
        return datetime.now(UTC) - checked < RECHECK_AFTER

    def remember(self, checked: Sequence[tuple[str, os.stat_result]]) -> None:
        if not checked:
            return
        at = now_iso()
        rows = [(d, st.st_ctime_ns, st.st_size, at) for d, st in checked]
        sql = (
            "INSERT OR REPLACE INTO blob_checks (hash, ctime_ns, size, checked_at) VALUES (?,?,?,?)"
        )
        with self._lock:
            if self.conn.in_transaction:  # inside the caller's write (a manifest put by record)
                self.conn.executemany(sql, rows)
            else:
                with write(self.conn):
                    self.conn.executemany(sql, rows)


def hash_file(conn: sqlite3.Connection, cache: FileStateCache, path: Path) -> tuple[str, int, bool]:
    """(sha256, size, cached): skip re-hashing when path, inode, size and mtime are unchanged."""
    path = Path(path)
    st = os.stat(path)
    key = str(path.resolve())
    digest = cache.lookup(conn, key, st)
    if digest is not None:
        return digest, st.st_size, True
    digest = sha256_file(path)
    cache.remember(conn, key, st, digest)
    return digest, st.st_size, False


def put_file(
    conn: sqlite3.Connection, cache: FileStateCache, objects: ObjectStore, path: Path
) -> tuple[FileEntry, bool]:
    """Store a file; returns its entry and whether the hash came from the state cache.
    The caller holds the gc guard."""
    path = Path(path)
    st = os.stat(path)
    key = os.path.realpath(path)
    digest = cache.lookup(conn, key, st)
    if digest is not None and objects.reusable(digest, st.st_size):
        return FileEntry(digest, st.st_size), True
    digest, size = objects.put(path)
    if size == st.st_size:  # not a /proc-like file whose stat says nothing of its content
        cache.remember(conn, key, st, digest)
    return FileEntry(digest, size), False


def put_files(
    conn: sqlite3.Connection, objects: ObjectStore, listing: list[tuple[str, Path]]
) -> tuple[dict[str, FileEntry], dict[str, int]]:
    """Store many files at once: take the state cache's hash where the file is unchanged and its
    blob is there, put the rest in one batch (hashed, only new content copied, one flush), then
    record them in the state cache in one transaction. The caller holds the gc guard."""
    stats = {"files": 0, "bytes": 0, "hashed": 0, "cached": 0}
    entries: dict[str, FileEntry | None] = {}
    todo: list[tuple[str, Path, os.stat_result, str]] = []
    for rel, f in listing:
        st = os.stat(f)
        key = os.path.realpath(f)
        digest = FileStateCache.lookup(conn, key, st)
        if digest is not None and objects.reusable(digest, st.st_size):
            entries[rel] = FileEntry(digest, st.st_size)
            stats["cached"] += 1
        else:
            entries[rel] = None
            todo.append((rel, f, st, key))
            stats["hashed"] += 1
        stats["files"] += 1
        stats["bytes"] += st.st_size
    size = sum(st.st_size for _, _, st, _ in todo)
    with progress.task(f"hashing {len(todo)} file(s)", size, unit="bytes"):
        stored = objects.put_many([f for _, f, _, _ in todo])
    rows: list[StateRow] = []
    for (rel, f, st, key), (digest, size) in zip(todo, stored, strict=True):
        after = os.stat(f)  # the bytes put are the bytes of the stat the cache row records
        if (after.st_size, after.st_mtime_ns, after.st_ino) != (
            st.st_size,
            st.st_mtime_ns,
            st.st_ino,
        ):
            raise InputError(
                f"{f} changed while it was being added",
                hint="add it again once it is no longer being written",
            )
        entries[rel] = FileEntry(digest, size)
        stats["bytes"] += size - st.st_size
        if size == st.st_size:  # a /proc-like file's stat says nothing of its content
            rows.append(_row(key, st, digest))
    FileStateCache.write_rows(conn, rows)
    return {rel: e for rel, e in entries.items() if e is not None}, stats
