"""One exception hierarchy. Each class carries its exit code; the CLI maps them in one place.

Exit codes (the same for every command):
  0  success / all checks passed
  1  the command ran and a check failed (validation, gate, drift alert)
  2  usage, config or input error
  3  store integrity error
  70 an internal bug
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    INTEGRITY = 3
    INTERNAL = 70


class MlopsError(Exception):
    """Base of every error the tool reports to a user: one sentence and an optional hint."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(MlopsError):
    """The user asked for something that cannot be done as asked (exit 2)."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """mlops.yaml (or a file it points to) is invalid; the message names file, line and key."""


class InputError(UsageError):
    """A data file, path, name or option value cannot be used."""


class NotFoundError(InputError):
    """A reference (artifact id, name:version, name@alias, run id) matches nothing."""


class AmbiguousRefError(InputError):
    """An id prefix or a bare name matches more than one artifact."""


class StoreVersionError(UsageError):
    """The store was written by a newer mlops (its catalog schema is newer than this code)."""


class StoreIntegrityError(MlopsError):
    """Bytes in the store do not match their hash, or the catalog points at nothing (exit 3)."""

    exit_code = ExitCode.INTEGRITY


class CheckFailed(MlopsError):
    """The command ran and a check failed; most steps return a result instead of raising this."""

    exit_code = ExitCode.CHECK_FAILED


class LockedError(MlopsError):
    """Another process holds a lock this command needs (exit 1: nothing was wrong with the input)."""

    exit_code = ExitCode.CHECK_FAILED


class StoreReadOnlyError(UsageError):
    """A command that writes was run on a store this process cannot write (exit 2)."""


def environment_error(exc: BaseException) -> MlopsError | None:
    """The MlopsError an environment failure stands for, or None when it looks like a bug.

    A full disk, a read-only file system, a denied permission or a damaged SQLite catalog is
    the environment, not a bug: the CLI reports it with exit 2 (or 3 for a damaged catalog) and
    one sentence, never 70.
    """
    import errno
    import sqlite3

    if isinstance(exc, OSError) and exc.errno is not None:
        where = exc.filename if exc.filename is not None else "the store"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            # a failed write() names no file: it may be the store or an output or log file
            device = (
                f"the device holding {exc.filename}"
                if exc.filename is not None
                else "a device this command writes to (the store, or an output or log file)"
            )
            return UsageError(
                f"no space left on {device}",
                hint="free some space (`mlops gc` reclaims unreferenced blobs) and rerun",
            )
        if exc.errno == errno.EROFS:
            return StoreReadOnlyError(
                f"{where} is on a read-only file system",
                hint="read commands work on a read-only store; write on a writable copy",
            )
        if exc.errno in (errno.EACCES, errno.EPERM):
            return UsageError(f"permission denied: {where}", hint="check the file's owner and mode")
        if exc.errno in (errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ENOENT):
            return UsageError(f"cannot use {where}: {exc.strerror}")
        return None
    if isinstance(exc, sqlite3.DatabaseError):
        text = str(exc).lower()
        if "readonly" in text or "read-only" in text:
            return StoreReadOnlyError(
                "the store catalog is read-only",
                hint="read commands work on a read-only store; write on a writable copy",
            )
        if "disk is full" in text or "disk i/o" in text:
            return UsageError(
                "no space left on the device holding the store catalog (or it failed to write)",
                hint="free some space and rerun; nothing was committed",
            )
        if "malformed" in text or "not a database" in text or "corrupt" in text:
            return StoreIntegrityError(
                f"the store catalog is damaged ({exc})",
                hint="run `mlops fsck --rebuild` to rebuild it from the manifests in objects/",
            )
    return None
