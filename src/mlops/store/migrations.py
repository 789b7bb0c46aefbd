"""Catalog schema migrations, counted by SQLite's `PRAGMA user_version`.

user_version N means the first N steps of MIGRATIONS have run on this catalog. Opening a store
reads it without a lock; when steps are pending it takes the write lock (BEGIN IMMEDIATE), reads
it again (another process may have just migrated), runs the pending steps and sets the new
version in that one transaction: a crash or an error leaves the catalog as it was.

A catalog whose user_version is newer than this code knows was written by a newer mlops; it is
refused (StoreVersionError, exit 2) rather than read or written with wrong assumptions.

Catalogs made before user_version was used (mlops 0.1) have user_version 0 and a meta row
schema_version = '1'. Step 1 is the v1 schema written with IF NOT EXISTS, so on those catalogs
it finds every table in place and only the version is recorded; on a new catalog it creates
them.

Adding a step: append a function taking the connection (inside the transaction; do not commit)
and nothing else; never edit, remove or reorder a released step, since catalogs out there have
already run it. Keep steps to SQL on the catalog: the objects are not migrated (manifests are
immutable and carry their own manifest_version).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from mlops import __version__
from mlops.errors import StoreReadOnlyError, StoreVersionError
from mlops.store.catalog import write

V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS artifacts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    run_id TEXT,
    command TEXT,
    UNIQUE (kind, name, version)
);
CREATE INDEX IF NOT EXISTS artifacts_name ON artifacts (name, kind);
CREATE TABLE IF NOT EXISTS files (
    artifact_id TEXT NOT NULL REFERENCES artifacts(id),
    path TEXT NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (artifact_id, path)
);
CREATE INDEX IF NOT EXISTS files_hash ON files (hash);
CREATE TABLE IF NOT EXISTS lineage (
    parent_id TEXT NOT NULL,
    child_id TEXT NOT NULL,
    PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX IF NOT EXISTS lineage_child ON lineage (child_id);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    step TEXT NOT NULL,
    name TEXT,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    duration_s REAL,
    config_hash TEXT,
    git_commit TEXT,
    user TEXT,
    host TEXT,
    command TEXT,
    info TEXT
);
CREATE TABLE IF NOT EXISTS params (
    run_id TEXT NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    value REAL,
    step INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, key, step)
);
CREATE TABLE IF NOT EXISTS run_artifacts (
    run_id TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (run_id, artifact_id, role)
);
CREATE TABLE IF NOT EXISTS aliases (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    PRIMARY KEY (kind, name, alias)
);
CREATE TABLE IF NOT EXISTS alias_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    from_id TEXT,
    to_id TEXT,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    why TEXT
);
CREATE TABLE IF NOT EXISTS file_state (
    path TEXT PRIMARY KEY,
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stage_cache (
    key TEXT PRIMARY KEY,
    stage TEXT NOT NULL,
    outputs TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""


def _v1_schema(conn: sqlite3.Connection) -> None:
    for statement in V1_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v2_alias_history_index(conn: sqlite3.Connection) -> None:
    # alias_history filters by (kind, name, alias) and orders by seq
    conn.execute(
        "CREATE INDEX IF NOT EXISTS alias_events_key ON alias_events (kind, name, alias, seq)"
    )


def _v3_remote_sync(conn: sqlite3.Connection) -> None:
    # artifacts.synced: 1 when a remote assigned the version (before that it is provisional);
    # artifacts.remote: the remote an artifact was fetched from (its files may be only there);
    # alias_events.remote_seq: the move's number on the remote (NULL: not pushed yet; 0: the
    # remote refused it because another machine moved the alias first);
    # remote_events: the event files on a remote that this catalog already holds.
    conn.execute("ALTER TABLE artifacts ADD COLUMN synced INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE artifacts ADD COLUMN remote TEXT")
    conn.execute("ALTER TABLE alias_events ADD COLUMN remote_seq INTEGER")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS remote_events ("
        " remote TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (remote, key))"
    )


def _v4_integrity(conn: sqlite3.Connection) -> None:
    # runs.pid / runs.proc: the process that started a run (its pid, and its boot id and start
    # time, so a reused pid is not mistaken for it): a `running` run whose process is gone is
    # shown as failed (abandoned).
    # blob_checks: when an existing blob was last re-hashed, and its ctime and size then; a blob
    # whose stat still matches is reused without re-reading it (docs/store.md).
    conn.execute("ALTER TABLE runs ADD COLUMN pid INTEGER")
    conn.execute("ALTER TABLE runs ADD COLUMN proc TEXT")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS blob_checks ("
        " hash TEXT PRIMARY KEY, ctime_ns INTEGER NOT NULL, size INTEGER NOT NULL,"
        " checked_at TEXT NOT NULL)"
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _v1_schema,
    _v2_alias_history_index,
    _v3_remote_sync,
    _v4_integrity,
)
CURRENT_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _refuse_newer(found: int, where: Path) -> None:
    if found > CURRENT_VERSION:
        raise StoreVersionError(
            f"the store catalog {where} has schema version {found}, newer than version "
            f"{CURRENT_VERSION} that this mlops ({__version__}) knows",
            hint="upgrade mlops to open this store",
        )


def migrate(conn: sqlite3.Connection, where: Path, read_only: bool = False) -> int:
    """Bring the catalog to CURRENT_VERSION; returns the version it had before. A read-only
    catalog that needs an upgrade is refused (it cannot be written)."""
    found = user_version(conn)
    _refuse_newer(found, where)
    if found == CURRENT_VERSION:
        return found
    if read_only:
        raise StoreReadOnlyError(
            f"the store at {where.parent} is read-only and its catalog (schema version {found}) "
            f"needs an upgrade to version {CURRENT_VERSION}",
            hint="open it once with write access to upgrade it",
        )
    with write(conn):
        found = user_version(conn)
        _refuse_newer(found, where)
        for step in MIGRATIONS[found:]:
            step(conn)
        conn.execute(f"PRAGMA user_version = {CURRENT_VERSION:d}")
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(CURRENT_VERSION),),
        )
    return found
