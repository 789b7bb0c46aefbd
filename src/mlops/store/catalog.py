"""The SQLite catalog: artifacts, files, lineage, runs, params, metrics, aliases and their history.

WAL mode, a busy timeout, and `BEGIN IMMEDIATE` for every write, so several processes (cron, CI,
a person) can share one store: SQLite serialises the writers. The tables are created and
upgraded by mlops.store.migrations.

The catalog is an index of the manifests in objects/ (docs/store.md): opening it runs SQLite's
`PRAGMA quick_check`, and a damaged file is reported (StoreIntegrityError, exit 3, with the hint
`mlops fsck --rebuild`) instead of being used or replaced. A catalog on a store this process
cannot write is opened read-only (`mode=ro`, or `immutable=1` when SQLite cannot create its
shared-memory file beside it, as on a read-only mount).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from mlops.errors import StoreIntegrityError, UsageError

REBUILD_HINT = "run `mlops fsck --rebuild` to rebuild the catalog from the manifests in objects/"


def _connect(target: str, uri: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(
        target, timeout=60.0, isolation_level=None, check_same_thread=False, uri=uri
    )
    conn.row_factory = sqlite3.Row
    return conn


def connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        try:
            conn = _connect(uri, uri=True)
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            # WAL mode needs a -shm file; where none can be made, read the file as it is
            conn = _connect(uri + "&immutable=1", uri=True)
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute("PRAGMA query_only = ON")
        return conn
    conn = _connect(str(path), uri=False)
    conn.execute("PRAGMA busy_timeout = 60000")
    _use_wal(conn)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _use_wal(conn: sqlite3.Connection, patience_s: float = 60.0) -> None:
    # Switching a rollback-journal catalog (one made by mlops 0.1) to WAL needs an exclusive
    # lock, and SQLite answers "database is locked" at once there instead of calling the busy
    # handler; so when several processes open such a store together, retry for as long as the
    # busy timeout would have waited.
    deadline = time.monotonic() + patience_s
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if not is_busy(e) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def is_busy(e: sqlite3.Error) -> bool:
    text = str(e).lower()
    return "locked" in text or "busy" in text


def damaged_catalog(path: Path, detail: str) -> StoreIntegrityError:
    return StoreIntegrityError(f"the store catalog {path} is damaged ({detail})", hint=REBUILD_HINT)


class CatalogDiskFull(UsageError):
    """The catalog cannot be opened for writing because its device is full (exit 2)."""


def _no_space(path: Path) -> bool:
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 256 << 10


def open_checked(path: Path, read_only: bool = False) -> sqlite3.Connection:
    """Connect and run `PRAGMA quick_check` (a few ms on a catalog of 10,000 artifacts; see
    docs/store.md); a damaged catalog raises StoreIntegrityError, never a raw SQLite error.
    Opening for writing on a full device (SQLite cannot create its -wal/-shm files) raises
    CatalogDiskFull: the catalog is not damaged, and can still be opened read-only."""
    conn: sqlite3.Connection | None = None
    try:
        conn = connect(path, read_only)
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as e:
        if conn is not None:
            conn.close()
        if is_busy(e) or (read_only and "unable to open" in str(e)):
            raise
        if not read_only and _no_space(path):
            raise CatalogDiskFull(
                f"no space left on the device holding the store catalog {path}",
                hint="free some space and rerun",
            ) from None
        raise damaged_catalog(path, str(e)) from None
    if rows != ["ok"]:
        conn.close()
        raise damaged_catalog(path, "; ".join(rows[:3]))
    return conn


def integrity_problems(conn: sqlite3.Connection) -> list[str]:
    """`PRAGMA integrity_check` (reads every page; fsck runs it): [] when the file is sound."""
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)").fetchall()]
    except sqlite3.DatabaseError as e:
        return [str(e)]
    return [] if rows == ["ok"] else rows


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction; BEGIN IMMEDIATE takes the write lock up front (no upgrade deadlock).
    A failed COMMIT (a full disk) is rolled back too: nothing is left half-committed."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with suppress(sqlite3.Error):  # else SQLite rolls back when the connection closes
                conn.execute("ROLLBACK")
        raise
