"""ObjectStore over an fsspec filesystem (S3, GCS, Azure, a shared mount): a remote's blobs.

The layout is the local store's: <root>/objects/sha256/ab/cdef... Writes are made visible only
whole: on object stores (S3, GCS, Azure) a single PUT or a completed multipart upload is atomic,
so blobs are written straight to their key; on file-like backends (a mount, SFTP) they are
written under <root>/tmp/ and renamed into place. After a write the blob's size is checked, and
small blobs go to S3 with their SHA-256 checksum, which S3 verifies before it stores them;
large ones are read back and hashed. Reads are verified streams (VerifiedReader).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from mlops.errors import InputError
from mlops.store.backend import (
    ObjectStore,
    Source,
    Stored,
    VerifiedReader,
    check_digest,
    is_hash,
    missing,
)
from mlops.store.diskio import sha256_bytes, sha256_file

# blobs up to this size are uploaded from memory in one request (with a checksum on S3)
SMALL_BLOB = 32 << 20
OBJECT_STORE_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"})


def _protocols(fs: Any) -> set[str]:
    proto = fs.protocol
    return {proto} if isinstance(proto, str) else set(proto)


class FsspecObjectStore(ObjectStore):
    def __init__(self, fs: Any, root: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.objects = f"{self.root}/objects/sha256"
        self.tmp = f"{self.root}/tmp"
        protocols = _protocols(fs)
        self.atomic_put = bool(protocols & OBJECT_STORE_PROTOCOLS)
        self.is_s3 = bool(protocols & {"s3", "s3a"})

    def key_for(self, digest: str) -> str:
        check_digest(digest)
        return f"{self.objects}/{digest[:2]}/{digest[2:]}"

    def has(self, digest: str) -> bool:
        return bool(self.fs.exists(self.key_for(digest)))

    # -- writing ---------------------------------------------------------------------------
    def put(self, source: Source) -> Stored:
        if isinstance(source, bytes | bytearray | memoryview):
            data = bytes(source)
            return self._upload_bytes(sha256_bytes(data), data)
        if isinstance(source, str | os.PathLike):
            return self.put_file(Path(source))
        return self._put_stream(source)

    def put_file(self, path: Path, digest: str | None = None) -> Stored:
        """Upload a regular file (hashed here unless the caller knows its digest)."""
        before = os.stat(path)
        if not stat.S_ISREG(before.st_mode):
            raise InputError(f"{path} is not a regular file")
        if before.st_size <= SMALL_BLOB:
            data = Path(path).read_bytes()
            return self._upload_bytes(digest or sha256_bytes(data), data)
        digest = digest or sha256_file(path)
        if self.has(digest):
            return Stored(digest, before.st_size)
        self._publish(digest, before.st_size, lambda key: self.fs.put_file(str(path), key))
        if self.verify(digest) is not None:
            self.fs.rm_file(self.key_for(digest))
            raise InputError(
                f"{path} changed while it was uploaded",
                hint="push again once it is no longer being written",
            )
        return Stored(digest, before.st_size)

    def _put_stream(self, stream: BinaryIO) -> Stored:
        h = hashlib.sha256()
        chunks = []
        while chunk := stream.read(1 << 22):
            h.update(chunk)
            chunks.append(chunk)
        data = b"".join(chunks)
        return self._upload_bytes(h.hexdigest(), data)

    def _upload_bytes(self, digest: str, data: bytes) -> Stored:
        if sha256_bytes(data) != digest:
            raise InputError("bytes changed while they were uploaded")
        if not self.has(digest):
            extra: dict[str, Any] = {}
            if self.is_s3 and len(data) <= SMALL_BLOB:
                extra = {
                    "ChecksumAlgorithm": "SHA256",
                    "ChecksumSHA256": base64.b64encode(bytes.fromhex(digest)).decode(),
                }
            self._publish(digest, len(data), lambda key: self.fs.pipe_file(key, data, **extra))
        return Stored(digest, len(data))

    def _publish(self, digest: str, size: int, write: Any) -> None:
        """Write a blob so that it is visible only whole, then check its size."""
        key = self.key_for(digest)
        if self.atomic_put:
            write(key)
        else:
            staged = f"{self.tmp}/{digest}.{uuid.uuid4().hex}"
            self.fs.makedirs(self.tmp, exist_ok=True)
            try:
                write(staged)
                self.fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
                self.fs.mv(staged, key)
            finally:
                if self.fs.exists(staged):
                    self.fs.rm_file(staged)
        actual = int(self.fs.size(key))
        if actual != size:
            self.fs.rm_file(key)
            raise OSError(f"upload of object {digest[:12]} stored {actual} bytes, not {size}")

    # -- reading ---------------------------------------------------------------------------
    def open(self, digest: str) -> VerifiedReader:
        try:
            raw = self.fs.open(self.key_for(digest), "rb")
        except FileNotFoundError:
            raise missing(digest) from None
        return VerifiedReader(raw, digest)

    def size(self, digest: str) -> int:
        try:
            return int(self.fs.size(self.key_for(digest)))
        except FileNotFoundError:
            raise missing(digest) from None

    def list(self) -> Iterator[str]:
        yield from sorted(self._listing())

    def _listing(self) -> set[str]:
        """Every stored digest, from one recursive listing."""
        return set(self.modified_times())

    def modified_times(self) -> dict[str, float]:
        """Every stored digest -> when it was written (POSIX seconds), from one listing."""
        return {d: _written_at(info) for d, info in self._entries().items()}

    def sizes(self) -> dict[str, int]:
        """Every stored digest -> its size in bytes, from one listing."""
        return {d: int(info.get("size") or 0) for d, info in self._entries().items()}

    def _entries(self) -> dict[str, dict[str, Any]]:
        try:
            found = self.fs.find(self.objects, detail=True)
        except FileNotFoundError:
            return {}
        out = {}
        prefix = self.objects.split("://", 1)[-1].strip("/") + "/"
        for key, info in found.items():
            rel = key.split("://", 1)[-1].strip("/").removeprefix(prefix)
            digest = rel.replace("/", "")
            if rel.count("/") == 1 and is_hash(digest):
                out[digest] = info
        return out

    def delete(self, digest: str) -> None:
        key = self.key_for(digest)
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(key)

    def clean_staging(self, dry_run: bool = False) -> int:
        try:
            staged = self.fs.find(self.tmp, detail=False)
        except FileNotFoundError:
            return 0
        if not dry_run:
            for key in staged:
                self.fs.rm_file(key)
        return len(staged)


def _written_at(info: dict[str, Any]) -> float:
    """A listing entry's modification time: S3/GCS/Azure give a datetime, file systems a number."""
    for key in ("LastModified", "mtime", "last_modified", "updated", "created"):
        value: Any = info.get(key)
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            from datetime import datetime

            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float("inf")  # unknown: never old enough to reclaim
