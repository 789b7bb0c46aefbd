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
