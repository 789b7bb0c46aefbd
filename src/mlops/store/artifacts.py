"""Artifacts: recording a manifest and its catalog rows, and reading them back.

The manifest (canonical JSON, a blob; its hash is the artifact id) is the truth; the catalog rows
(artifacts, files, lineage, run_artifacts) index it.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from mlops import __version__
from mlops.errors import InputError, NotFoundError, StoreIntegrityError
from mlops.store.aliases import aliases_of
from mlops.store.artifact import (
    Artifact,
    FileEntry,
    artifact_from_manifest,
    canonical_json,
    manifest_dict,
)
from mlops.store.backend import ObjectStore, is_hash
from mlops.store.catalog import write
from mlops.store.names import check_kind, check_name, check_relpath
from mlops.store.stamps import now_iso


def has(conn: sqlite3.Connection, artifact_id: str) -> bool:
    """Whether the catalog holds an artifact with this full id."""
    row = conn.execute("SELECT 1 FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
    return row is not None


def check_new(
    conn: sqlite3.Connection,
    kind: str,
    name: str,
    paths: Iterable[str],
    metadata: dict[str, Any] | None,
    parents: Iterable[str],
) -> tuple[list[str], dict[str, Any]]:
    """Validate a new artifact before anything is written; returns (sorted parents, metadata
    as it will read back from canonical JSON)."""
    check_kind(kind)
    check_name(name)
    for p in paths:
        check_relpath(p)
    sorted_parents = sorted(set(parents))
    for pid in sorted_parents:
        if not is_hash(pid) or not has(conn, pid):
            raise NotFoundError(f"parent artifact {pid[:12]} is not in the store")
    return sorted_parents, json.loads(canonical_json(metadata or {}))


def _same_as(
    prev: dict[str, Any], entries: dict[str, FileEntry], metadata: Any, parents: Any
) -> bool:
    return bool(
        prev["files"] == {p: {"hash": e.hash, "size": e.size} for p, e in sorted(entries.items())}
        and prev.get("metadata") == metadata
        and sorted(prev.get("parents") or []) == parents
    )


def record(
    conn: sqlite3.Connection,
    objects: ObjectStore,
    kind: str,
    name: str,
    entries: dict[str, FileEntry],
    metadata: dict[str, Any],
    parents: list[str],
    run_id: str | None,
    command: str | None,
    reuse_unchanged: bool,
) -> Artifact:
    """Write the manifest blob and its catalog rows as the next version of (kind, name), in one
    transaction; with reuse_unchanged an identical latest version is returned instead."""
    with write(conn):
        latest = conn.execute(
            "SELECT id, version FROM artifacts WHERE kind = ? AND name = ? ORDER BY version DESC LIMIT 1",
            (kind, name),
        ).fetchone()
        if latest is not None and reuse_unchanged:
            prev = load_manifest(objects, latest["id"])
            if _same_as(prev, entries, metadata, parents):
                art = artifact_from_manifest(latest["id"], prev)
                return replace(
                    art, version=int(latest["version"]), aliases=aliases_of(conn, art.id)
                )
        version = 1 if latest is None else latest["version"] + 1
        manifest = manifest_dict(
            kind=kind,
            name=name,
            version=version,
            files=entries,
            metadata=metadata,
            parents=parents,
            created_at=now_iso(),
            tool_version=__version__,
            command=command,
            run_id=run_id,
        )
        artifact_id = objects.put(canonical_json(manifest)).digest
        conn.execute(
            "INSERT INTO artifacts (id, kind, name, version, created_at, run_id, command) VALUES (?,?,?,?,?,?,?)",
            (artifact_id, kind, name, version, manifest["created_at"], run_id, command),
        )
        conn.executemany(
            "INSERT INTO files (artifact_id, path, hash, size) VALUES (?,?,?,?)",
            [(artifact_id, p, e.hash, e.size) for p, e in entries.items()],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO lineage (parent_id, child_id) VALUES (?,?)",
            [(pid, artifact_id) for pid in parents],
        )
        if run_id is not None:
            conn.execute(
                "INSERT OR IGNORE INTO run_artifacts (run_id, artifact_id, role) VALUES (?,?,?)",
                (run_id, artifact_id, "output"),
            )
    return artifact_from_manifest(artifact_id, manifest)


def load_manifest(objects: ObjectStore, artifact_id: str) -> dict[str, Any]:
    try:
        data = objects.get(artifact_id)
    except StoreIntegrityError as e:
        raise StoreIntegrityError(
            f"manifest of artifact {artifact_id[:12]} is unreadable: {e.message}",
            hint="run `mlops fsck`",
        ) from None
    try:
        manifest = json.loads(data)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise ValueError("not a manifest")
        return manifest
    except (ValueError, UnicodeDecodeError):
        raise StoreIntegrityError(
            f"manifest of artifact {artifact_id[:12]} is not a valid manifest",
            hint="run `mlops fsck`",
        ) from None


def get(conn: sqlite3.Connection, objects: ObjectStore, artifact_id: str) -> Artifact:
    """The artifact from its manifest, with the catalog's version: the manifest keeps the number
    the artifact had when it was made, a remote may have assigned another (docs/remote.md)."""
    row = conn.execute("SELECT version FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no artifact {artifact_id[:12]}")
    try:
        art = artifact_from_manifest(artifact_id, load_manifest(objects, artifact_id))
    except (KeyError, TypeError, ValueError):
        raise StoreIntegrityError(
            f"manifest of artifact {artifact_id[:12]} lacks required fields",
            hint="run `mlops fsck`",
        ) from None
    for p, e in art.files.items():
        check_relpath_integrity(artifact_id, p, e.hash)
    return replace(art, version=int(row["version"]), aliases=aliases_of(conn, artifact_id))


def list_rows(
    conn: sqlite3.Connection, kind: str | None = None, name: str | None = None
) -> list[sqlite3.Row]:
    """Catalog rows only (no manifest reads): fast listings."""
    sql, args = "SELECT * FROM artifacts WHERE 1=1", []
    if kind:
        sql += " AND kind = ?"
        args.append(kind)
    if name:
        sql += " AND name = ?"
        args.append(name)
    return conn.execute(sql + " ORDER BY created_at, name, version", args).fetchall()


def ids_with_file(conn: sqlite3.Connection, kind: str, path: str, digest: str) -> list[str]:
    """Ids of the artifacts of this kind whose file at `path` has this hash (catalog only)."""
    rows = conn.execute(
        "SELECT a.id FROM files f JOIN artifacts a ON a.id = f.artifact_id"
        " WHERE f.hash = ? AND f.path = ? AND a.kind = ? ORDER BY a.created_at",
        (digest, path, kind),
    ).fetchall()
    return [str(r[0]) for r in rows]


def check_relpath_integrity(artifact_id: str, path: str, digest: str) -> None:
    """A manifest read from the store must name safe paths and well-formed hashes."""
    try:
        check_relpath(path)
    except InputError:
        raise StoreIntegrityError(
            f"manifest of artifact {artifact_id[:12]} names an unsafe path {path!r}",
            hint="run `mlops fsck`",
        ) from None
    if not is_hash(digest):
        raise StoreIntegrityError(
            f"manifest of artifact {artifact_id[:12]} has a malformed hash for {path!r}",
            hint="run `mlops fsck`",
        )


def default_name(path: Path) -> str:
    """The artifact name `mlops add PATH` uses when none is given: the path's own name."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", path.resolve().name).lstrip(".-_") or "data"


def walk(path: Path) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, file) for a file or every file under a directory, sorted; symlinks
    and unsafe names are refused."""
    if path.is_symlink():
        raise InputError(f"{path} is a symlink", hint="add the file it points to instead")
    if path.is_file():
        yield path.name, path
        return
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        base = Path(dirpath)
        for d in list(dirnames):
            if (base / d).is_symlink():
                raise InputError(
                    f"{base / d} is a symlink", hint="the store versions regular files only"
                )
        for fn in sorted(filenames):
            f = base / fn
            if f.is_symlink():
                raise InputError(f"{f} is a symlink", hint="the store versions regular files only")
            rel = f.relative_to(path).as_posix()
            check_relpath(rel)
            yield rel, f
