"""`gc` reclaims unreferenced blobs; `fsck` re-hashes every blob and checks every catalog row.

Manifests are the truth and the catalog is their index, so gc never deletes a blob that parses
as a manifest, nor the files such a manifest names, unless the user asks for it by name
(`include_manifests`); and it refuses to run at all on a catalog that was not made with these
objects (store ids differ). `fsck --rebuild` is in rebuild.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mlops.errors import StoreIntegrityError
from mlops.jsonable import fields_dict
from mlops.store.artifact import MANIFEST_MAX_BYTES, parse_manifest
from mlops.store.catalog import REBUILD_HINT, integrity_problems
from mlops.store.objects import is_hash
from mlops.store.store import Store


def referenced_hashes(store: Store) -> set[str]:
    refs = {r[0] for r in store.conn.execute("SELECT hash FROM files")}
    refs |= {r[0] for r in store.conn.execute("SELECT id FROM artifacts")}
    return refs


@dataclass
class GcResult:
    dry_run: bool
    removed: int = 0
    bytes: int = 0
    kept: int = 0
    tmp_removed: int = 0
    removed_hashes: list[str] = field(default_factory=list)
    unindexed_manifests: int = 0  # manifests the catalog does not list: kept, with their files
    include_manifests: bool = False

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


def unindexed_manifests(store: Store, refs: set[str]) -> dict[str, dict[str, Any]]:
    """Unreferenced blobs that are manifests (an artifact the catalog forgot, or one whose
    writer was killed before its catalog row was committed)."""
    found: dict[str, dict[str, Any]] = {}
    for digest in store.objects.list():
        if digest in refs or store.objects.size(digest) > MANIFEST_MAX_BYTES:
            continue
        try:
            manifest = parse_manifest(store.objects.get(digest))
        except StoreIntegrityError:
            continue  # damaged: fsck reports it; its bytes are no manifest any more
        if manifest is not None:
            found[digest] = manifest
    return found


def refuse_gc(store: Store) -> None:
    """gc runs only on a catalog made with these objects (it passed quick_check on open)."""
    mismatch = store.catalog_mismatch()
    if mismatch:
        raise StoreIntegrityError(f"gc refused: {mismatch}", hint=REBUILD_HINT)


def gc(store: Store, dry_run: bool = False, include_manifests: bool = False) -> GcResult:
    """Reclaim blobs nothing references, and staging leftovers of killed writers.

    A blob is kept when the catalog references it, when it is a manifest, or when a manifest
    names it; with include_manifests (dangerous: artifacts the catalog forgot are lost for
    good) manifests the catalog does not list are reclaimed too.

    Raises:
        StoreIntegrityError: the catalog was not made with these objects.
        StoreReadOnlyError: the store is read-only.
    """
    refuse_gc(store)
    result = GcResult(dry_run=dry_run, include_manifests=include_manifests)
    with store.gc_guard(exclusive=True):
        refs = referenced_hashes(store)
        manifests = unindexed_manifests(store, refs)
        result.unindexed_manifests = len(manifests)
        if not include_manifests:
            refs |= set(manifests)
            for m in manifests.values():
                refs |= {e["hash"] for e in m["files"].values() if isinstance(e.get("hash"), str)}
        for digest in store.objects.list():
            if digest in refs:
                result.kept += 1
                continue
            result.removed += 1
            result.removed_hashes.append(digest)
            result.bytes += store.objects.size(digest)
            if not dry_run:
                store.objects.delete(digest)
        result.tmp_removed = store.objects.clean_staging(dry_run=dry_run)
        if not dry_run:
            store.conn.execute("DELETE FROM file_state WHERE hash NOT IN (SELECT hash FROM files)")
            store.conn.execute(
                "DELETE FROM blob_checks WHERE hash NOT IN (SELECT hash FROM files)"
                " AND hash NOT IN (SELECT id FROM artifacts)"
            )
    return result


@dataclass
class Problem:
    object: str
    problem: str
    artifact: str | None = None


@dataclass
class FsckResult:
    objects_checked: int = 0
    artifacts_checked: int = 0
    unreferenced: int = 0
    remote_only: int = 0
    unindexed_manifests: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **fields_dict(self)}


class _Fsck:
    """One fsck pass: blobs first (re-hashed once each), then every artifact against them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.result = FsckResult()
        self.damaged: dict[str, str] = {}
        row = store.conn.execute("SELECT value FROM meta WHERE key = 'renumbered'").fetchone()
        self.renumbered: set[str] = set(json.loads(row[0])) if row else set()

    def problem(self, obj: str, what: str, artifact: str | None = None) -> None:
        self.result.problems.append(Problem(obj, what, artifact))

    def check_objects(self) -> None:
        refs = referenced_hashes(self.store)
        for digest in self.store.objects.list():
            self.result.objects_checked += 1
            problem = self.store.objects.verify(digest)
            if problem:
                self.damaged[digest] = problem
            if digest not in refs:
                self.result.unreferenced += 1
        for stray in self.store.objects.strays():
            self.problem(stray, "stray file in objects/ (not named by a hash)")

    def blob_ok(self, digest: str, artifact: str | None, what: str) -> bool:
        if digest in self.damaged:
            self.problem(digest, f"{what} is damaged: {self.damaged[digest]}", artifact)
            return False
        if not self.store.objects.has(digest):
            self.problem(digest, f"{what} is missing", artifact)
            return False
        return True

    def check_artifact(self, row: Any) -> None:
        self.result.artifacts_checked += 1
        aid = row["id"]
        label = f"{row['kind']}/{row['name']}:{row['version']}"
        if self.blob_ok(aid, label, "manifest"):
            try:
                manifest = json.loads(self.store.objects.get(aid))
            except Exception as e:  # a damaged manifest was reported above; anything else is too
                self.problem(aid, f"manifest unreadable: {e}", label)
            else:
                self.check_manifest(row, label, manifest)
        for r in self.store.conn.execute(
            "SELECT hash, path FROM files WHERE artifact_id = ?", (aid,)
        ):
            if not is_hash(r["hash"]):
                self.problem(r["hash"], f"file {r['path']} has a malformed hash", label)

    def check_manifest(self, row: Any, label: str, manifest: dict[str, Any]) -> None:
        aid = row["id"]
        # a version assigned by a remote (synced), or by a rebuild that settled a clash, may
        # differ from the one the manifest was made with
        own_version = not row["synced"] and aid not in self.renumbered
        for key in ("kind", "name", "version") if own_version else ("kind", "name"):
            if manifest.get(key) != row[key]:
                self.problem(
                    aid, f"catalog {key} {row[key]!r} != manifest {manifest.get(key)!r}", label
                )
        rows = {
            r["path"]: (r["hash"], r["size"])
            for r in self.store.conn.execute(
                "SELECT path, hash, size FROM files WHERE artifact_id = ?", (aid,)
            )
        }
        mfiles = {p: (e["hash"], e["size"]) for p, e in manifest.get("files", {}).items()}
        if rows != mfiles:
            self.problem(aid, "catalog file rows differ from the manifest", label)
        for path, (digest, size) in sorted(mfiles.items()):
            if row["remote"] and digest not in self.damaged and not self.store.objects.has(digest):
                self.result.remote_only += 1  # fetched, not pulled: the blob is on the remote
                continue
            if self.blob_ok(digest, label, f"file {path}"):
                actual = self.store.objects.size(digest)
                if actual != size:
                    self.problem(
                        digest, f"file {path} has size {actual}, manifest says {size}", label
                    )

    def check_dangling_rows(self) -> None:
        for table, col, what in (
            ("files", "artifact_id", "file row"),
            ("lineage", "parent_id", "lineage edge (parent)"),
            ("lineage", "child_id", "lineage edge (child)"),
            ("aliases", "artifact_id", "alias"),
            ("run_artifacts", "artifact_id", "run link"),
        ):
            for r in self.store.conn.execute(
                f"SELECT {col} FROM {table} WHERE {col} NOT IN (SELECT id FROM artifacts)"
            ).fetchall():
                self.problem(r[0], f"{what} points to an artifact that is not in the catalog")


def fsck(store: Store) -> FsckResult:
    """Check the catalog file (`PRAGMA integrity_check`) and that it belongs to these objects,
    re-hash every blob, and check every artifact's manifest and catalog rows against them."""
    check = _Fsck(store)
    for detail in integrity_problems(store.conn):
        check.problem("catalog.sqlite", f"SQLite integrity_check: {detail}")
    mismatch = store.catalog_mismatch()
    if mismatch:
        check.problem("catalog.sqlite", mismatch + "; run `mlops fsck --rebuild`")
    check.check_objects()
    for row in store.conn.execute("SELECT * FROM artifacts ORDER BY created_at").fetchall():
        check.check_artifact(row)
    check.check_dangling_rows()
    check.result.unindexed_manifests = len(unindexed_manifests(store, referenced_hashes(store)))
    return check.result
