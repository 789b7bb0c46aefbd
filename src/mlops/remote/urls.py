"""Remote URLs: which fsspec backend serves them, the extra that installs it, and how to print
them without credentials."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mlops.errors import UsageError

# scheme -> (module the backend needs, the pip extra or package that adds it)
BACKENDS: dict[str, tuple[str, str]] = {
    "file": ("fsspec", 'pip install "mlops[remote]"'),
    "s3": ("s3fs", 'pip install "mlops[s3]"'),
    "s3a": ("s3fs", 'pip install "mlops[s3]"'),
    "gs": ("gcsfs", 'pip install "mlops[gcs]"'),
    "gcs": ("gcsfs", 'pip install "mlops[gcs]"'),
    "az": ("adlfs", 'pip install "mlops[azure]"'),
    "abfs": ("adlfs", 'pip install "mlops[azure]"'),
    "abfss": ("adlfs", 'pip install "mlops[azure]"'),
    "ssh": ("sshfs", 'pip install "mlops[remote]" sshfs'),
    "sftp": ("sshfs", 'pip install "mlops[remote]" sshfs'),
}


def scheme_of(url: str) -> str:
    """The URL's scheme; plain paths are `file`."""
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", url)
    return m.group(1).lower() if m else "file"


def redact(url: str) -> str:
    """The URL without user:password (safe to print or log)."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, "***@" + host, parts.path, parts.query, parts.fragment))


def check_url(url: str) -> str:
    """A URL this tool can use as a remote, else UsageError naming the known schemes."""
    url = url.strip()
    if not url:
        raise UsageError("a remote URL is empty", hint="e.g. s3://bucket/mlops or file:///mnt/x")
    scheme = scheme_of(url)
    if scheme not in BACKENDS:
        raise UsageError(
            f"remote URL {redact(url)} has the unsupported scheme {scheme}://",
            hint="use one of: " + ", ".join(f"{s}://" for s in sorted(BACKENDS)) + " or a path",
        )
    if scheme == "file" and "://" not in url:
        return Path(url).expanduser().absolute().as_uri()
    return url


def require_backend(url: str) -> None:
    """Exit 2 with the pip command when the package that serves this URL is missing."""
    scheme = scheme_of(url)
    module, pip = BACKENDS[scheme]
    for mod in {"fsspec", module}:
        if importlib.util.find_spec(mod) is None:
            raise UsageError(
                f"the {scheme}:// remote {redact(url)} needs the Python package {mod}, "
                "which is not installed",
                hint=pip,
            )


def open_filesystem(url: str, options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """(fsspec filesystem, root path inside it) for a remote URL. Credentials come from the
    backend's usual places (AWS_* variables and ~/.aws for S3, and so on), never from here;
    for S3-compatible servers `endpoint_url` (option or AWS_ENDPOINT_URL) selects the server."""
    url = check_url(url)
    require_backend(url)
    fsspec = importlib.import_module("fsspec")
    scheme = scheme_of(url)
    kwargs: dict[str, Any] = {}
    endpoint = (options or {}).get("endpoint_url")
    if scheme in ("s3", "s3a"):
        endpoint = (
            endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        )
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        kwargs["skip_instance_cache"] = True
        # other machines write the same prefixes: a cached listing would hide their claims
        kwargs["use_listings_cache"] = False
    fs, root = fsspec.core.url_to_fs(url, **kwargs)
    return fs, str(root).rstrip("/")
