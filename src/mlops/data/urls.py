"""Data files in object storage (`s3://bucket/events/*.parquet`, `gs://`, `az://`, `https://`),
read through fsspec, and what the store records about them (URL, ETag or version, size).

A `DataUrl` stands where a local `Path` stands in the readers: it has a `name` and `suffixes`,
prints as its URL, and opens through fsspec. Credentials come from the environment as each
backend reads them; a missing one is an InputError naming the variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO, Any

from mlops.errors import InputError, UsageError

# scheme -> (fsspec backend module, the extra that installs it, the credential variables)
SCHEMES: dict[str, tuple[str, str, str]] = {
    "s3": ("s3fs", "s3", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"),
    "gs": ("gcsfs", "gcs", "GOOGLE_APPLICATION_CREDENTIALS"),
    "gcs": ("gcsfs", "gcs", "GOOGLE_APPLICATION_CREDENTIALS"),
    "az": ("adlfs", "azure", "AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT_NAME)"),
    "abfs": ("adlfs", "azure", "AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT_NAME)"),
    "https": ("aiohttp", "http", ""),
    "http": ("aiohttp", "http", ""),
}
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def is_url(spec: object) -> bool:
    """Whether spec is a URL of a scheme data can be read from."""
    m = _URL.match(str(spec)) if isinstance(spec, str | DataUrl) else None
    return bool(m and m.group(1).lower() in SCHEMES)


@dataclass(frozen=True)
class DataUrl:
    """One data file in object storage."""

    url: str

    def __str__(self) -> str:
        return self.url

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0].lower()

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def suffixes(self) -> list[str]:
        name = self.name
        return ["." + s for s in name.split(".")[1:]] if "." in name.lstrip(".") else []

    def open(self) -> IO[bytes]:
        """The file, opened for reading (the caller closes it)."""
        fs, path = filesystem(self.url)
        with credentials(self.url):
            handle = fs.open(path, "rb")
        return handle  # type: ignore[no-any-return]

    def describe(self) -> dict[str, Any]:
        """What identifies these bytes: URL, size, ETag and version (when the store has them)."""
        fs, path = filesystem(self.url)
        fs.invalidate_cache(path)  # a listing cached by an earlier glob may predate a rewrite
        with credentials(self.url):
            info = fs.info(path)
        etag = info.get("ETag") or info.get("etag") or info.get("md5Hash")
        version = info.get("VersionId") or info.get("generation") or info.get("version_id")
        return {
            "url": self.url,
            "size": info.get("size"),
            "etag": str(etag).strip('"') if etag else None,
            "version": str(version) if version else None,
        }


def filesystem(url: str) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) for url; UsageError when its backend is missing."""
    scheme = url.split("://", 1)[0].lower()
    module, extra, _ = SCHEMES[scheme]
    try:
        import fsspec

        return fsspec.core.url_to_fs(url)  # type: ignore[no-any-return]
    except ImportError:
        raise UsageError(
            f"reading {scheme}:// data needs the Python package {module}, which is not installed",
            hint=f'pip install "mlops[{extra}]"',
        ) from None


def expand_url(spec: str, preferred: tuple[tuple[str, ...], ...]) -> list[DataUrl]:
    """The files a URL names: a file, a glob, or a prefix (the files with the first suffixes
    of `preferred` that any file has: Parquet, else CSV).

    Raises:
        InputError: nothing matches, or the credentials are missing.
    """
    fs, path = filesystem(spec)
    scheme = spec.split("://", 1)[0]
    with credentials(spec):
        if set("*?[") & set(path):
            found = sorted(p for p in fs.glob(path) if not fs.isdir(p))
        elif fs.isdir(path):
            every = sorted(fs.find(path))
            found = []
            for suffixes in preferred:
                found = found or [p for p in every if p.lower().endswith(suffixes)]
        else:
            found = [path] if fs.exists(path) else []
    if not found:
        raise InputError(
            f"The URL '{spec}' matches no files.",
            hint="Check the bucket, the prefix and the pattern.",
        )
    return [DataUrl(f"{scheme}://{p}" if "://" not in p else p) for p in found]


class credentials:  # noqa: N801 - used as a context manager, like open()
    """Turns a backend's missing-credentials error into an InputError naming the variables."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, InputError | UsageError):
            return
        names = type(exc).__name__ + " " + str(exc)
        if re.search(r"credential|NoCredentials|Unable to locate", names, re.IGNORECASE):
            variables = SCHEMES[self.url.split("://", 1)[0].lower()][2]
            raise InputError(
                f"no credentials to read {self.url}: set {variables}",
                hint="export the variable(s) in the environment of every process that reads",
            ) from None
        if isinstance(exc, FileNotFoundError | PermissionError):
            raise InputError(f"cannot read {self.url} ({type(exc).__name__}: {exc})") from None
