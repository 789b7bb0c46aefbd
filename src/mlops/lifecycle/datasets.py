"""What a dataset artifact records about the files a command read: local files are stored by
content; files in object storage are recorded by URL, size and ETag/version (lineage without a
copy), and copied into the store only when asked (`--store-data`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops.data.readers import DataFile


def dataset_entries(
    paths: list[DataFile], base: Path, copy_remote: bool
) -> tuple[dict[str, Path | bytes], list[dict[str, Any]]]:
    """(files for `Store.add_artifact`, descriptions of the files in object storage).

    Args:
        paths: the files read, local or URLs.
        base: local files are named relative to it.
        copy_remote: also copy the bytes of files in object storage into the store.

    Returns:
        Artifact file name -> local path or bytes; and per URL its url, size, etag, version.

    Raises:
        InputError: a URL cannot be described (gone, or no credentials).
    """
    from mlops.data.urls import DataUrl
    from mlops.store.names import artifact_file_names

    local = [p for p in paths if isinstance(p, Path)]
    remote = [p for p in paths if isinstance(p, DataUrl)]
    files: dict[str, Path | bytes] = dict(artifact_file_names(local, base)) if local else {}
    described = [url.describe() for url in remote]
    if copy_remote:
        for url in remote:
            with url.open() as handle:
                files[f"{url.scheme}/{url.url.split('://', 1)[1]}"] = handle.read()
    return files, described
