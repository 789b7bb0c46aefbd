"""Validation of everything a user can put into a store path: names, aliases, file paths.

Checked before anything touches the disk, so a crafted name can never escape the store.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from mlops.errors import InputError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_KIND = re.compile(r"[a-z][a-z0-9-]{0,31}")


def check_name(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise InputError(
            f"invalid {what} {name!r}",
            hint="use letters, digits, '.', '_' or '-', starting with a letter or digit (max 128)",
        )
    return name


def check_kind(kind: str) -> str:
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise InputError(
            f"invalid artifact kind {kind!r}", hint="use lowercase letters, digits and '-'"
        )
    return kind


def check_relpath(path: str) -> str:
    """A file path inside an artifact: relative, POSIX, no '..', no NUL or newline."""
    bad = (
        not isinstance(path, str)
        or not path
        or any(ord(c) < 0x20 or c == "\x7f" for c in path)
        or "\\" in path
        or path.startswith("/")
        or re.match(r"^[A-Za-z]:", path) is not None
    )
    if not bad:
        parts = PurePosixPath(path).parts
        bad = (
            not parts
            or any(p in ("..", ".", "") for p in parts)
            or str(PurePosixPath(*parts)) != path
        )
    if bad:
        raise InputError(
            f"invalid file path {path!r} in artifact",
            hint="paths must be relative, use '/', and contain no '..', NUL or newline",
        )
    return path


def artifact_file_names(paths: list[Path], base: Path) -> dict[str, Path]:
    """Name each file inside a dataset artifact: its path relative to base, else its own name;
    a name taken twice gets a leading '_' so no file is dropped."""
    out: dict[str, Path] = {}
    base = base.resolve()
    for p in paths:
        resolved = p.resolve()
        name = resolved.relative_to(base).as_posix() if resolved.is_relative_to(base) else p.name
        while name in out:
            name = "_" + name
        out[name] = p
    return out
