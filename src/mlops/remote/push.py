"""`mlops push`: copy to a remote what it lacks, in an order that makes a killed push safe to
rerun: file blobs, then manifests, then version claims (which publish artifacts), then runs and
alias moves. Whatever is already there (checked with one listing) is not sent again."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlops import progress
from mlops.errors import AmbiguousRefError, NotFoundError, StoreIntegrityError
from mlops.jsonable import fields_dict
from mlops.remote import alias_sync, run_events, transfer, versions
from mlops.remote.alias_sync import Conflict
from mlops.remote.project_file import push_config
from mlops.remote.site import Site, reaching
from mlops.store.store import Store

WORKERS = 8


@dataclass
class PushResult:
    remote: str
    artifacts: int = 0
    blobs_uploaded: int = 0
    bytes_uploaded: int = 0
    blobs_present: int = 0
    published: list[dict[str, Any]] = field(default_factory=list)
    runs_uploaded: int = 0
    alias_moves_pushed: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    config_pushed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


def with_ancestors(store: Store, ids: Iterable[str]) -> set[str]:
    out: set[str] = set()
    todo = list(ids)
    while todo:
        aid = todo.pop()
        if aid not in out:
            out.add(aid)
            todo.extend(store.parents(aid))
    return out


def resolve_ref(store: Store, ref: str) -> str:
    """The id a ref names; a name shared by several kinds (churn the model, churn the
    evaluation, ...) means the model, as in the model commands."""
    try:
        return store.resolve(ref).id
    except AmbiguousRefError:
        if "/" in ref.split("@", 1)[0].split(":", 1)[0]:
            raise
        try:
            return store.resolve(ref, kind="model").id
        except NotFoundError:
            raise AmbiguousRefError(
                f"{ref!r} names artifacts of several kinds",
                hint="prefix the kind, e.g. dataset/NAME@ALIAS",
            ) from None


def selected(store: Store, refs: Sequence[str]) -> list[Any]:
    """Catalog rows of the artifacts to push (refs and their ancestors; all without refs),
    oldest first, so parents are published before their children."""
    rows = store.conn.execute("SELECT * FROM artifacts ORDER BY created_at, id").fetchall()
    if not refs:
        return rows
    wanted = with_ancestors(store, [resolve_ref(store, r) for r in refs])
    return [r for r in rows if r["id"] in wanted]


def push(
    store: Store,
    site: Site,
    refs: Sequence[str] = (),
    project_config: bytes | None = None,
    full: bool = False,
) -> PushResult:
    """Upload what the remote lacks (module docstring).

    Args:
        store: the local store.
        site: the remote.
        refs: artifacts to push with their ancestors (all when empty).
        project_config: the project's mlops.yaml, left on the remote for `mlops clone`.
        full: judge every object by one listing of the remote, instead of trusting that the
            artifacts it has published are whole (repairs a remote that lost objects).

    Returns:
        What was sent and published, and any alias move the remote refused.

    Raises:
        UsageError: the remote cannot be reached.
        StoreIntegrityError: an object to push is neither here nor on the remote, or damaged.
    """
    result = PushResult(site.remote.name)
    rows = selected(store, refs)
    result.artifacts = len(rows)
    ids = [r["id"] for r in rows]
    with reaching(site.remote):
        claims = {
            key: versions.claims_for(site, *key) for key in {(r["kind"], r["name"]) for r in rows}
        }
        files = _file_blobs(store, ids)
        present = _present(store, site, claims, [*files, *ids], full)
        missing = [d for d in files if d not in present]
        _upload(store, site, missing, [d for d in ids if d not in present], result)
        result.blobs_present = len((set(files) | set(ids)) & present)
        _publish(store, site, rows, claims, result)
        run_ids = _runs_of(store, set(ids)) if refs else _all_runs(store)
        result.runs_uploaded = run_events.push_runs(site, store.conn, run_ids, WORKERS)
        published = {
            r["id"] for r in store.conn.execute("SELECT id FROM artifacts WHERE synced = 1")
        }
        # every move whose target the remote has: a chain of moves made by several processes
        # of this store goes out whole, whichever of them pushes first
        with store.lock(alias_sync.LOCK, wait=True):
            result.alias_moves_pushed, result.conflicts = alias_sync.push_moves(
                site, store.conn, published
            )
    if project_config is not None:
        result.config_pushed = push_config(site, project_config)
    return result


def _file_blobs(store: Store, ids: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for aid in ids:
        for r in store.conn.execute("SELECT hash, size FROM files WHERE artifact_id = ?", (aid,)):
            out[r["hash"]] = int(r["size"])
    return out


def _upload(
    store: Store, site: Site, files: list[str], manifests: list[str], result: PushResult
) -> None:
    """File blobs, then manifests: an artifact's files are on the remote before its manifest."""
    for d in (*files, *manifests):
        if not store.objects.has(d):
            raise StoreIntegrityError(
                f"object {d[:12]} is neither in this store nor on remote {site.remote.name}",
                hint="run `mlops fsck`; pull it from the remote it came from first",
            )
    sizes = {d: store.objects.size(d) for d in (*files, *manifests)}
    label = f"uploading {len(sizes)} object(s) to {site.remote.name}"
    with progress.counter(label, sum(sizes.values()), "bytes") as advance:
        for batch in (files, manifests):
            result.bytes_uploaded += transfer.upload(store.objects, site.objects, batch, advance)
            result.blobs_uploaded += len(batch)


def _present(
    store: Store,
    site: Site,
    claims: dict[tuple[str, str], versions.Claims],
    needed: list[str],
    full: bool,
) -> set[str]:
    """Which needed objects the remote has. The files of an artifact it has published are
    there (push sends files, then the manifest, then the claim; gc keeps what claims reach;
    fsck --remote checks it), so only the rest, manifests included, is asked about: one HEAD
    each when few, else one listing. full: one listing for all."""
    if full:
        return site.objects._listing()
    published = {aid for c in claims.values() for aid in c.values() if store.has(aid)}
    known = set(_file_blobs(store, sorted(published)))
    unknown = [d for d in dict.fromkeys(needed) if d not in known]
    if len(unknown) > transfer.ASK_AT_MOST:
        return known | site.objects._listing()
    return known | transfer.existing(site.objects, unknown)


def _publish(
    store: Store,
    site: Site,
    rows: list[Any],
    all_claims: dict[tuple[str, str], versions.Claims],
    result: PushResult,
) -> None:
    """Claim a remote version for every artifact (oldest first) and renumber locally."""
    by_name: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        by_name.setdefault((r["kind"], r["name"]), []).append(r)
    for (kind, name), group in by_name.items():
        claims = all_claims[(kind, name)]
        for r in group:
            had = versions.version_of(claims, r["id"])
            v = versions.claim(site, kind, name, r["id"], claims)
            if had is None:
                result.published.append({"id": r["id"], "label": f"{name}:{v}", "kind": kind})
        versions.apply_local(store.conn, kind, name, claims)


def _runs_of(store: Store, ids: set[str]) -> list[str]:
    runs = {
        r["run_id"]
        for r in store.conn.execute("SELECT run_id, artifact_id FROM run_artifacts")
        if r["artifact_id"] in ids
    }
    runs |= {
        r["run_id"]
        for r in store.conn.execute("SELECT id, run_id FROM artifacts WHERE run_id IS NOT NULL")
        if r["id"] in ids
    }
    known = {r[0] for r in store.conn.execute("SELECT id FROM runs")}
    return sorted(runs & known)


def _all_runs(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT id FROM runs ORDER BY started_at")]
