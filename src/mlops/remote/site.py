"""A remote's storage: its blobs (an FsspecObjectStore) and its small JSON records.

Layout under the remote's root (docs/remote.md):

    objects/sha256/ab/cdef...                  blobs and manifests, as in a local store
    versions/<kind>/<name>/<version>.json      version claims: {id, at, who, host}
    aliases/<kind>/<name>/<alias>/<seq>.json   alias moves: {from_id, to_id, at, who, why, host}
    events/runs/<sha256>.json                  runs (params, metrics, artifacts), by content
    tmp/                                       staging on file-like backends

Nothing is ever rewritten: claims and alias moves are created with a conditional write that
fails when the key exists (S3 If-None-Match: *, O_EXCL on a file system), which is the
compare-and-swap that decides races between machines; events are named by their content.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlops.errors import MlopsError, StoreIntegrityError, UsageError
from mlops.remote.remotes import Remote
from mlops.remote.urls import open_filesystem, redact
from mlops.store.artifact import canonical_json
from mlops.store.remote_objects import FsspecObjectStore

SEQ_WIDTH = 10


def seq_name(n: int) -> str:
    return f"{n:0{SEQ_WIDTH}d}.json"


@contextmanager
def reaching(remote: Remote) -> Iterator[None]:
    """Storage errors (network, permissions, a missing bucket) as one sentence, exit 2."""
    try:
        yield
    except MlopsError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:
        text = redact(str(e).splitlines()[0] if str(e) else type(e).__name__)
        raise UsageError(
            f"remote {remote.name} ({redact(remote.url)}) cannot be reached or used: "
            f"{type(e).__name__}: {text}",
            hint="check the URL, the network and the backend's credentials "
            "(e.g. AWS_ACCESS_KEY_ID / AWS_PROFILE, AWS_ENDPOINT_URL); nothing local was lost",
        ) from None


class Site:
    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        with reaching(remote):
            self.fs, self.root = open_filesystem(remote.url, remote.options)
        self.objects = FsspecObjectStore(self.fs, self.root)

    def key(self, *parts: str) -> str:
        return "/".join((self.root, *parts))

    def relative(self, key: str) -> str:
        root = self.root.split("://", 1)[-1].strip("/")
        return key.split("://", 1)[-1].strip("/").removeprefix(root).strip("/")

    def find(self, *parts: str) -> list[str]:
        """Keys under a prefix, relative to the root (one recursive listing)."""
        try:
            keys = self.fs.find(self.key(*parts), detail=False)
        except FileNotFoundError:
            return []
        return sorted(self.relative(k) for k in keys)

    def read_json(self, rel: str) -> Any:
        data = self.fs.cat_file(self.key(rel))
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise StoreIntegrityError(
                f"{rel} on remote {self.remote.name} is not valid JSON",
                hint="the remote was damaged; restore that key or remove it",
            ) from None

    def create_json(self, rel: str, record: dict[str, Any]) -> bool:
        """Write a record only if its key does not exist (the compare-and-swap); False if it did."""
        key = self.key(rel)
        if not self.objects.atomic_put:
            self.fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
            if _is_local(self.fs):
                return _link_create(key, canonical_json(record))
        try:
            self.fs.pipe_file(key, canonical_json(record), mode="create")
        except FileExistsError:
            return False
        return True


def _is_local(fs: Any) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return bool({"file", "local"} & set(protocols))


def _link_create(path: str, data: bytes) -> bool:
    """Create path holding data only if it does not exist, and never visible half-written (an
    exclusive create shows an empty file until the write lands): write a hidden temporary file
    beside it, then hard-link it into place, which fails if the name exists (atomic on local
    file systems and NFS)."""
    import os
    import uuid

    path = path.removeprefix("file://")
    head, name = os.path.split(path)
    tmp = os.path.join(head, f".{name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True
