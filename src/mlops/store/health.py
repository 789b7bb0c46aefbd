"""The store's own health, checked on open: is the catalog there and sound, is it the catalog
these objects were indexed by, and can this process write the store at all.

- A store id is written twice when a store is created: in `objects/store-id` and in the
  catalog's meta table. A catalog whose id differs from (or lacks) the objects' id was not made
  with these objects (a copied catalog, or one an older mlops created silently over them): `gc`
  refuses to run on it and `fsck` reports it.
- A missing or empty catalog over objects that hold blobs (or a store id) is never replaced by
  a new empty one: it is reported (exit 3) with the hint to run `mlops fsck --rebuild`.
- A store is read-only when its directory (or catalog) is not writable by this process, or
  when MLOPS_STORE_READONLY=1 says so (useful where permission bits do not bind, as for root).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

from mlops.atomic import atomic_write_bytes
from mlops.errors import StoreIntegrityError
from mlops.store.backend import is_hash
from mlops.store.catalog import REBUILD_HINT
from mlops.store.stamps import now_iso

CATALOG = "catalog.sqlite"
STORE_ID = Path("objects") / "store-id"
READONLY_ENV = "MLOPS_STORE_READONLY"


def forced_read_only() -> bool:
    return os.environ.get(READONLY_ENV, "").strip().lower() in ("1", "true", "yes")


def writable(root: Path) -> bool:
    """Whether this process may write the store (root exists)."""
    if forced_read_only():
        return False
    catalog = root / CATALOG
    if not os.access(root, os.W_OK):
        return False
    return not catalog.exists() or os.access(catalog, os.W_OK)


def any_blob(root: Path) -> bool:
    """Whether objects/ holds at least one blob (stops at the first one found)."""
    base = root / "objects" / "sha256"
    try:
        subs = list(os.scandir(base))
    except (FileNotFoundError, NotADirectoryError):
        return False
    for sub in subs:
        if len(sub.name) != 2 or not sub.is_dir(follow_symlinks=False):
            continue
        with os.scandir(sub.path) as it:
            if any(is_hash(sub.name + f.name) for f in it):
                return True
    return False


def read_store_id(root: Path) -> str | None:
    try:
        text = (root / STORE_ID).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return text or None


def refuse_missing_catalog(root: Path) -> None:
    """Raise StoreIntegrityError when the catalog is missing or empty but objects exist."""
    catalog = root / CATALOG
    if catalog.exists() and not catalog.is_file():
        raise StoreIntegrityError(
            f"the store catalog {catalog} is not a file", hint="move it aside; " + REBUILD_HINT
        )
    size = catalog.stat().st_size if catalog.exists() else -1
    if size > 0:
        return
    if any_blob(root) or read_store_id(root) is not None:
        state = "missing" if size < 0 else "empty"
        raise StoreIntegrityError(
            f"the store catalog {catalog} is {state} but objects/ holds this store's blobs, "
            "so no new empty catalog was made over them",
            hint=REBUILD_HINT,
        )


def catalog_store_id(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
    return None if row is None else str(row[0])


def stamp_store_id(conn: sqlite3.Connection, root: Path, new_catalog: bool) -> None:
    """Give a store its id: both places for a new store (or a store from before ids, whose
    catalog was made with its objects); only the objects' copy when that alone was lost. A
    catalog without an id over objects that have one is left alone (see catalog_mismatch)."""
    from mlops.store.catalog import write

    in_catalog, in_objects = catalog_store_id(conn), read_store_id(root)
    if in_catalog is not None and in_objects is None:
        atomic_write_bytes(root / STORE_ID, (in_catalog + "\n").encode(), mode=0o444)
    elif in_catalog is None and in_objects is None:
        store_id = uuid.uuid4().hex
        with write(conn):
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('store_id', ?)", (store_id,))
            if new_catalog:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('created_at', ?)", (now_iso(),))
        atomic_write_bytes(root / STORE_ID, (store_id + "\n").encode(), mode=0o444)


def catalog_mismatch(conn: sqlite3.Connection, root: Path) -> str | None:
    """Why this catalog may not be the index of these objects, or None when it is."""
    in_catalog, in_objects = catalog_store_id(conn), read_store_id(root)
    if in_objects is None:
        return None
    if in_catalog is None:
        return (
            "the catalog was created after the objects (it has no store id; the objects have one)"
        )
    if in_catalog != in_objects:
        return (
            f"the catalog belongs to another store (store id {in_catalog[:12]}, "
            f"the objects' is {in_objects[:12]})"
        )
    return None
