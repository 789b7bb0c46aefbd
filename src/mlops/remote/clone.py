"""`mlops clone URL DIR`: a new project directory from a remote, as `git clone` makes one:
mlops.yaml (the one the last `mlops push` from a project sent, or one given), a store with the
remote as its default, and the remote's catalog fetched; file blobs come on demand when a
command reads them, or all at once with --all."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.atomic import atomic_write_bytes
from mlops.errors import UsageError
from mlops.jsonable import fields_dict
from mlops.remote import remotes
from mlops.remote.fetch import FetchResult, fetch, pull
from mlops.remote.project_file import remote_config
from mlops.remote.site import Site, reaching
from mlops.store.store import Store


@dataclass
class CloneResult:
    directory: Path
    store: Path
    remote: str
    config: str | None  # where mlops.yaml came from: "remote", "given" or None (none written)
    fetched: FetchResult

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


def clone(
    site: Site,
    directory: Path,
    store_root: Callable[[Path], Path],
    config_text: bytes | None = None,
    all_blobs: bool = False,
) -> CloneResult:
    """Make directory a project that shares site's store.

    Args:
        site: the remote (already opened).
        directory: a new or empty directory.
        store_root: where the store goes, given the project directory (after mlops.yaml is
            written, so its `store:` key counts).
        config_text: mlops.yaml to write instead of the remote's.
        all_blobs: also download every file blob (default: on demand).

    Returns:
        What was made and fetched.

    Raises:
        UsageError: directory is not empty, or the remote holds no store.
    """
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UsageError(f"{directory} exists and is not an empty directory", hint="pick a new DIR")
    with reaching(site.remote):
        empty = not site.find("versions") and not site.find("objects")
    if empty:
        raise UsageError(
            f"remote {site.remote.name} holds no store yet",
            hint="push to it first (`mlops push` in a project whose remote it is)",
        )
    made = not directory.exists()
    try:
        return _make(site, directory, store_root, config_text, all_blobs)
    except BaseException:
        if made:
            shutil.rmtree(directory, ignore_errors=True)
        raise


def _make(
    site: Site,
    directory: Path,
    store_root: Callable[[Path], Path],
    config_text: bytes | None,
    all_blobs: bool,
) -> CloneResult:
    directory.mkdir(parents=True, exist_ok=True)
    source = "given" if config_text is not None else None
    if config_text is None:
        config_text = remote_config(site)
        source = "remote" if config_text is not None else None
    if config_text is not None:
        atomic_write_bytes(directory / "mlops.yaml", config_text)
    root = store_root(directory)
    remote = site.remote
    with Store.open(root) as store:
        remotes.add(store.root, remote.name, remote.url, remote.endpoint_url, default=True)
        result = pull(store, site) if all_blobs else fetch(store, site)
    return CloneResult(directory, root, remote.name, source, result)
