"""`mlops gc --remote NAME`: reclaim blobs on a remote that nothing there references.

A blob is kept when a version claim names it (a published manifest), when a published manifest
names it as a file, when it is a manifest itself (published or not: a killed push's manifest is
claimed by the next push) or a file such a manifest names, or when it was written less than the
grace period ago (a push in flight uploads its blobs before its manifest and claim). The objects
are listed before the claims, so the catalog view is never older than the objects it judges;
a remote with objects but no claims at all is refused. Dry run unless the caller says delete.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from mlops.errors import LockedError, StoreIntegrityError
from mlops.jsonable import fields_dict
from mlops.remote import versions
from mlops.remote.site import Site, reaching
from mlops.store.artifact import MANIFEST_MAX_BYTES, parse_manifest

WORKERS = 8


@dataclass
class RemoteGcResult:
    remote: str
    dry_run: bool
    grace_hours: float
    objects: int = 0
    kept: int = 0
    in_grace: int = 0
    removed: int = 0
    bytes: int = 0
    removed_hashes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


def gc_remote(site: Site, dry_run: bool = True, grace_hours: float = 24.0) -> RemoteGcResult:
    """Reclaim (or with dry_run only list) the remote's unreferenced blobs older than the grace.

    Args:
        site: the remote.
        dry_run: list what would be removed; remove nothing.
        grace_hours: blobs written more recently than this are kept (pushes in flight).

    Returns:
        Counts, and the hashes removed (or that would be).

    Raises:
        LockedError: the remote has objects but no version claims (a first push under way).
        StoreIntegrityError: a published manifest is missing or damaged on the remote.
    """
    result = RemoteGcResult(site.remote.name, dry_run, grace_hours)
    with reaching(site.remote):
        written = site.objects.modified_times()  # first: the claims read next are newer
        result.objects = len(written)
        claimed = _claimed_ids(site)
        if written and not claimed:
            raise LockedError(
                f"remote {site.remote.name} holds objects but no published artifact: its "
                "catalog is older than its objects (a first push is under way or was killed)",
                hint="finish the push (`mlops push`), then run gc again",
            )
        keep = _referenced(site, claimed)
        candidates = sorted(d for d in written if d not in keep)
        keep |= _unpublished_manifests(site, candidates)
        cutoff = time.time() - grace_hours * 3600
        for digest in sorted(written):
            if digest in keep:
                result.kept += 1
            elif written[digest] > cutoff:
                result.in_grace += 1
            else:
                result.removed += 1
                result.removed_hashes.append(digest)
                result.bytes += site.objects.size(digest)
                if not dry_run:
                    site.objects.delete(digest)
    return result


def _claimed_ids(site: Site) -> set[str]:
    ids: set[str] = set()
    for (kind, name), numbers in versions.list_claim_keys(site).items():
        ids |= set(versions.read_claims(site, kind, name, numbers).values())
    return ids


def _files(manifest: dict[str, Any]) -> set[str]:
    return {e["hash"] for e in manifest.get("files", {}).values() if isinstance(e, dict)}


def _referenced(site: Site, claimed: set[str]) -> set[str]:
    """The published manifests and every file they name (each manifest read, verified)."""

    def files_of(aid: str) -> set[str]:
        try:
            manifest = parse_manifest(site.objects.get(aid))
        except StoreIntegrityError:
            manifest = None
        if manifest is None:
            raise StoreIntegrityError(
                f"gc refused: the published manifest {aid} is missing or damaged on remote "
                f"{site.remote.name}, so the files it names are unknown",
                hint="run `mlops push` from a store that has the artifact; it puts it back",
            )
        return _files(manifest)

    keep = set(claimed)
    with ThreadPoolExecutor(WORKERS) as pool:
        for files in pool.map(files_of, sorted(claimed)):
            keep |= files
    return keep


def _unpublished_manifests(site: Site, candidates: list[str]) -> set[str]:
    """Candidates that are manifests (never reclaimed), with the files they name."""

    def manifest_of(digest: str) -> dict[str, Any] | None:
        if site.objects.size(digest) > MANIFEST_MAX_BYTES:
            return None
        try:
            return parse_manifest(site.objects.get(digest))
        except StoreIntegrityError:
            return None  # damaged: not a manifest any more

    keep: set[str] = set()
    with ThreadPoolExecutor(WORKERS) as pool:
        for digest, manifest in zip(candidates, pool.map(manifest_of, candidates), strict=True):
            if manifest is not None:
                keep |= {digest, *_files(manifest)}
    return keep
