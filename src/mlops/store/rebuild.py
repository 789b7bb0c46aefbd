"""`mlops fsck --rebuild`: a new catalog from the manifests in objects/ (as git rebuilds its index).

Every blob that parses as a manifest (artifact.parse_manifest) becomes an artifact row with its
file rows and its lineage edges. Versions come from the manifests; when two manifests claim the
same (kind, name, version), the one with the earlier (created_at, id) keeps it and the others
get the next free numbers, and each clash is reported. What the manifests do not hold cannot be
recovered from them: aliases, their history, runs (params, metrics) and the stage cache. Those
are copied from the old catalog, table by table, wherever it can still be read.

The new catalog is built in a temp file under tmp/ and renamed into place; the old one (with its
-wal and -shm files) is kept beside it as `catalog.sqlite.damaged-<timestamp>` (or
`.replaced-<timestamp>` when it was sound), never deleted. The whole rebuild holds the gc guard
exclusively, so no writer commits and no gc runs meanwhile.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlops.atomic import fsync_dir
from mlops.errors import StoreIntegrityError
from mlops.store.artifact import MANIFEST_MAX_BYTES, parse_manifest
from mlops.store.backend import is_hash
from mlops.store.catalog import connect, integrity_problems, write
from mlops.store.health import CATALOG, read_store_id, stamp_store_id, writable
from mlops.store.locks import Locks
from mlops.store.migrations import migrate
from mlops.store.names import check_kind, check_name, check_relpath
from mlops.store.objects import LocalObjectStore

# tables the manifests cannot rebuild, copied from the old catalog when it can be read, in an
# order that keeps references valid; rows pointing at artifacts that do not exist are skipped
SALVAGE = ("runs", "params", "metrics", "run_artifacts", "aliases", "alias_events", "stage_cache")


@dataclass
class Clash:
    kind: str
    name: str
    version: int
    kept: str
    renumbered: dict[str, int]


@dataclass
class RebuildResult:
    artifacts: int = 0
    lineage_edges: int = 0
    blobs_read: int = 0
    damaged_blobs: list[str] = field(default_factory=list)
    missing_parents: list[str] = field(default_factory=list)
    missing_files: int = 0
    clashes: list[Clash] = field(default_factory=list)
    salvaged: dict[str, int] = field(default_factory=dict)
    not_salvaged: dict[str, str] = field(default_factory=dict)
    old_catalog: str | None = None
    old_catalog_damaged: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _valid(manifest: dict[str, Any]) -> bool:
    try:
        check_kind(manifest["kind"])
        check_name(manifest["name"])
        for path, entry in manifest["files"].items():
            check_relpath(path)
            if not is_hash(entry["hash"]) or not isinstance(entry["size"], int):
                return False
    except Exception:
        return False
    return all(is_hash(p) for p in manifest.get("parents") or [])


def read_manifests(objects: LocalObjectStore, result: RebuildResult) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for digest in objects.list():
        result.blobs_read += 1
        if objects.size(digest) > MANIFEST_MAX_BYTES:
            continue
        try:
            data = objects.get(digest)
        except StoreIntegrityError:
            result.damaged_blobs.append(digest)
            continue
        manifest = parse_manifest(data)
        if manifest is not None and _valid(manifest):
            found[digest] = manifest
    return found


def assign_versions(manifests: dict[str, dict[str, Any]], result: RebuildResult) -> dict[str, int]:
    """id -> version: the manifest's own, clashes settled by (created_at, id)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for aid, m in manifests.items():
        groups.setdefault((m["kind"], m["name"]), []).append(aid)
    versions: dict[str, int] = {}
    for (kind, name), ids in sorted(groups.items()):
        ids.sort(key=lambda a: (manifests[a]["version"], manifests[a]["created_at"], a))
        taken: set[int] = set()
        later: list[str] = []
        for aid in ids:
            v = manifests[aid]["version"]
            if v in taken or v < 1:
                later.append(aid)
            else:
                taken.add(v)
                versions[aid] = v
        later.sort(key=lambda a: (manifests[a]["created_at"], a))
        next_free = max(taken, default=0) + 1
        renumbered: dict[int, dict[str, int]] = {}
        for aid in later:
            versions[aid] = next_free
            renumbered.setdefault(manifests[aid]["version"], {})[aid] = next_free
            next_free += 1
        for v, moved in sorted(renumbered.items()):
            kept = next((a for a in ids if versions[a] == v), "")
            result.clashes.append(Clash(kind, name, v, kept, moved))
    return versions


def _insert(
    conn: sqlite3.Connection,
    objects: LocalObjectStore,
    manifests: dict[str, dict[str, Any]],
    versions: dict[str, int],
    result: RebuildResult,
) -> None:
    for aid, m in sorted(manifests.items(), key=lambda kv: (kv[1]["created_at"], kv[0])):
        conn.execute(
            "INSERT INTO artifacts (id, kind, name, version, created_at, run_id, command)"
            " VALUES (?,?,?,?,?,?,?)",
            (aid, m["kind"], m["name"], versions[aid], m["created_at"], m.get("run_id"),
             m.get("command")),
        )  # fmt: skip
        for path, e in m["files"].items():
            conn.execute(
                "INSERT INTO files (artifact_id, path, hash, size) VALUES (?,?,?,?)",
                (aid, path, e["hash"], e["size"]),
            )
            if not objects.has(e["hash"]):
                result.missing_files += 1
        for parent in sorted(set(m.get("parents") or [])):
            if parent in manifests:
                conn.execute(
                    "INSERT OR IGNORE INTO lineage (parent_id, child_id) VALUES (?,?)",
                    (parent, aid),
                )
                result.lineage_edges += 1
            else:
                result.missing_parents.append(parent)
        result.artifacts += 1


def _salvage(conn: sqlite3.Connection, old: Path, result: RebuildResult) -> None:
    """Copy what the manifests cannot rebuild from the old catalog, table by table, where it
    still reads (a separate read-only connection: a damaged file never touches the new one)."""
    if not old.is_file() or old.stat().st_size == 0:
        for table in SALVAGE:
            result.not_salvaged[table] = "no old catalog"
        return
    try:
        src = sqlite3.connect(old.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    except sqlite3.DatabaseError as e:
        for table in SALVAGE:
            result.not_salvaged[table] = str(e)
        return
    artifacts = {r[0] for r in conn.execute("SELECT id FROM artifacts")}
    try:
        for table in SALVAGE:
            try:
                cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
                old_cols = {r[1] for r in src.execute(f"PRAGMA table_info({table})")}
                shared = [c for c in cols if c in old_cols]
                if not shared:
                    raise sqlite3.DatabaseError("no such table")
                rows = src.execute(f"SELECT {', '.join(shared)} FROM {table}").fetchall()
            except sqlite3.DatabaseError as e:
                result.not_salvaged[table] = str(e)
                continue
            if "artifact_id" in shared and table != "alias_events":
                at = shared.index("artifact_id")
                rows = [r for r in rows if r[at] in artifacts]
            if table in ("params", "metrics"):
                runs = {r[0] for r in conn.execute("SELECT id FROM runs")}
                rows = [r for r in rows if r[shared.index("run_id")] in runs]
            marks = ", ".join("?" for _ in shared)
            with write(conn):
                conn.executemany(
                    f"INSERT OR IGNORE INTO {table} ({', '.join(shared)}) VALUES ({marks})", rows
                )
            result.salvaged[table] = len(rows)
    finally:
        src.close()


def _old_catalog_state(path: Path) -> bool:
    """Whether the old catalog is damaged (unreadable or failing integrity_check)."""
    if not path.is_file() or path.stat().st_size == 0:
        return True
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    except sqlite3.DatabaseError:
        return True
    try:
        return bool(integrity_problems(conn))
    finally:
        conn.close()


def _write_catalog(
    tmp: Path,
    root: Path,
    objects: LocalObjectStore,
    found: tuple[dict[str, dict[str, Any]], dict[str, int]],
    result: RebuildResult,
) -> None:
    """The new catalog in tmp: the manifests' rows, the store id and rebuild notes, and what
    can be salvaged from the old catalog; one self-contained file, ready to rename."""
    manifests, versions = found
    conn = connect(tmp)
    try:
        migrate(conn, tmp)
        with write(conn):
            _insert(conn, objects, manifests, versions, result)
            store_id = read_store_id(root)
            if store_id is not None:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('store_id', ?)", (store_id,))
            renumbered = sorted(a for c in result.clashes for a in c.renumbered)
            conn.execute(  # fsck accepts these ids' catalog versions
                "INSERT OR REPLACE INTO meta VALUES ('renumbered', ?)", (json.dumps(renumbered),)
            )
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('rebuilt_at', ?)",
                (datetime.now(UTC).isoformat(),),
            )
        _salvage(conn, root / CATALOG, result)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to rename
    finally:
        conn.close()


def _set_aside(root: Path, result: RebuildResult) -> None:
    """Rename the old catalog (and its -wal, -shm) to catalog.sqlite.damaged-STAMP (or
    .replaced-STAMP when it opened cleanly), noting its new name in result."""
    catalog = root / CATALOG
    result.old_catalog_damaged = _old_catalog_state(catalog)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    label = "damaged" if result.old_catalog_damaged else "replaced"
    for suffix in ("", "-wal", "-shm"):
        old = root / (CATALOG + suffix)
        if old.exists():
            aside = root / f"{CATALOG}.{label}-{stamp}{suffix}"
            os.replace(old, aside)
            if not suffix:
                result.old_catalog = str(aside)


def rebuild(root: Path) -> RebuildResult:
    """Rebuild root/catalog.sqlite from the manifests in root/objects; see the module docstring.

    Raises:
        StoreReadOnlyError: the store cannot be written.
    """
    from mlops.errors import StoreReadOnlyError

    root = Path(root)
    if not writable(root):
        raise StoreReadOnlyError(f"the store at {root} is read-only; the catalog cannot be rebuilt")
    objects = LocalObjectStore(root)
    objects.ensure()
    (root / "locks").mkdir(exist_ok=True)
    result = RebuildResult()
    catalog = root / CATALOG
    with Locks(root / "locks").gc_guard(exclusive=True):
        manifests = read_manifests(objects, result)
        versions = assign_versions(manifests, result)
        fd, name = tempfile.mkstemp(dir=objects.tmp, prefix="rebuild-", suffix=".sqlite")
        os.close(fd)
        tmp = Path(name)
        try:
            _write_catalog(tmp, root, objects, (manifests, versions), result)
            _set_aside(root, result)
            os.replace(tmp, catalog)
            fsync_dir(root)
        finally:
            tmp.unlink(missing_ok=True)
            for suffix in ("-wal", "-shm", "-journal"):
                Path(str(tmp) + suffix).unlink(missing_ok=True)
    if read_store_id(root) is None:  # a store from before store ids: give it one now
        conn = connect(catalog)
        try:
            stamp_store_id(conn, root, new_catalog=False)
        finally:
            conn.close()
    return result
