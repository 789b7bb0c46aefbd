"""Reading an artifact's files out of the store: verified bytes, and verified copies on disk.

Nothing is written to a destination before its bytes have matched their hash, and nothing is
written through a symlink.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import suppress
from pathlib import Path, PurePosixPath
from typing import Any

from mlops.atomic import atomic_path, default_mode, new_temp, replace_durably
from mlops.errors import InputError, NotFoundError
from mlops.store.artifact import Artifact, FileEntry
from mlops.store.backend import ObjectStore
from mlops.store.names import check_relpath

_COPY_BUFFER = 4 << 20


def entry(art: Artifact, path: str) -> FileEntry:
    if path not in art.files:
        raise NotFoundError(
            f"artifact {art.label} has no file {path!r}",
            hint=f"its files: {', '.join(sorted(art.files)) or '(none)'}",
        )
    return art.files[path]


def read_file(objects: ObjectStore, art: Artifact, path: str) -> bytes:
    return objects.get(entry(art, path).hash)


def read_json(objects: ObjectStore, art: Artifact, path: str) -> Any:
    return json.loads(read_file(objects, art, path))


def copy_blob(objects: ObjectStore, digest: str, out: Path) -> None:
    """Copy a blob into the file out, verified: raises StoreIntegrityError (out then holds
    unverified bytes: the caller discards it) when the bytes do not match."""
    with objects.open(digest) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, _COPY_BUFFER)


def materialize(objects: ObjectStore, art: Artifact, path: str, dest: Path) -> Path:
    """Copy one file of an artifact to dest; dest appears only if the hash matched."""
    digest = entry(art, path).hash
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_symlink():
        raise InputError(f"refusing to write through the symlink {dest}")
    with atomic_path(dest) as tmp:
        copy_blob(objects, digest, tmp)
    return dest


def export(objects: ObjectStore, art: Artifact, dest: Path) -> list[Path]:
    """Copy every file of an artifact under dest, verified; refuses to write through symlinks.

    Every file is first copied and verified into a temp file in dest; only when all of them
    match their hashes are they renamed into place, so a damaged blob leaves no partial export.
    """
    dest = Path(dest)
    targets: list[tuple[str, Path]] = []
    for rel in sorted(art.files):
        check_relpath(rel)
        targets.append((rel, dest / rel))
    created_dest = not dest.exists()
    if dest.is_symlink() and not dest.is_dir():
        raise InputError(f"refusing to export into {dest}: it is a dangling symlink")
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    for rel, target in targets:
        _check_inside(root, dest, rel)
        if target.is_symlink():
            raise InputError(f"refusing to write {rel}: {target} is a symlink")
        if target.is_dir():
            raise InputError(f"refusing to write {rel}: {target} is a directory")
    staged: list[tuple[Path, Path]] = []
    try:
        for rel, target in targets:
            tmp = new_temp(dest, PurePosixPath(rel).name)
            staged.append((tmp, target))
            copy_blob(objects, art.files[rel].hash, tmp)
            tmp.chmod(default_mode())
        for tmp, target in staged:
            target.parent.mkdir(parents=True, exist_ok=True)
            _check_inside(root, dest, target.relative_to(dest).as_posix())
            replace_durably(tmp, target)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        if created_dest:
            _remove_empty_tree(dest)
        raise
    return [t for _, t in targets]


def _check_inside(root: Path, dest: Path, rel: str) -> None:
    """Refuse when an existing directory on the way to dest/rel is a symlink leading out."""
    d = dest
    for part in PurePosixPath(rel).parts[:-1]:
        d = d / part
        if d.is_symlink() or (d.exists() and not d.resolve().is_relative_to(root)):
            raise InputError(
                f"refusing to write {rel}: {d} is a symlink",
                hint="export into a directory without symlinks",
            )


def _remove_empty_tree(path: Path) -> None:
    for dirpath, _, _ in sorted(os.walk(path, topdown=False), key=lambda t: -len(t[0])):
        with suppress(OSError):
            os.rmdir(dirpath)
