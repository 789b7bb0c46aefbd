"""A wheel of the running mlops, built from its installed files, for package bundles.

Why: a bundle's Dockerfile must install the mlops that built the bundle. Pinning
`mlops[serve]==<version>` lets pip pick whatever a package index calls `mlops` (the public index
has an unrelated project of that name), so the bundle ships this wheel and installs it by path.

The wheel is made here rather than by a build backend so that it exists whether mlops was
installed editable or from a wheel, needs no network or build tools, and is byte-for-byte
reproducible: members sorted, a fixed timestamp (1980-01-01) and mode 0644 for every member,
the dist-info last and RECORD at the very end. Its contents are the `mlops` package directory
(`mlops.__file__`): every `.py`, `py.typed` and `templates/*`; no `__pycache__` or `.pyc`. The
metadata (name, version, Requires-Python, Requires-Dist with the `serve` extra, entry points)
comes from the installed distribution's metadata.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import mlops
from mlops.errors import InputError

DIST = "mlops"
TAG = "py3-none-any"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
_VERSION = re.compile(r"[0-9A-Za-z.!+]+")  # a PEP 440 version as it appears in a wheel name
_METADATA_KEYS = ("Summary", "License", "Requires-Python")


@dataclass(frozen=True)
class Wheel:
    """A built wheel: its file name (PEP 427) and bytes."""

    filename: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def build_self_wheel() -> Wheel:
    """The wheel of the running mlops (same bytes every time for the same installed files)."""
    meta = _metadata()
    version = meta["Version"]
    if not _VERSION.fullmatch(version):
        raise InputError(f"the installed mlops has a version ({version!r}) no wheel name can hold")
    if version != mlops.__version__:
        raise InputError(
            f"the installed mlops metadata says version {version} but the running code is "
            f"{mlops.__version__}",
            hint="reinstall mlops (e.g. `pip install -e .`) so the two agree",
        )
    dist_info = f"{DIST}-{version}.dist-info"
    members = package_files(Path(mlops.__file__).parent)
    members[f"{dist_info}/METADATA"] = metadata_text(meta).encode()
    members[f"{dist_info}/WHEEL"] = wheel_text().encode()
    entry_points = entry_points_text()
    if entry_points:
        members[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    members[f"{dist_info}/top_level.txt"] = f"{DIST}\n".encode()
    return Wheel(f"{DIST}-{version}-{TAG}.whl", zip_members(members, f"{dist_info}/RECORD"))


def _metadata() -> importlib.metadata.PackageMetadata:
    try:
        return importlib.metadata.metadata(DIST)
    except importlib.metadata.PackageNotFoundError:
        raise InputError(
            "mlops is not installed as a distribution, so its wheel cannot be built for the bundle",
            hint="install it with pip (e.g. `pip install -e .` in the mlops checkout)",
        ) from None


def package_files(root: Path) -> dict[str, bytes]:
    """Archive path -> bytes for the package's `.py` files, `py.typed` and `templates/*`."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or "__pycache__" in rel.parts or not _shipped(rel):
            continue
        files[f"{DIST}/{rel.as_posix()}"] = path.read_bytes()
    return files


def _shipped(rel: Path) -> bool:
    if rel.suffix == ".py":
        return True
    return rel.as_posix() == "py.typed" or (len(rel.parts) == 2 and rel.parts[0] == "templates")


def metadata_text(meta: importlib.metadata.PackageMetadata) -> str:
    """Core metadata 2.1 with the fields pip needs to resolve the wheel's dependencies."""
    lines = ["Metadata-Version: 2.1", f"Name: {meta['Name']}", f"Version: {meta['Version']}"]
    for key in _METADATA_KEYS:
        values = meta.get_all(key) or []
        lines += [f"{key}: {_one_line(values[0])}"] if values else []
    lines += [f"Provides-Extra: {extra}" for extra in meta.get_all("Provides-Extra") or []]
    lines += [f"Requires-Dist: {req}" for req in importlib.metadata.requires(DIST) or []]
    return "\n".join(lines) + "\n"


def _one_line(value: str) -> str:
    return " ".join(value.split())


def wheel_text() -> str:
    return (
        "Wheel-Version: 1.0\n"
        f"Generator: mlops {mlops.__version__} (self_wheel)\n"
        "Root-Is-Purelib: true\n"
        f"Tag: {TAG}\n"
    )


def entry_points_text() -> str:
    """entry_points.txt from the installed distribution (the `mlops` console script)."""
    groups: dict[str, list[str]] = {}
    for ep in importlib.metadata.distribution(DIST).entry_points:
        groups.setdefault(ep.group, []).append(f"{ep.name} = {ep.value}")
    return "".join(
        f"[{group}]\n" + "".join(f"{line}\n" for line in sorted(lines)) + "\n"
        for group, lines in sorted(groups.items())
    )


def record_digest(data: bytes) -> str:
    """`sha256=<urlsafe base64, no padding>`, the RECORD hash form (PEP 376 / 427)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def zip_members(members: dict[str, bytes], record: str) -> bytes:
    """A reproducible zip: package files sorted, then the dist-info sorted, then RECORD."""
    order = sorted(members, key=lambda name: (".dist-info/" in name, name))
    rows = [(name, record_digest(members[name]), str(len(members[name]))) for name in order]
    payload = {**{name: members[name] for name in order}, record: _record_text(rows, record)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in payload.items():
            zf.writestr(_zip_info(name), data, compresslevel=9)
    return buf.getvalue()


def _record_text(rows: list[tuple[str, str, str]], record: str) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerows([*rows, (record, "", "")])
    return text.getvalue().encode()


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so external_attr holds the mode
    info.external_attr = FILE_MODE << 16
    return info
