"""`mlops fsck --remote NAME`: is every published artifact on a remote whole?

The remote's version claims name its published artifacts. Each one's manifest must be there
and hash to its name (it is read and verified), and every file the manifest lists must be
there with the size the manifest records (one listing of the objects gives the sizes). With
verify, every one of those blobs is also downloaded and hashed (nothing is stored). Blobs that
nothing published names are not judged: `mlops gc --remote` reports those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops import progress
from mlops.errors import StoreIntegrityError
from mlops.jsonable import fields_dict
from mlops.remote import transfer
from mlops.remote.gc import _claimed_ids
from mlops.remote.site import Site, reaching
from mlops.store.artifact import parse_manifest


@dataclass
class RemoteFsckResult:
    remote: str
    verified: bool
    artifacts: int = 0
    objects: int = 0
    checked: int = 0
    bytes_checked: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**fields_dict(self), "ok": self.ok}


def fsck_remote(site: Site, verify: bool = False) -> RemoteFsckResult:
    """Check the remote's published artifacts (module docstring).

    Args:
        site: the remote.
        verify: also download and hash every blob they reference.

    Returns:
        Counts and the problems found: {object, problem, artifact}.

    Raises:
        UsageError: the remote cannot be reached.
    """
    result = RemoteFsckResult(site.remote.name, verify)
    with reaching(site.remote):
        stored = site.objects.sizes()  # first: the claims read next are newer
        result.objects = len(stored)
        claimed = sorted(_claimed_ids(site))
        result.artifacts = len(claimed)
        wanted: dict[str, int] = {}
        owners: dict[str, str] = {}
        for aid in claimed:
            _check_artifact(site, aid, stored, wanted, result)
            owners.update({d: aid for d in wanted if d not in owners})
        result.checked = len(wanted) + len(claimed)
        if verify:
            _verify(site, wanted, owners, result)
    return result


def _check_artifact(
    site: Site, aid: str, stored: dict[str, int], wanted: dict[str, int], result: RemoteFsckResult
) -> None:
    """The manifest (read, verified) and the presence and size of each file it lists."""

    def problem(digest: str, what: str) -> None:
        result.problems.append({"object": digest, "problem": what, "artifact": aid})

    if aid not in stored:
        return problem(aid, "missing (a published manifest)")
    try:
        manifest = parse_manifest(site.objects.get(aid))
    except StoreIntegrityError:
        return problem(aid, "damaged: its bytes do not match its hash (a manifest)")
    if manifest is None:
        return problem(aid, "not a valid manifest, though a version claim names it")
    for path, entry in sorted(manifest["files"].items()):
        digest, size = str(entry["hash"]), int(entry["size"])
        if digest in wanted:
            continue
        if digest not in stored:
            problem(digest, f"missing (file {path})")
        elif stored[digest] != size:
            problem(digest, f"damaged: {stored[digest]} bytes, not {size} (file {path})")
        else:
            wanted[digest] = size


def _verify(
    site: Site, wanted: dict[str, int], owners: dict[str, str], result: RemoteFsckResult
) -> None:
    label = f"hashing {len(wanted)} object(s) on {site.remote.name}"
    with progress.counter(label, sum(wanted.values()), "bytes") as advance:
        damaged = transfer.check(site.objects, wanted, advance)
    result.bytes_checked = sum(wanted.values())
    for digest in sorted(damaged):
        result.problems.append(
            {
                "object": digest,
                "problem": "damaged: its bytes do not match its hash",
                "artifact": owners[digest],
            }
        )
