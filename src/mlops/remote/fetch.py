"""`mlops fetch` and `mlops pull`: bring a remote's catalog records into the local catalog
(union, idempotent), and for pull the blobs that refs need.

Every byte from a remote is verified against its hash before it enters the store: manifests
on fetch, file blobs on pull. A damaged blob raises StoreIntegrityError (exit 3) naming it, and
nothing of it is kept (the verified stream fails before the staged copy is published).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mlops import progress
from mlops.errors import StoreIntegrityError
from mlops.jsonable import fields_dict
from mlops.remote import alias_sync, run_events, transfer, versions
from mlops.remote.push import resolve_ref, with_ancestors
from mlops.remote.site import Site, reaching
from mlops.store.artifacts import check_relpath_integrity
from mlops.store.backend import is_hash
from mlops.store.store import Store

WORKERS = 8


@dataclass
class FetchResult:
    remote: str
    artifacts_fetched: int = 0
    runs_fetched: int = 0
    alias_moves_fetched: int = 0
    blobs_downloaded: int = 0
    bytes_downloaded: int = 0
    pulled: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


def fetch(store: Store, site: Site) -> FetchResult:
    result = FetchResult(site.remote.name)
    with reaching(site.remote):
        for (kind, name), numbers in sorted(versions.list_claim_keys(site).items()):
            result.artifacts_fetched += _fetch_name(store, site, kind, name, numbers)
        result.runs_fetched = run_events.fetch_runs(site, store.conn, WORKERS)
        with store.lock(alias_sync.LOCK, wait=True):
            result.alias_moves_fetched = alias_sync.fetch_moves(site, store.conn)
    return result


def _fetch_name(store: Store, site: Site, kind: str, name: str, numbers: list[int]) -> int:
    local = {
        int(r["version"]): r["id"]
        for r in store.conn.execute(
            "SELECT id, version FROM artifacts WHERE kind = ? AND name = ? AND synced = 1",
            (kind, name),
        )
    }
    unknown = [n for n in numbers if n not in local]
    if not unknown:
        return 0
    claims = {**local, **versions.read_claims(site, kind, name, unknown)}
    new_ids = sorted(
        {aid for aid in versions.effective(claims) if not store.has(aid)},
        key=lambda aid: versions.effective(claims)[aid],
    )
    new_rows = []
    with store.gc_guard():
        for aid in new_ids:
            label = f"{kind} {name}:{versions.effective(claims)[aid]}"
            manifest = _fetch_manifest(store, site, aid, label)
            if manifest.get("kind") != kind or manifest.get("name") != name:
                raise StoreIntegrityError(
                    f"version claim {name}:{versions.effective(claims)[aid]} on remote "
                    f"{site.remote.name} names artifact {aid[:12]}, which is not a {kind} {name}",
                    hint="the remote was damaged; remove that claim file",
                )
            new_rows.append((aid, manifest, site.remote.name))
        versions.apply_local(store.conn, kind, name, claims, new_rows)
    return len(new_rows)


def _fetch_manifest(store: Store, site: Site, aid: str, label: str) -> dict[str, Any]:
    if not is_hash(aid):
        raise StoreIntegrityError(f"remote {site.remote.name} names a malformed artifact id")
    if not store.objects.has(aid):
        if not site.objects.has(aid):
            raise StoreIntegrityError(
                f"the manifest of {label} (object {aid}) is missing on remote "
                f"{site.remote.name}; nothing of that artifact was fetched",
                hint="run `mlops push` on a machine that has the artifact: it uploads what the "
                "remote lacks",
            )
        download(store, site, aid)
    try:
        manifest = json.loads(store.objects.get(aid))
        for path, entry in manifest["files"].items():
            check_relpath_integrity(aid, path, entry["hash"])
        if not isinstance(manifest["created_at"], str):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StoreIntegrityError(
            f"manifest {aid[:12]} from remote {site.remote.name} is not a valid manifest",
            hint="the remote was damaged; restore it from a store that has the artifact",
        ) from None
    return dict(manifest)


def download(store: Store, site: Site, digest: str) -> int:
    """Copy one blob from the remote into the store, verified; returns its size."""
    try:
        return transfer.download(store.objects, site.objects, {digest: 0}, lambda _n: None)
    except transfer.RemoteBlobError as e:
        raise _remote_damage(site, e) from None


def _remote_damage(site: Site, e: transfer.RemoteBlobError) -> StoreIntegrityError:
    """A blob the remote holds damaged or lacks, named in full."""
    problem = "missing" if e.problem == "missing" else "damaged (its bytes do not match its hash)"
    return StoreIntegrityError(
        f"object {e.digest} on remote {site.remote.name} is {problem}; nothing of it was kept",
        hint="restore it on the remote by pushing from a store that has it intact",
    )


def pull(
    store: Store, site: Site, refs: Sequence[str] = (), with_lineage: bool = False
) -> FetchResult:
    """fetch, then download the file blobs of refs (all artifacts without refs)."""
    result = fetch(store, site)
    if refs:
        ids = {resolve_ref(store, r) for r in refs}
        if with_lineage:
            ids = with_ancestors(store, ids)
    else:
        ids = {r[0] for r in store.conn.execute("SELECT id FROM artifacts")}
    wanted: dict[str, int] = {}
    for aid in ids:
        wanted.setdefault(aid, 0)
        for r in store.conn.execute("SELECT hash, size FROM files WHERE artifact_id = ?", (aid,)):
            wanted[r[0]] = int(r[1])
    missing = {d: n for d, n in sorted(wanted.items()) if not store.objects.has(d)}
    label = f"downloading {len(missing)} object(s) from {site.remote.name}"
    with (
        reaching(site.remote),
        store.gc_guard(),
        progress.counter(label, sum(missing.values()), "bytes") as advance,
    ):
        try:
            result.bytes_downloaded = transfer.download(
                store.objects, site.objects, missing, advance
            )
        except transfer.RemoteBlobError as e:
            raise _remote_damage(site, e) from None
    result.blobs_downloaded = len(missing)
    result.pulled = sorted(ids)
    return result
