"""The local filesystem implementation of ObjectStore: objects/sha256/ab/cdef...

Writes go to tmp/ (private: 0700 directory, 0600 files), are fsynced and renamed into place as
read-only (0444) blobs; a blob that exists is never rewritten. Reads open without following
symlinks and verify the hash of the very bytes returned. See mlops.store.backend for the contract.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from mlops.errors import InputError, StoreIntegrityError
from mlops.store.backend import (
    ObjectStore,
    Source,
    Stored,
    VerifiedReader,
    check_digest,
    damaged,
    is_hash,
    missing,
)
from mlops.store.diskio import CHUNK, hash_copy, sha256_bytes, sha256_file, sync_paths

__all__ = ["BlobChecks", "LocalObjectStore", "is_hash", "sha256_bytes", "sha256_file"]


class BlobChecks(Protocol):
    """Where the store records when it last re-hashed a blob (the catalog's blob_checks)."""

    def fresh(self, digest: str, st: os.stat_result) -> bool:
        """Whether the blob was hashed recently and its stat (ctime, size) is unchanged since."""

    def remember(self, checked: Sequence[tuple[str, os.stat_result]]) -> None:
        """Record that these blobs were just hashed (or written) whole and intact."""


def _refuse_link(path: Path, hint: str | None = None) -> None:
    if path.is_symlink():
        raise StoreIntegrityError(
            f"{path} is a symlink; the store does not follow links out of itself", hint=hint
        )


class LocalObjectStore(ObjectStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects" / "sha256"
        self.tmp = self.root / "tmp"
        self.checks: BlobChecks | None = None
        self.repaired: list[str] = []  # damaged blobs this object replaced with good bytes
        self._damaged: set[str] = set()
        # called with the digest of an absent blob that a reader wants; True once it is here
        self.on_missing: Callable[[str], bool] | None = None

    def ensure(self) -> None:
        """Create objects/ and tmp/ (0700); refuse any of them that is a symlink."""
        for d in (self.root / "objects", self.objects, self.tmp):
            _refuse_link(d, hint="replace the link with a real directory")
            d.mkdir(exist_ok=True)
        os.chmod(self.tmp, 0o700)

    def path_for(self, digest: str) -> Path:
        """Where the blob lives (a local-layout detail: callers outside tests use the interface)."""
        check_digest(digest)
        return self.objects / digest[:2] / digest[2:]

    def has(self, digest: str) -> bool:
        return self.path_for(digest).is_file()

    # -- writing ---------------------------------------------------------------------------
    def _staging(self) -> tuple[int, Path]:
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="stage-")
        return fd, Path(name)

    def reusable(self, digest: str, size: int | None = None) -> bool:
        """Verify before reuse: whether the blob is there and intact enough to point a new
        artifact at. Its size is always checked; its bytes are re-hashed unless `checks` says
        they were hashed recently and the blob's ctime and size have not changed since (any
        write to the file changes its ctime). A damaged blob gives False and is replaced by
        the next put of its bytes (and listed in `repaired`)."""
        if digest in self._damaged:
            return False
        path = self.path_for(digest)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        if not stat.S_ISREG(st.st_mode) or (size is not None and st.st_size != size):
            self._damaged.add(digest)
            return False
        if self.checks is not None and self.checks.fresh(digest, st):
            return True
        if sha256_file(path) != digest:
            self._damaged.add(digest)
            return False
        if self.checks is not None:
            self.checks.remember([(digest, st)])
        return True

    def _publish(self, staged: Sequence[tuple[Path, str]], synced: bool = False) -> None:
        """Rename staged temp files into place, content first made durable, then the renames.

        With synced=False the temp files' data is flushed first (one syncfs for a batch, else an
        fsync per file), so a blob never becomes visible before its bytes are on disk. A blob
        already in place is kept when intact and atomically replaced when damaged.
        """
        todo: list[tuple[Path, Path]] = []
        for tmp_path, digest in staged:
            dest = self.path_for(digest)
            if (
                dest.exists()
                and digest not in self._damaged
                and self.reusable(digest, os.stat(tmp_path).st_size)
            ):
                tmp_path.unlink(missing_ok=True)
            else:
                todo.append((tmp_path, dest))
        if not todo:
            return
        if not synced:
            sync_paths([t for t, _ in todo], self.tmp)
        parents: set[Path] = set()
        for tmp_path, dest in todo:
            if dest.parent not in parents:
                dest.parent.mkdir(exist_ok=True)
                _refuse_link(dest.parent)
                parents.add(dest.parent)
            os.chmod(tmp_path, 0o444)
            os.replace(tmp_path, dest)
        sync_paths(sorted(parents), self.objects, dirs=True)
        for _, dest in todo:
            digest = dest.parent.name + dest.name
            if digest in self._damaged:
                self._damaged.discard(digest)
                self.repaired.append(digest)
        if self.checks is not None:
            self.checks.remember([(d.parent.name + d.name, os.stat(d)) for _, d in todo])

    def put(self, source: Source) -> Stored:
        if isinstance(source, bytes | bytearray | memoryview):
            return self._put_bytes(bytes(source))
        if isinstance(source, str | os.PathLike):
            return self.put_many([Path(source)])[0]
        return self._put_stream(source)

    def _put_bytes(self, data: bytes) -> Stored:
        digest = sha256_bytes(data)
        if self.reusable(digest, len(data)):
            return Stored(digest, len(data))
        fd, tmp_path = self._staging()
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            self._publish([(tmp_path, digest)], synced=True)
        finally:
            tmp_path.unlink(missing_ok=True)
        return Stored(digest, len(data))

    def put_verified(self, blobs: Sequence[tuple[str, bytes]]) -> None:
        """Store blobs whose digests the caller has just computed from these very bytes (a
        download checked on arrival): staged, made durable in one batch, then published."""
        staged: dict[str, Path] = {}
        try:
            for digest, data in blobs:
                check_digest(digest)
                if digest in staged or self.reusable(digest, len(data)):
                    continue
                fd, tmp_path = self._staging()
                staged[digest] = tmp_path
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
            self._publish([(tmp, digest) for digest, tmp in staged.items()])
        finally:
            for tmp in staged.values():
                tmp.unlink(missing_ok=True)

    def _put_stream(self, stream: BinaryIO) -> Stored:
        h, size = hashlib.sha256(), 0
        fd, tmp_path = self._staging()
        try:
            with os.fdopen(fd, "wb") as f:
                buf = bytearray(CHUNK * 4)
                view = memoryview(buf)
                while n := stream.readinto(buf):  # type: ignore[attr-defined]
                    h.update(view[:n])
                    f.write(view[:n])
                    size += n
                f.flush()
                os.fsync(f.fileno())
            digest = h.hexdigest()
            self._publish([(tmp_path, digest)], synced=True)
        finally:
            tmp_path.unlink(missing_ok=True)
        return Stored(digest, size)

    def _stage_copy(self, src: Path) -> tuple[Path, Stored]:
        """Hash src while copying it to a private staging file in tmp/ (not yet synced): one
        read of the data, so the staged copy is exactly the bytes hashed, whatever the stat
        size says (/proc files report 0). Aborts when src changed while it was read."""
        before = os.stat(src)
        if not stat.S_ISREG(before.st_mode):
            raise InputError(f"{src} is not a regular file")
        fd, tmp_path = self._staging()
        try:
            with open(src, "rb", buffering=0) as f:
                digest, size = hash_copy(f.fileno(), fd, before.st_size)
                after = os.fstat(f.fileno())
            if (after.st_size, after.st_mtime_ns, after.st_ino) != (
                before.st_size,
                before.st_mtime_ns,
                before.st_ino,
            ):
                raise InputError(
                    f"{src} changed while it was being added",
                    hint="add it again once it is no longer being written",
                )
        except BaseException:
            os.close(fd)
            tmp_path.unlink(missing_ok=True)
            raise
        os.close(fd)
        return tmp_path, Stored(digest, size)

    def put_many(self, paths: Sequence[Path]) -> list[Stored]:
        """Store files, reading each once: it is hashed while it is copied to a staging file,
        and the copy is dropped when its blob already exists intact (`reusable`; a damaged
        one is replaced). Every new copy is then made durable (one flush for a batch) and
        published. A source that changes while it is read aborts the put."""
        out: list[Stored] = []
        staged: dict[str, Path] = {}
        try:
            for src in paths:
                tmp_path, stored = self._stage_copy(Path(src))
                if stored.digest in staged or self.reusable(stored.digest, stored.size):
                    tmp_path.unlink()
                else:
                    staged[stored.digest] = tmp_path
                out.append(stored)
            self._publish([(tmp, digest) for digest, tmp in staged.items()])
        finally:
            for tmp in staged.values():
                tmp.unlink(missing_ok=True)
        return out

    # -- reading ---------------------------------------------------------------------------
    def _brought(self, digest: str) -> bool:
        """A blob the caller expects is absent: whether on_missing (a remote, docs/remote.md)
        put it here. on_missing may raise its own error saying how to get it."""
        if self.on_missing is None or self.path_for(digest).exists():
            return False
        return self.on_missing(digest)

    def _open_nofollow(self, digest: str) -> int:
        try:
            return self._open_local(digest)
        except StoreIntegrityError:
            if not self._brought(digest):
                raise
        return self._open_local(digest)

    def _open_local(self, digest: str) -> int:
        """Open a blob without following a symlink, neither the blob nor its fan-out directory."""
        path = self.path_for(digest)
        try:
            dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise missing(digest) from None
        except OSError as e:
            raise StoreIntegrityError(
                f"object {digest[:12]} cannot be opened: {path.parent.name}/ is not a plain "
                f"directory ({e.strerror})",
                hint="run `mlops fsck` to see all damage",
            ) from None
        try:
            return os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dfd)
        except FileNotFoundError:
            raise missing(digest) from None
        except OSError as e:
            raise StoreIntegrityError(
                f"object {digest[:12]} cannot be opened: {e.strerror}",
                hint="run `mlops fsck` to see all damage",
            ) from None
        finally:
            os.close(dfd)

    def open(self, digest: str) -> VerifiedReader:
        return VerifiedReader(os.fdopen(self._open_nofollow(digest), "rb", buffering=0), digest)

    def get(self, digest: str) -> bytes:
        fd = self._open_nofollow(digest)
        with os.fdopen(fd, "rb") as f:
            data = f.read()
        if sha256_bytes(data) != digest:
            raise damaged(digest)
        return data

    def size(self, digest: str) -> int:
        try:
            return self.path_for(digest).stat().st_size
        except FileNotFoundError:
            if not self._brought(digest):
                raise missing(digest) from None
        return self.path_for(digest).stat().st_size

    def verify(self, digest: str) -> str | None:
        path = self.path_for(digest)
        if path.is_symlink():
            return "is a symlink"
        if not path.is_file():
            return "missing"
        actual = sha256_file(path)
        return None if actual == digest else f"content hash is {actual[:12]}"

    def list(self) -> Iterator[str]:
        if not self.objects.is_dir():
            return
        for sub in sorted(self.objects.iterdir()):
            if not sub.is_dir() or len(sub.name) != 2:
                continue
            for f in sorted(sub.iterdir()):
                digest = sub.name + f.name
                if is_hash(digest):
                    yield digest

    def delete(self, digest: str) -> None:
        self.path_for(digest).unlink(missing_ok=True)

    def strays(self) -> Iterator[str]:
        if not self.objects.is_dir():
            return
        for sub in sorted(self.objects.iterdir()):
            if not sub.is_dir() or sub.is_symlink():
                yield str(sub.relative_to(self.root))
                continue
            for f in sorted(sub.iterdir()):
                if not is_hash(sub.name + f.name) or f.is_symlink() or not f.is_file():
                    yield str(f.relative_to(self.root))

    def clean_staging(self, dry_run: bool = False) -> int:
        """Remove what killed writers left in tmp/: files, and directories (never followed)."""
        import shutil

        if not self.tmp.is_dir():
            return 0
        n = 0
        for tmp in self.tmp.iterdir():
            n += 1
            if dry_run:
                continue
            if tmp.is_dir() and not tmp.is_symlink():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
        return n
