"""Advisory locks under locks/: flock(2), so the kernel drops a lock when its holder dies (no
stale locks to clean up), and the gc guard that keeps gc from reclaiming blobs mid-write."""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlops.errors import LockedError
from mlops.store.names import check_name
from mlops.store.stamps import now_iso


class Locks:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._guard_depth = 0

    def _open(self, name: str) -> int:
        return os.open(
            self.directory / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600
        )

    @contextmanager
    def gc_guard(self, exclusive: bool = False) -> Iterator[None]:
        """Writers hold it shared from staging blobs to committing the catalog row; gc holds it
        exclusive, so it never reclaims a blob that a writer has not committed yet. Re-entrant
        for a writer (a nested shared guard only counts)."""
        if self._guard_depth and not exclusive:
            self._guard_depth += 1
            try:
                yield
            finally:
                self._guard_depth -= 1
            return
        fd = self._open("gc")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            self._guard_depth += 1
            try:
                yield
            finally:
                self._guard_depth -= 1
        finally:
            os.close(fd)

    @contextmanager
    def lock(self, name: str, wait: bool = False) -> Iterator[None]:
        """An exclusive advisory lock; the kernel drops it when the holder dies (no stale locks)."""
        check_name(name, "lock name")
        fd = self._open(name)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                raise LockedError(
                    f"another {name} is running on this store",
                    hint="wait for it to finish, or pass --wait",
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {socket.gethostname()} {now_iso()}\n".encode())
            yield
        finally:
            os.close(fd)
