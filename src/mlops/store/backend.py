"""The object-storage interface: where a store keeps its blobs, whatever holds them.

A blob is an immutable run of bytes named by the lowercase hex SHA-256 of those bytes (its
digest). The catalog, the manifests and every step see blobs only through `ObjectStore`; the
local filesystem (`mlops.store.objects.LocalObjectStore`) is the first implementation, remote
ones (fsspec: S3, GCS, Azure, a shared mount) are added beside it, not by editing callers.

The contract, for an implementer (tests/store/test_object_store_contract.py checks it; add your
implementation to its parameter list):

- Names. Every method taking a digest raises StoreIntegrityError for a malformed one (anything
  but 64 lowercase hex characters) before touching storage, so no digest can name a path outside
  the store.
- put(source) stores bytes, a file path or a readable binary stream, and returns
  Stored(digest, size). It hashes the bytes while it copies them (a stream is read once), and it
  is idempotent: putting bytes that are already there changes nothing and returns the same digest
  (never rewrite an intact blob; two writers racing to put the same bytes must both succeed).
  Verify before reuse: an existing blob is checked (size always, its hash when no recent check
  stands) before it is reused, and one found damaged is atomically replaced by the good bytes.
  A blob becomes visible only whole and durable: stage it privately, flush, then publish it
  atomically (rename; on object storage, a single PUT or a completed multipart upload). A
  failure leaves no visible blob; staging leftovers are reclaimed by clean_staging(). A path
  that is not a regular file, or that changes while it is copied, raises InputError.
- open(digest) returns a VerifiedReader: the blob's bytes, hashed while they are read. When the
  reader reaches the end and the bytes do not match the digest it raises StoreIntegrityError, so
  a consumer must read to the end before it trusts, renames into place or deserialises anything
  (the bytes before the end are not yet verified). get(digest) is open() read whole.
- A missing blob makes open, get and size raise StoreIntegrityError (the catalog promised it);
  ask has(digest) first when absence is expected. Other storage failures (permissions, network)
  propagate as OSError.
- list() yields every stored digest once (order unspecified; the local store sorts), and only
  well-formed digests: anything else found where blobs live is reported by strays().
- delete(digest) removes a blob and is idempotent (deleting a missing blob is not an error).
  Only `mlops gc` deletes, holding the store's gc guard.
- verify(digest) re-reads a blob and describes its damage ("missing", "content hash is ...") or
  returns None when it is intact; fsck calls it for every blob.

Implementations must be safe for several processes at once: writes of the same digest are
idempotent, so no locking is needed around put.
"""

from __future__ import annotations

import hashlib
import io
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, Protocol

from mlops.errors import StoreIntegrityError

_HEX = frozenset("0123456789abcdef")

Source = bytes | Path | BinaryIO


class Stored(NamedTuple):
    digest: str
    size: int


def is_hash(value: str) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def check_digest(digest: str) -> str:
    if not is_hash(digest):
        raise StoreIntegrityError(f"malformed object hash {digest!r}")
    return digest


def damaged(digest: str) -> StoreIntegrityError:
    return StoreIntegrityError(
        f"object {digest[:12]} is damaged (its bytes do not match its hash)",
        hint="run `mlops fsck`; restore the artifact from its source",
    )


def missing(digest: str) -> StoreIntegrityError:
    return StoreIntegrityError(
        f"object {digest[:12]} is missing from the store",
        hint="run `mlops fsck` to see all damage",
    )


class RawStream(Protocol):
    """What VerifiedReader wraps: any binary stream with readinto (a file, an fsspec file)."""

    def readinto(self, buffer: Any, /) -> int | None: ...

    def close(self) -> None: ...


class VerifiedReader(io.RawIOBase):
    """A blob's bytes, hashed as they are read; reaching the end of damaged bytes raises
    StoreIntegrityError (on every read at the end, not just the first)."""

    def __init__(self, raw: RawStream, digest: str) -> None:
        super().__init__()
        self._raw = raw
        self.digest = digest
        self._hash = hashlib.sha256()
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)
        if n:
            self._hash.update(memoryview(buffer)[:n])
            return int(n)
        self._ended = True
        if self._hash.hexdigest() != self.digest:
            raise damaged(self.digest)
        return 0

    @property
    def verified(self) -> bool:
        """Whether the reader reached the end and the bytes matched."""
        return self._ended

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


class ObjectStore(ABC):
    """Immutable blobs named by their SHA-256; see the module docstring for the contract."""

    @abstractmethod
    def has(self, digest: str) -> bool:
        """Whether the blob is stored (not whether it is intact: that is verify)."""

    def reusable(self, digest: str, size: int | None = None) -> bool:
        """Whether a stored blob may be pointed at again: present and of the expected size
        (the local store also re-hashes it unless a recent check stands; see objects.py)."""
        if not self.has(digest):
            return False
        return size is None or self.size(digest) == size

    @abstractmethod
    def put(self, source: Source) -> Stored:
        """Store bytes, a regular file or a binary stream; idempotent; visible only whole."""

    def put_many(self, paths: Sequence[Path]) -> list[Stored]:
        """put() for many files; implementations may make them durable in one batch."""
        return [self.put(Path(p)) for p in paths]

    @abstractmethod
    def open(self, digest: str) -> VerifiedReader:
        """The blob as a stream, verified at its end."""

    def get(self, digest: str) -> bytes:
        """The blob's bytes, verified: never returns bytes whose hash does not match."""
        with self.open(digest) as reader:
            return reader.read()

    @abstractmethod
    def size(self, digest: str) -> int:
        """The blob's size in bytes."""

    @abstractmethod
    def list(self) -> Iterator[str]:
        """Every stored digest, once."""

    @abstractmethod
    def delete(self, digest: str) -> None:
        """Remove a blob; a missing one is not an error."""

    def verify(self, digest: str) -> str | None:
        """None when the blob is intact, else a short description of the damage."""
        if not self.has(digest):
            return "missing"
        try:
            with self.open(digest) as reader:
                while reader.read(1 << 22):
                    pass
        except StoreIntegrityError:
            return "content does not match its hash"
        return None

    def strays(self) -> Iterator[str]:
        """Things where blobs live that are not blobs (for fsck); none by default."""
        return iter(())

    def clean_staging(self, dry_run: bool = False) -> int:
        """Remove (or with dry_run only count) leftovers of interrupted puts."""
        return 0
