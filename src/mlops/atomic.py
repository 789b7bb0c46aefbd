"""Atomic file writes: a file appears whole, with its bytes on disk, or not at all.

The bottom layer: it imports nothing from mlops, so every layer may use it.

    with atomic_path(dest) as tmp:      # a temp file in dest's own directory
        write_something_to(tmp)         # an exception here removes tmp; dest is untouched
    # here: tmp fsynced, renamed over dest, dest's directory fsynced

The temp file lives in the destination's directory because a rename is atomic only within one
filesystem; its name starts with a dot so listings and globs skip it while it exists.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def umask() -> int:
    """The process umask (read by setting it and restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode() -> int:
    """The mode open() gives a new file: 0666 less the umask."""
    return 0o666 & ~umask()


def fsync_file(path: Path | str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path | str) -> None:
    """Make a directory's entries (a rename into it) durable. Filesystems that cannot fsync a
    directory (EINVAL on some network mounts) are skipped: there is nothing more to do there."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def replace_durably(tmp: Path | str, dest: Path | str, sync: bool = True) -> None:
    """Rename tmp over dest, the file's bytes made durable first and the rename after."""
    if sync:
        fsync_file(tmp)
    os.replace(tmp, dest)
    if sync:
        fsync_dir(Path(dest).parent)


def new_temp(directory: Path | str, name: str = "") -> Path:
    """A new private (0600) empty temp file in directory: `.NAME.<random>.tmp`."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    return Path(tmp)


@contextmanager
def atomic_path(path: Path | str, mode: int | None = None, sync: bool = True) -> Iterator[Path]:
    """Yield a temp path beside path; on a clean exit give it `mode` (default: 0666 less the
    umask, as a plain open() would), fsync it, rename it over path and fsync the directory.
    On an exception the temp file is removed and path is left as it was."""
    path = Path(path)
    tmp = new_temp(path.parent, path.name)
    try:
        yield tmp
        os.chmod(tmp, default_mode() if mode is None else mode)
        replace_durably(tmp, path, sync=sync)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path | str, data: bytes, mode: int | None = None) -> Path:
    """Write data to path whole or not at all."""
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_report(path: Path | str, data: bytes) -> Path:
    """A file for people and tools to read (HTML, JUnit, schema output): its directory created
    when missing, mode 0644, written whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, data, mode=0o644)


def atomic_write_text(
    path: Path | str, text: str, encoding: str = "utf-8", mode: int | None = None
) -> Path:
    """Write text to path whole or not at all."""
    return atomic_write_bytes(path, text.encode(encoding), mode=mode)


@contextmanager
def atomic_dir(path: Path | str, mode: int = 0o755) -> Iterator[Path]:
    """Yield an empty temp directory beside path; on a clean exit fsync everything in it and
    swap it in place of path (an existing directory at path is moved aside, then removed).

    A reader sees the old directory or the new one, never a mix; between the two renames the
    path is briefly absent. On an exception the temp directory is removed and path is untouched.
    """
    import shutil

    path = Path(path)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        os.chmod(tmp, mode)
        yield tmp
        for root, _, names in os.walk(tmp):
            for name in names:
                fsync_file(Path(root) / name)
            fsync_dir(root)
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
