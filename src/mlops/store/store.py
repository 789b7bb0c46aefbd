"""The Store: content-addressed blobs plus the SQLite catalog, behind one small API.

Every step reads and writes artifacts through this class; tests call it directly.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import re
import socket
import sqlite3
import stat
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from mlops import __version__
from mlops.errors import (
    AmbiguousRefError,
    InputError,
    LockedError,
    NotFoundError,
    StoreIntegrityError,
)
from mlops.store import catalog
from mlops.store.artifact import (
    Artifact,
    FileEntry,
    artifact_from_manifest,
    canonical_json,
    manifest_dict,
)
from mlops.store.names import check_kind, check_name, check_relpath
from mlops.store.objects import ObjectStore, is_hash, sha256_file

_REF = re.compile(
    r"^(?:(?P<kind>[a-z][a-z0-9-]*)/)?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*?)"
    r"(?:(?::(?P<version>\d+|latest))|(?:@(?P<alias>[A-Za-z0-9][A-Za-z0-9._-]*)))?\Z"
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def current_user() -> str:
    user = os.environ.get("MLOPS_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


FileSource = Path | bytes


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = ObjectStore(self.root)
        self._conn: sqlite3.Connection | None = None
        self._guard_depth = 0

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
        store = cls(root)
        store.objects.ensure()
        for part in (root / "locks", root / "catalog.sqlite"):
            if part.is_symlink():
                raise StoreIntegrityError(
                    f"{part} is a symlink; the store does not follow links out of itself",
                    hint="replace the link with a real file or directory",
                )
        (root / "locks").mkdir(exist_ok=True)
        catalog.init_schema(store.conn)
        return store

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = catalog.connect(self.root / "catalog.sqlite")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- blobs -----------------------------------------------------------------------------
    def hash_file(self, path: Path) -> tuple[str, int, bool]:
        """(sha256, size, cached): skip re-hashing when path, inode, size and mtime are unchanged."""
        path = Path(path)
        st = os.stat(path)
        key = str(path.resolve())
        row = self.conn.execute(
            "SELECT hash FROM file_state WHERE path = ? AND inode = ? AND size = ? AND mtime_ns = ?",
            (key, st.st_ino, st.st_size, st.st_mtime_ns),
        ).fetchone()
        if row is not None:
            return row["hash"], st.st_size, True
        digest = sha256_file(path)
        self._remember(key, st, digest)
        return digest, st.st_size, False

    def _remember(self, key: str, st: os.stat_result, digest: str) -> None:
        if self._pending_state is not None:
            self._pending_state.append((key, st.st_ino, st.st_size, st.st_mtime_ns, digest))
            return
        with catalog.write(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO file_state (path, inode, size, mtime_ns, hash) VALUES (?,?,?,?,?)",
                (key, st.st_ino, st.st_size, st.st_mtime_ns, digest),
            )

    _pending_state: list[tuple[str, int, int, int, str]] | None = None

    @contextmanager
    def _batched_state(self) -> Iterator[None]:
        """Collect state-cache rows and write them in one transaction at the end."""
        if self._pending_state is not None:
            yield
            return
        self._pending_state = []
        try:
            yield
        finally:
            rows, self._pending_state = self._pending_state, None
            if rows:
                with catalog.write(self.conn):
                    self.conn.executemany(
                        "INSERT OR REPLACE INTO file_state (path, inode, size, mtime_ns, hash) VALUES (?,?,?,?,?)",
                        rows,
                    )

    def put_file(self, path: Path) -> tuple[FileEntry, bool]:
        """Store a file; returns its entry and whether the hash came from the state cache."""
        path = Path(path)
        st = os.stat(path)
        key = os.path.realpath(path)
        row = self.conn.execute(
            "SELECT hash FROM file_state WHERE path = ? AND inode = ? AND size = ? AND mtime_ns = ?",
            (key, st.st_ino, st.st_size, st.st_mtime_ns),
        ).fetchone()
        if row is not None and self.objects.exists(row["hash"]):
            return FileEntry(row["hash"], st.st_size), True
        with self.gc_guard():
            digest, size = self.objects.put_file(path)
        self._remember(key, st, digest)
        return FileEntry(digest, size), False

    def _put_files(
        self, listing: list[tuple[str, Path]]
    ) -> tuple[dict[str, FileEntry], dict[str, int]]:
        """Store many files at once: hash each (or take the state cache's hash), stage only new
        content, make all staged bytes durable with one flush, publish, then record the state
        cache in one transaction. Callers hold the gc guard."""
        stats = {"files": 0, "bytes": 0, "hashed": 0, "cached": 0}
        files: dict[str, FileEntry] = {}
        staged: dict[str, Path] = {}
        rows: list[tuple[str, int, int, int, str]] = []
        lookup = (
            "SELECT hash FROM file_state WHERE path = ? AND inode = ? AND size = ? AND mtime_ns = ?"
        )
        try:
            for rel, f in listing:
                st = os.stat(f)
                key = os.path.realpath(f)
                row = self.conn.execute(
                    lookup, (key, st.st_ino, st.st_size, st.st_mtime_ns)
                ).fetchone()
                if row is not None and (row["hash"] in staged or self.objects.exists(row["hash"])):
                    digest, cached = row["hash"], True
                else:
                    if not stat.S_ISREG(st.st_mode):
                        raise InputError(f"{f} is not a regular file")
                    digest, cached = sha256_file(f), False
                    if digest not in staged and not self.objects.exists(digest):
                        staged[digest] = self.objects.stage_file(f, st)
                    rows.append((key, st.st_ino, st.st_size, st.st_mtime_ns, digest))
                files[rel] = FileEntry(digest, st.st_size)
                stats["files"] += 1
                stats["bytes"] += st.st_size
                stats["cached" if cached else "hashed"] += 1
            self.objects.publish([(tmp, digest) for digest, tmp in staged.items()])
        finally:
            for tmp in staged.values():
                tmp.unlink(missing_ok=True)
        if rows:
            with catalog.write(self.conn):
                self.conn.executemany(
                    "INSERT OR REPLACE INTO file_state (path, inode, size, mtime_ns, hash) VALUES (?,?,?,?,?)",
                    rows,
                )
        return files, stats

    def put_bytes(self, data: bytes) -> FileEntry:
        with self.gc_guard():  # gc must not reclaim the staging file while it is written
            return FileEntry(self.objects.put_bytes(data), len(data))

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
        check_kind(kind)
        check_name(name)
        for p in files:
            check_relpath(p)
        parents = sorted(set(parents))
        for pid in parents:
            if not is_hash(pid) or not self.has(pid):
                raise NotFoundError(f"parent artifact {pid[:12]} is not in the store")
        metadata = json.loads(canonical_json(metadata or {}))
        with self.gc_guard():
            return self._add_artifact(
                kind, name, files, metadata, parents, run_id, command, reuse_unchanged
            )

    def _add_artifact(
        self,
        kind: str,
        name: str,
        files: Mapping[str, FileSource | FileEntry],
        metadata: dict[str, Any],
        parents: list[str],
        run_id: str | None,
        command: str | None,
        reuse_unchanged: bool,
    ) -> Artifact:
        entries: dict[str, FileEntry] = {}
        with self._batched_state():
            for p, src in files.items():
                if isinstance(src, FileEntry):
                    if not self.objects.exists(src.hash):
                        raise StoreIntegrityError(
                            f"object {src.hash[:12]} for {p} is not in the store"
                        )
                    entries[p] = src
                elif isinstance(src, bytes | bytearray):
                    entries[p] = self.put_bytes(bytes(src))
                else:
                    entries[p] = self.put_file(Path(src))[0]

        with catalog.write(self.conn):
            latest = self.conn.execute(
                "SELECT id, version FROM artifacts WHERE kind = ? AND name = ? ORDER BY version DESC LIMIT 1",
                (kind, name),
            ).fetchone()
            if latest is not None and reuse_unchanged:
                prev = self._load_manifest(latest["id"])
                if (
                    prev["files"]
                    == {p: {"hash": e.hash, "size": e.size} for p, e in sorted(entries.items())}
                    and prev.get("metadata") == metadata
                    and sorted(prev.get("parents") or []) == parents
                ):
                    art = artifact_from_manifest(latest["id"], prev)
                    return replace(art, aliases=self._aliases_of(art.id))
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
            artifact_id = self.objects.put_bytes(canonical_json(manifest))
            self.conn.execute(
                "INSERT INTO artifacts (id, kind, name, version, created_at, run_id, command) VALUES (?,?,?,?,?,?,?)",
                (artifact_id, kind, name, version, manifest["created_at"], run_id, command),
            )
            self.conn.executemany(
                "INSERT INTO files (artifact_id, path, hash, size) VALUES (?,?,?,?)",
                [(artifact_id, p, e.hash, e.size) for p, e in entries.items()],
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO lineage (parent_id, child_id) VALUES (?,?)",
                [(pid, artifact_id) for pid in parents],
            )
            if run_id is not None:
                self.conn.execute(
                    "INSERT OR IGNORE INTO run_artifacts (run_id, artifact_id, role) VALUES (?,?,?)",
                    (run_id, artifact_id, "output"),
                )
        return artifact_from_manifest(artifact_id, manifest)

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
        name = name or re.sub(r"[^A-Za-z0-9._-]", "-", path.resolve().name).lstrip(".-_") or "data"
        check_name(name)
        check_kind(kind)
        listing = list(_walk(path))  # validates every path before anything is written
        if not listing:
            raise InputError(f"{path} holds no files to add")
        meta = {"source": str(path), "is_dir": path.is_dir(), **(metadata or {})}
        # one guard from the first staged blob to the catalog commit: gc cannot slip in between
        with self.gc_guard():
            files, stats = self._put_files(listing)
            art = self.add_artifact(kind, name, files, metadata=meta, command=command)
        return art, stats

    def has(self, artifact_id: str) -> bool:
        """Whether the catalog holds an artifact with this full id."""
        return (
            self.conn.execute("SELECT 1 FROM artifacts WHERE id = ?", (artifact_id,)).fetchone()
            is not None
        )

    def _load_manifest(self, artifact_id: str) -> dict[str, Any]:
        try:
            data = self.objects.read_bytes(artifact_id)
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

    def get(self, artifact_id: str) -> Artifact:
        if not self.has(artifact_id):
            raise NotFoundError(f"no artifact {artifact_id[:12]}")
        try:
            art = artifact_from_manifest(artifact_id, self._load_manifest(artifact_id))
        except (KeyError, TypeError, ValueError):
            raise StoreIntegrityError(
                f"manifest of artifact {artifact_id[:12]} lacks required fields",
                hint="run `mlops fsck`",
            ) from None
        for p, e in art.files.items():
            check_relpath_integrity(artifact_id, p, e.hash)
        return replace(art, aliases=self._aliases_of(artifact_id))

    def _aliases_of(self, artifact_id: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT alias FROM aliases WHERE artifact_id = ? ORDER BY alias", (artifact_id,)
        )
        return [r["alias"] for r in rows]

    def list_artifacts(self, kind: str | None = None, name: str | None = None) -> list[Artifact]:
        return [self.get(r["id"]) for r in self.list_rows(kind, name)]

    def list_rows(self, kind: str | None = None, name: str | None = None) -> list[sqlite3.Row]:
        """Catalog rows only (no manifest reads): fast listings."""
        sql, args = "SELECT * FROM artifacts WHERE 1=1", []
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        if name:
            sql += " AND name = ?"
            args.append(name)
        return self.conn.execute(sql + " ORDER BY created_at, name, version", args).fetchall()

    def resolve(self, ref: str, kind: str | None = None) -> Artifact:
        """An id or unique id prefix, `[kind/]name`, `[kind/]name:version` or `[kind/]name@alias`."""
        ref = ref.strip()
        if re.fullmatch(r"[0-9a-f]{4,64}", ref):
            rows = self.conn.execute(
                "SELECT id FROM artifacts WHERE id >= ? AND id < ? "
                + ("AND kind = ?" if kind else ""),
                (ref, ref + "g", *([kind] if kind else [])),
            ).fetchall()
            if len(rows) == 1:
                return self.get(rows[0]["id"])
            if len(rows) > 1:
                raise AmbiguousRefError(
                    f"id prefix {ref!r} matches {len(rows)} artifacts",
                    hint="type more characters of the id",
                )
        m = _REF.match(ref)
        if not m:
            raise InputError(
                f"{ref!r} is not a valid reference",
                hint="use an id prefix, name, name:version or name@alias",
            )
        kind = m["kind"] or kind
        name = m["name"]
        kinds = (
            [kind]
            if kind
            else [
                r["kind"]
                for r in self.conn.execute(
                    "SELECT DISTINCT kind FROM artifacts WHERE name = ?", (name,)
                )
            ]
        )
        if not kinds:
            raise NotFoundError(
                f"no artifact matches {ref!r}", hint="list artifacts with `mlops ls`"
            )
        if len(kinds) > 1:
            raise AmbiguousRefError(
                f"{name!r} names artifacts of several kinds ({', '.join(sorted(kinds))})",
                hint=f"prefix the kind, e.g. {sorted(kinds)[0]}/{ref}",
            )
        k = kinds[0]
        if m["alias"]:
            row = self.conn.execute(
                "SELECT artifact_id AS id FROM aliases WHERE kind = ? AND name = ? AND alias = ?",
                (k, name, m["alias"]),
            ).fetchone()
            if row is None:
                raise NotFoundError(
                    f"no {k} {name!r} holds alias @{m['alias']}",
                    hint=f"see `mlops models ls` or promote one with `mlops models promote {name} VERSION --alias {m['alias']}`",
                )
        elif m["version"] and m["version"] != "latest":
            row = self.conn.execute(
                "SELECT id FROM artifacts WHERE kind = ? AND name = ? AND version = ?",
                (k, name, int(m["version"])),
            ).fetchone()
            if row is None:
                raise NotFoundError(
                    f"no version {m['version']} of {k} {name!r}",
                    hint="list versions with `mlops ls --name NAME`",
                )
        else:
            row = self.conn.execute(
                "SELECT id FROM artifacts WHERE kind = ? AND name = ? ORDER BY version DESC LIMIT 1",
                (k, name),
            ).fetchone()
            if row is None:
                raise NotFoundError(
                    f"no artifact matches {ref!r}", hint="list artifacts with `mlops ls`"
                )
        return self.get(row["id"])

    def try_resolve(self, ref: str, kind: str | None = None) -> Artifact | None:
        try:
            return self.resolve(ref, kind=kind)
        except NotFoundError:
            return None

    # -- reading files ---------------------------------------------------------------------
    def _entry(self, art: Artifact, path: str) -> FileEntry:
        if path not in art.files:
            raise NotFoundError(
                f"artifact {art.label} has no file {path!r}",
                hint=f"its files: {', '.join(sorted(art.files)) or '(none)'}",
            )
        return art.files[path]

    def read_file(self, art: Artifact, path: str) -> bytes:
        return self.objects.read_bytes(self._entry(art, path).hash)

    def read_json(self, art: Artifact, path: str) -> Any:
        return json.loads(self.read_file(art, path))

    def export(self, art: Artifact, dest: Path) -> list[Path]:
        """Copy every file of an artifact under dest, verified; refuses to write through symlinks.

        Every file is first copied and verified into a temp file in dest; only when all of them
        match their hashes are they renamed into place, so a damaged blob leaves no partial export.
        """
        dest = Path(dest)
        targets: list[tuple[str, Path]] = []
        for rel in sorted(art.files):
            check_relpath(rel)
            targets.append((rel, dest / rel))
        created_dest = not dest.exists()
        if dest.is_symlink() and not dest.is_dir():
            raise InputError(f"refusing to export into {dest}: it is a dangling symlink")
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        for rel, target in targets:
            _check_inside(root, dest, rel)
            if target.is_symlink():
                raise InputError(f"refusing to write {rel}: {target} is a symlink")
            if target.is_dir():
                raise InputError(f"refusing to write {rel}: {target} is a directory")
        staged: list[tuple[Path, Path]] = []
        try:
            for rel, target in targets:
                staged.append((self.objects.stage_verified(art.files[rel].hash, dest), target))
            for tmp, target in staged:
                target.parent.mkdir(parents=True, exist_ok=True)
                _check_inside(root, dest, target.relative_to(dest).as_posix())
                os.replace(tmp, target)
        except BaseException:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            if created_dest:
                _remove_empty_tree(dest)
            raise
        return [t for _, t in targets]

    def materialize(self, art: Artifact, path: str, dest: Path) -> Path:
        self.objects.copy_verified(self._entry(art, path).hash, Path(dest))
        return Path(dest)

    # -- lineage ---------------------------------------------------------------------------
    def parents(self, artifact_id: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT parent_id FROM lineage WHERE child_id = ? ORDER BY parent_id", (artifact_id,)
        )
        return [r[0] for r in rows]

    def children(self, artifact_id: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT child_id FROM lineage WHERE parent_id = ? ORDER BY child_id", (artifact_id,)
        )
        return [r[0] for r in rows]

    def lineage(self, artifact_id: str, down: bool = False, max_depth: int = 50) -> dict[str, Any]:
        """A tree {artifact, children: [...]} of ancestors (or, with down, descendants)."""
        seen: set[str] = set()

        def node(aid: str, depth: int) -> dict[str, Any]:
            row = self.conn.execute("SELECT * FROM artifacts WHERE id = ?", (aid,)).fetchone()
            info = (
                {
                    "id": aid,
                    "kind": row["kind"],
                    "name": row["name"],
                    "version": row["version"],
                    "created_at": row["created_at"],
                }
                if row
                else {"id": aid, "missing": True}
            )
            if aid in seen or depth >= max_depth:
                info["children"] = []
                return info
            seen.add(aid)
            nxt = self.children(aid) if down else self.parents(aid)
            info["children"] = [node(n, depth + 1) for n in nxt]
            return info

        return node(artifact_id, 0)

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

        expect_from (an id or None) makes the move conditional: it happens only if the alias still
        points where the caller saw it (compare-and-swap), so two racing promoters cannot both win.
        """
        check_name(alias, "alias")
        with catalog.write(self.conn):
            row = self.conn.execute(
                "SELECT artifact_id FROM aliases WHERE kind = ? AND name = ? AND alias = ?",
                (art.kind, art.name, alias),
            ).fetchone()
            previous = row["artifact_id"] if row else None
            if expect_from is not False and previous != expect_from:
                raise LockedError(
                    f"@{alias} of {art.name} moved while this command ran (now {str(previous)[:12]})",
                    hint="rerun the command to decide against the new holder",
                )
            self.conn.execute(
                "INSERT OR REPLACE INTO aliases (kind, name, alias, artifact_id) VALUES (?,?,?,?)",
                (art.kind, art.name, alias, art.id),
            )
            self.conn.execute(
                "INSERT INTO alias_events (kind, name, alias, from_id, to_id, at, who, why) VALUES (?,?,?,?,?,?,?,?)",
                (
                    art.kind,
                    art.name,
                    alias,
                    previous,
                    art.id,
                    now_iso(),
                    who or current_user(),
                    why,
                ),
            )
        return previous

    def get_alias(self, kind: str, name: str, alias: str) -> str | None:
        row = self.conn.execute(
            "SELECT artifact_id FROM aliases WHERE kind = ? AND name = ? AND alias = ?",
            (kind, name, alias),
        ).fetchone()
        return row["artifact_id"] if row else None

    def aliases(self, kind: str, name: str) -> dict[str, str]:
        rows = self.conn.execute(
            "SELECT alias, artifact_id FROM aliases WHERE kind = ? AND name = ?", (kind, name)
        )
        return {r["alias"]: r["artifact_id"] for r in rows}

    def alias_history(
        self, kind: str | None = None, name: str | None = None, alias: str | None = None
    ) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM alias_events WHERE 1=1", []
        for col, val in (("kind", kind), ("name", name), ("alias", alias)):
            if val:
                sql += f" AND {col} = ?"
                args.append(val)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY seq", args)]

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
        run_id = uuid.uuid4().hex
        with catalog.write(self.conn):
            self.conn.execute(
                "INSERT INTO runs (id, step, name, status, started_at, config_hash, git_commit, user, host, command, info)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    step,
                    name,
                    "running",
                    now_iso(),
                    config_hash,
                    git_commit,
                    current_user(),
                    socket.gethostname(),
                    command,
                    json.dumps(info or {}, sort_keys=True, default=str),
                ),
            )
        return run_id

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        with catalog.write(self.conn):
            self.conn.executemany(
                "INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?,?,?)",
                [
                    (run_id, k, json.dumps(v, sort_keys=True, default=str))
                    for k, v in params.items()
                ],
            )

    def log_metrics(self, run_id: str, metrics: Mapping[str, float | None], step: int = 0) -> None:
        with catalog.write(self.conn):
            self.conn.executemany(
                "INSERT OR REPLACE INTO metrics (run_id, key, value, step) VALUES (?,?,?,?)",
                [(run_id, k, None if v is None else float(v), step) for k, v in metrics.items()],
            )

    def link_run(self, run_id: str, artifact_id: str, role: str) -> None:
        with catalog.write(self.conn):
            self.conn.execute(
                "INSERT OR IGNORE INTO run_artifacts (run_id, artifact_id, role) VALUES (?,?,?)",
                (run_id, artifact_id, role),
            )

    def finish_run(
        self, run_id: str, status: str = "succeeded", info: dict[str, Any] | None = None
    ) -> None:
        with catalog.write(self.conn):
            row = self.conn.execute(
                "SELECT started_at, info FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            started = datetime.fromisoformat(row["started_at"].replace("Z", "+00:00"))
            merged = {**json.loads(row["info"] or "{}"), **(info or {})}
            self.conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, duration_s = ?, info = ? WHERE id = ?",
                (
                    status,
                    now_iso(),
                    (datetime.now(UTC) - started).total_seconds(),
                    json.dumps(merged, sort_keys=True, default=str),
                    run_id,
                ),
            )

    def get_run(self, ref: str) -> dict[str, Any]:
        rows = self.conn.execute(
            "SELECT * FROM runs WHERE id >= ? AND id < ?", (ref, ref + "g")
        ).fetchall()
        if not rows:
            raise NotFoundError(f"no run {ref!r}", hint="list runs with `mlops runs ls`")
        if len(rows) > 1:
            raise AmbiguousRefError(
                f"run prefix {ref!r} matches {len(rows)} runs", hint="type more characters"
            )
        return self._run_dict(rows[0])

    def _run_dict(self, row: sqlite3.Row) -> dict[str, Any]:
        run = dict(row)
        run["info"] = json.loads(run["info"] or "{}")
        run["params"] = {
            r["key"]: json.loads(r["value"])
            for r in self.conn.execute(
                "SELECT key, value FROM params WHERE run_id = ? ORDER BY key", (run["id"],)
            )
        }
        run["metrics"] = {
            r["key"]: r["value"]
            for r in self.conn.execute(
                "SELECT key, value FROM metrics WHERE run_id = ? ORDER BY key, step", (run["id"],)
            )
        }
        run["artifacts"] = [
            {"id": r["artifact_id"], "role": r["role"]}
            for r in self.conn.execute(
                "SELECT artifact_id, role FROM run_artifacts WHERE run_id = ?", (run["id"],)
            )
        ]
        return run

    def list_runs(self, step: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM runs", []
        if step:
            sql += " WHERE step = ?"
            args.append(step)
        sql += " ORDER BY started_at DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [self._run_dict(r) for r in self.conn.execute(sql, args).fetchall()]

    # -- stage cache -----------------------------------------------------------------------
    def cache_get(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT outputs FROM stage_cache WHERE key = ?", (key,)).fetchone()
        return json.loads(row["outputs"]) if row else None

    def cache_put(self, key: str, stage: str, outputs: dict[str, Any]) -> None:
        with catalog.write(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO stage_cache (key, stage, outputs, created_at) VALUES (?,?,?,?)",
                (key, stage, json.dumps(outputs, sort_keys=True), now_iso()),
            )

    # -- locks -----------------------------------------------------------------------------
    @contextmanager
    def gc_guard(self, exclusive: bool = False) -> Iterator[None]:
        """Writers hold it shared from staging blobs to committing the catalog row; gc holds it
        exclusive, so it never reclaims a blob that a writer has not committed yet."""
        if self._guard_depth and not exclusive:
            self._guard_depth += 1
            try:
                yield
            finally:
                self._guard_depth -= 1
            return
        fd = os.open(self.root / "locks" / "gc.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            self._guard_depth += 1
            try:
                yield
            finally:
                self._guard_depth -= 1
        finally:
            os.close(fd)

    @contextmanager
    def lock(self, name: str, wait: bool = False) -> Iterator[None]:
        """An exclusive advisory lock; the kernel drops it when the holder dies (no stale locks)."""
        check_name(name, "lock name")
        path = self.root / "locks" / f"{name}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                raise LockedError(
                    f"another {name} is running on this store",
                    hint="wait for it to finish, or pass --wait",
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {socket.gethostname()} {now_iso()}\n".encode())
            yield
        finally:
            os.close(fd)


def _walk(path: Path) -> Iterator[tuple[str, Path]]:
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


def _check_inside(root: Path, dest: Path, rel: str) -> None:
    """Refuse when an existing directory on the way to dest/rel is a symlink leading out."""
    d = dest
    for part in PurePosixPath(rel).parts[:-1]:
        d = d / part
        if d.is_symlink() or (d.exists() and not d.resolve().is_relative_to(root)):
            raise InputError(
                f"refusing to write {rel}: {d} is a symlink",
                hint="export into a directory without symlinks",
            )


def _remove_empty_tree(path: Path) -> None:
    for dirpath, _, _ in sorted(os.walk(path, topdown=False), key=lambda t: -len(t[0])):
        with suppress(OSError):
            os.rmdir(dirpath)
