"""`mlops rm`: take an artifact out of the store, unless something still needs it.

An artifact is needed while an alias points at it or while another artifact in the catalog
names it as a parent (its lineage would lose a link). Removing drops its catalog rows and then
its manifest blob, so `gc` (which keeps every manifest and the files a manifest names) can
reclaim the files no other artifact shares. The catalog row goes first: a kill between the two
steps leaves an unindexed manifest, which gc keeps and `fsck --rebuild` can index again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops.jsonable import fields_dict
from mlops.store.catalog import write
from mlops.store.stamps import current_user, now_iso
from mlops.store.store import Store


@dataclass
class Removal:
    """What `rm` found and did."""

    artifact: dict[str, Any]
    needed_by: list[str] = field(default_factory=list)  # one line per alias or dependent
    removed: bool = False
    forced: bool = False
    bytes: int = 0  # the artifact's files, reclaimable by gc unless another artifact shares them

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


def needed_by(store: Store, artifact_id: str) -> list[str]:
    """Why an artifact cannot simply go: the aliases on it and the artifacts made from it."""
    row = store.conn.execute(
        "SELECT kind, name FROM artifacts WHERE id = ?", (artifact_id,)
    ).fetchone()
    lines = [
        f"alias {row['kind']}/{row['name']}@{r['alias']} points at it"
        for r in store.conn.execute(
            "SELECT alias FROM aliases WHERE artifact_id = ? ORDER BY alias", (artifact_id,)
        )
    ]
    for r in store.conn.execute(
        "SELECT a.id, a.kind, a.name, a.version FROM lineage l JOIN artifacts a "
        "ON a.id = l.child_id WHERE l.parent_id = ? ORDER BY a.created_at",
        (artifact_id,),
    ):
        lines.append(f"{r['kind']}/{r['name']}:{r['version']} ({r['id'][:12]}) was made from it")
    return lines


def remove(store: Store, ref: str, force: bool = False, dry_run: bool = False) -> Removal:
    """Remove the artifact ref names, refusing while it is needed unless force.

    Args:
        store: the store (writable).
        ref: an artifact reference.
        force: remove even when aliases or other artifacts need it; the aliases are dropped
            (the drop is recorded in the alias history) and the lineage links to it removed.
        dry_run: only say what would happen.

    Returns:
        The Removal: `removed` is False when it was refused (see `needed_by`) or a dry run.

    Raises:
        NotFoundError, AmbiguousRefError: ref names no single artifact.
        StoreReadOnlyError: the store cannot be written.
    """
    store.require_writable()
    art = store.resolve(ref)
    result = Removal(
        artifact={"id": art.id, "kind": art.kind, "name": art.name, "version": art.version},
        needed_by=needed_by(store, art.id),
        forced=force,
        bytes=sum(e.size for e in art.files.values()),
    )
    if (result.needed_by and not force) or dry_run:
        return result
    with store.gc_guard(), write(store.conn) as conn:
        _drop_rows(conn, art.id)
    if store.conn.execute("SELECT 1 FROM files WHERE hash = ?", (art.id,)).fetchone() is None:
        store.objects.delete(art.id)
    result.removed = True
    return result


def _drop_rows(conn: Any, artifact_id: str) -> None:
    for r in conn.execute(
        "SELECT kind, name, alias FROM aliases WHERE artifact_id = ?", (artifact_id,)
    ).fetchall():
        # remote_seq -1 (LOCAL_ONLY): a removal is this store's own business, never pushed
        conn.execute(
            "INSERT INTO alias_events (kind, name, alias, from_id, to_id, at, who, why, "
            "remote_seq) VALUES (?,?,?,?,NULL,?,?,?,-1)",
            (r["kind"], r["name"], r["alias"], artifact_id, now_iso(), current_user(), "mlops rm"),
        )
    conn.execute("DELETE FROM aliases WHERE artifact_id = ?", (artifact_id,))
    conn.execute(
        "DELETE FROM lineage WHERE parent_id = ? OR child_id = ?", (artifact_id, artifact_id)
    )
    conn.execute("DELETE FROM run_artifacts WHERE artifact_id = ?", (artifact_id,))
    # a cached stage whose outputs include it must run again
    conn.execute("DELETE FROM stage_cache WHERE instr(outputs, ?) > 0", (artifact_id,))
    conn.execute("DELETE FROM files WHERE artifact_id = ?", (artifact_id,))
    conn.execute("DELETE FROM artifacts WHERE id = ?", (artifact_id,))
