"""Immutable blobs named by the SHA-256 of their bytes: objects/sha256/ab/cdef...

Writes go to tmp/ (private, 0600), are fsynced and renamed into place; a blob that exists is
never rewritten. Reads verify the hash of the very bytes returned.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mlops.errors import InputError, StoreIntegrityError

CHUNK = 1 << 20
_HEX = set("0123456789abcdef")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    # hashlib.file_digest reads into a reused 256 KiB buffer (it stays in the CPU cache) with
    # the GIL released: measured faster here than a 1 MiB readinto loop
    with open(path, "rb", buffering=0) as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def is_hash(value: str) -> bool:
    return len(value) == 64 and set(value) <= _HEX


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _copy_fd(src: int, dst: int, size: int) -> None:
    """Copy size bytes between file descriptors: copy_file_range when the kernel has it (no
    trip through user space; a reflink on btrfs/XFS), else a read/write loop."""
    done = 0
    if hasattr(os, "copy_file_range"):
        try:
            while done < size:
                n = os.copy_file_range(src, dst, size - done)
                if n == 0:
                    break
                done += n
            return
        except OSError as e:
            if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            os.lseek(src, done, os.SEEK_SET)
            os.lseek(dst, done, os.SEEK_SET)
    buf = bytearray(CHUNK * 4)
    view = memoryview(buf)
    while n := os.readv(src, [buf]):
        os.write(dst, view[:n])


_SYNC_BATCH = 8


def _sync_paths(paths: list[Path], anchor: Path) -> None:
    """Make paths durable: one syncfs on their filesystem for a batch, else fsync each."""
    if len(paths) >= _SYNC_BATCH and _syncfs(anchor):
        return
    for p in paths:
        _fsync_path(p)


def _syncfs(anchor: Path) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(anchor, os.O_RDONLY)
    try:
        return fn(fd) == 0
    finally:
        os.close(fd)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects" / "sha256"
        self.tmp = root / "tmp"

    def ensure(self) -> None:
        """Create objects/ and tmp/ (0700); refuse any of them that is a symlink."""
        for d in (self.root / "objects", self.objects, self.tmp):
            if d.is_symlink():
                raise StoreIntegrityError(
                    f"{d} is a symlink; the store does not follow links out of itself",
                    hint="replace the link with a real directory",
                )
            d.mkdir(exist_ok=True)
        os.chmod(self.tmp, 0o700)

    def path_for(self, digest: str) -> Path:
        if not is_hash(digest):
            raise StoreIntegrityError(f"malformed object hash {digest!r}")
        return self.objects / digest[:2] / digest[2:]

    def exists(self, digest: str) -> bool:
        return self.path_for(digest).is_file()

    # -- writing ---------------------------------------------------------------------------
    def _staging(self) -> tuple[int, Path]:
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="stage-")
        return fd, Path(name)

    def _commit(self, tmp_path: Path, digest: str) -> None:
        self.publish([(tmp_path, digest)], synced=True)

    def publish(self, staged: list[tuple[Path, str]], synced: bool = False) -> None:
        """Rename staged temp files into place, content first made durable, then the renames.

        With synced=False the temp files' data is flushed first (one syncfs for a batch, else an
        fsync per file), so a blob never becomes visible before its bytes are on disk.
        """
        todo: list[tuple[Path, Path]] = []
        for tmp_path, digest in staged:
            dest = self.path_for(digest)
            if dest.exists():
                tmp_path.unlink(missing_ok=True)
            else:
                todo.append((tmp_path, dest))
        if not todo:
            return
        if not synced:
            _sync_paths([t for t, _ in todo], self.tmp)
        parents: set[Path] = set()
        for tmp_path, dest in todo:
            if dest.parent not in parents:
                dest.parent.mkdir(exist_ok=True)
                if dest.parent.is_symlink():
                    raise StoreIntegrityError(
                        f"{dest.parent} is a symlink; the store does not follow links out of itself"
                    )
                parents.add(dest.parent)
            os.chmod(tmp_path, 0o444)
            os.replace(tmp_path, dest)
        _sync_paths(sorted(parents), self.objects)

    def put_bytes(self, data: bytes) -> str:
        digest = sha256_bytes(data)
        if self.exists(digest):
            return digest
        fd, tmp_path = self._staging()
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            self._commit(tmp_path, digest)
        finally:
            tmp_path.unlink(missing_ok=True)
        return digest

    def stage_file(self, src: Path, before: os.stat_result) -> Path:
        """Copy src to a private temp file in tmp/ (not yet synced); abort if src changed since
        `before` was taken (the stat that preceded hashing), so the copy is the hashed bytes."""
        fd, tmp_path = self._staging()
        try:
            with open(src, "rb", buffering=0) as fsrc:
                _copy_fd(fsrc.fileno(), fd, before.st_size)
                after = os.fstat(fsrc.fileno())
            if (after.st_size, after.st_mtime_ns, after.st_ino) != (
                before.st_size,
                before.st_mtime_ns,
                before.st_ino,
            ) or os.fstat(fd).st_size != before.st_size:
                raise InputError(
                    f"{src} changed while it was being added",
                    hint="add it again once it is no longer being written",
                )
        except BaseException:
            os.close(fd)
            tmp_path.unlink(missing_ok=True)
            raise
        os.close(fd)
        return tmp_path

    def put_file(self, src: Path, known_digest: str | None = None) -> tuple[str, int]:
        """Store a file's bytes; returns (sha256, size).

        Hash first; copy only when the blob is new (in the kernel where it can: copy_file_range,
        a reflink on filesystems that have them). The source is stat-ed before hashing and after
        copying, and a change in between aborts, so the blob is the bytes that were hashed.
        """
        before = os.stat(src)
        if not stat.S_ISREG(before.st_mode):
            raise InputError(f"{src} is not a regular file")
        digest = known_digest or sha256_file(src)
        if self.exists(digest):
            return digest, before.st_size
        tmp_path = self.stage_file(src, before)
        try:
            if known_digest is not None and sha256_file(tmp_path) != digest:
                raise InputError(f"{src} does not match its recorded hash", hint="add it again")
            self.publish([(tmp_path, digest)])
        finally:
            tmp_path.unlink(missing_ok=True)
        return digest, before.st_size

    # -- reading ---------------------------------------------------------------------------
    def _open_nofollow(self, digest: str) -> int:
        """Open a blob without following a symlink, neither the blob nor its fan-out directory."""
        path = self.path_for(digest)
        try:
            dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except FileNotFoundError:
            dfd = None
        except OSError as e:
            raise StoreIntegrityError(
                f"object {digest[:12]} cannot be opened: {path.parent.name}/ is not a plain "
                f"directory ({e.strerror})",
                hint="run `mlops fsck` to see all damage",
            ) from None
        try:
            if dfd is None:
                raise FileNotFoundError
            return os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dfd)
        except FileNotFoundError:
            raise StoreIntegrityError(
                f"object {digest[:12]} is missing from the store",
                hint="run `mlops fsck` to see all damage",
            ) from None
        except OSError as e:
            raise StoreIntegrityError(
                f"object {digest[:12]} cannot be opened: {e.strerror}",
                hint="run `mlops fsck` to see all damage",
            ) from None
        finally:
            if dfd is not None:
                os.close(dfd)

    def read_bytes(self, digest: str) -> bytes:
        """The blob's bytes, verified: never returns bytes whose hash does not match."""
        fd = self._open_nofollow(digest)
        with os.fdopen(fd, "rb") as f:
            data = f.read()
        if sha256_bytes(data) != digest:
            raise StoreIntegrityError(
                f"object {digest[:12]} is damaged (its bytes do not match its hash)",
                hint="run `mlops fsck`; restore the artifact from its source",
            )
        return data

    def stage_verified(self, digest: str, directory: Path) -> Path:
        """Copy a blob to a private temp file in directory, verifying while copying.

        Returns the temp file (mode 0644 less the umask) once its hash matches; on a mismatch the
        temp file is removed and StoreIntegrityError raised, so wrong bytes never appear.
        """
        fd = self._open_nofollow(digest)
        with os.fdopen(fd, "rb") as fsrc:
            tfd, name = tempfile.mkstemp(dir=directory, prefix=".mlops-", suffix=".tmp")
            tmp = Path(name)
            try:
                h = hashlib.sha256()
                buf = bytearray(CHUNK * 4)
                view = memoryview(buf)
                with os.fdopen(tfd, "wb") as fdst:
                    while n := fsrc.readinto(buf):
                        h.update(view[:n])
                        fdst.write(view[:n])
                if h.hexdigest() != digest:
                    raise StoreIntegrityError(
                        f"object {digest[:12]} is damaged (its bytes do not match its hash)",
                        hint="run `mlops fsck`; restore the artifact from its source",
                    )
                os.chmod(tmp, 0o666 & ~_umask())
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        return tmp

    def copy_verified(self, digest: str, dest: Path) -> None:
        """Copy a blob to dest, verifying while copying; dest appears only if the hash matches."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink():
            raise InputError(f"refusing to write through the symlink {dest}")
        tmp = self.stage_verified(digest, dest.parent)
        try:
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def verify(self, digest: str) -> str | None:
        """None when the blob is intact, else a short description of the damage."""
        path = self.path_for(digest)
        if path.is_symlink():
            return "is a symlink"
        if not path.is_file():
            return "missing"
        actual = sha256_file(path)
        return None if actual == digest else f"content hash is {actual[:12]}"

    def size(self, digest: str) -> int:
        return self.path_for(digest).stat().st_size

    def iter_digests(self) -> Iterator[str]:
        if not self.objects.is_dir():
            return
        for sub in sorted(self.objects.iterdir()):
            if not sub.is_dir() or len(sub.name) != 2:
                continue
            for f in sorted(sub.iterdir()):
                digest = sub.name + f.name
                if is_hash(digest):
                    yield digest

    def remove(self, digest: str) -> int:
        path = self.path_for(digest)
        size = path.stat().st_size
        path.unlink()
        return size
