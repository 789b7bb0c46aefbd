"""Blobs on demand: a command that reads a file of an artifact that was fetched but not pulled
downloads that one blob (verified) from the remote, as `mlops pull` would; without a usable
remote it says which `mlops pull REF` brings it (docs/remote.md, "Blobs on demand")."""

from __future__ import annotations

from collections.abc import Callable

from mlops.errors import MlopsError, StoreIntegrityError, UsageError
from mlops.remote.fetch import download
from mlops.remote.site import Site, reaching
from mlops.store.objects import LocalObjectStore
from mlops.store.store import Store


def owner_label(store: Store, digest: str) -> str | None:
    """`kind name:version` of a fetched artifact whose manifest or file is digest; None when
    no fetched artifact names it (then its absence is damage, not a missing pull)."""
    row = store.conn.execute(
        "SELECT a.kind, a.name, a.version FROM artifacts a LEFT JOIN files f"
        " ON f.artifact_id = a.id WHERE a.remote IS NOT NULL AND (f.hash = ? OR a.id = ?)"
        " LIMIT 1",
        (digest, digest),
    ).fetchone()
    return f"{row['kind']} {row['name']}:{row['version']}" if row else None


def bring_blob(store: Store, digest: str, open_site: Callable[[], Site]) -> bool:
    """Download an absent blob of a fetched artifact from the remote, verified.

    Returns:
        True once the blob is in the store; False when no fetched artifact names it.

    Raises:
        UsageError: the remote cannot be opened or reached, or the store is read-only (the
            hint is the `mlops pull REF` that brings it).
        StoreIntegrityError: the remote's bytes do not match the hash (nothing is kept).
    """
    label = owner_label(store, digest)
    if label is None:
        return False
    hint = f"run `mlops pull {label.split(' ', 1)[1]}` where the remote can be reached"
    if store.read_only:
        raise UsageError(
            f"object {digest[:12]} of {label} is on the remote only and this store is read-only",
            hint=hint,
        )
    try:
        site = open_site()
        with reaching(site.remote), store.gc_guard():
            download(store, site, digest)
    except StoreIntegrityError:
        raise
    except MlopsError as e:
        raise UsageError(
            f"object {digest[:12]} of {label} was fetched but not pulled, and no remote could "
            f"bring it: {e.message}",
            hint=hint,
        ) from None
    return True


def install(store: Store, open_site: Callable[[], Site]) -> None:
    """Let the store's reads bring absent blobs of fetched artifacts from the remote."""
    if isinstance(store.objects, LocalObjectStore):
        store.objects.on_missing = lambda digest: bring_blob(store, digest, open_site)
