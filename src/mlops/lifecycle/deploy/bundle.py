"""Package bundles on disk: the MANIFEST, reproducible .tar.gz archives, safe unpacking.

A bundle is a flat directory of regular files plus `MANIFEST`, whose lines are
`<sha256>  <path>` (the `sha256sum` format, so `sha256sum -c MANIFEST` checks it too).
Opening a bundle reads every file once, checks its hash against the MANIFEST and returns the
verified bytes: what gets deserialised is exactly what was hashed.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import re
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath

from mlops.atomic import atomic_path
from mlops.errors import InputError, StoreIntegrityError
from mlops.store.names import check_relpath

MANIFEST = "MANIFEST"
FIXED_MTIME = 315532800  # 1980-01-01T00:00:00Z, as zip and reproducible-builds tools use
MAX_MEMBERS = 10_000
MAX_UNPACKED_BYTES = 16 << 30
# A bundle may unpack to at most MAX_RATIO times its archive's size, or to UNPACKED_FLOOR,
# whichever is more: pickled models compress about 2-10x with gzip, while a gzip bomb reaches
# ~1000x (zeros). The check runs on each member's declared size as its header is read, before
# its data is decompressed or anything is written.
MAX_RATIO = 100
UNPACKED_FLOOR = 256 << 20
_LINE = re.compile(r"^([0-9a-f]{64})  (.+)$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_text(files: Mapping[str, bytes]) -> bytes:
    lines = [
        f"{sha256_hex(data)}  {rel}\n" for rel, data in sorted(files.items()) if rel != MANIFEST
    ]
    return "".join(lines).encode()


def parse_manifest(text: bytes, where: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        raise StoreIntegrityError(f"{where}: MANIFEST is not text") from None
    for n, line in enumerate(decoded.splitlines(), 1):
        m = _LINE.match(line)
        if not m:
            raise StoreIntegrityError(f"{where}: MANIFEST line {n} is malformed")
        rel = m.group(2)
        try:
            check_relpath(rel)
        except InputError:
            raise StoreIntegrityError(
                f"{where}: MANIFEST line {n} names an unsafe path {rel!r}"
            ) from None
        if rel == MANIFEST or rel in entries:
            raise StoreIntegrityError(f"{where}: MANIFEST line {n} repeats {rel!r}")
        entries[rel] = m.group(1)
    if not entries:
        raise StoreIntegrityError(f"{where}: MANIFEST is empty")
    return entries


def verify_files(files: Mapping[str, bytes], where: str) -> dict[str, bytes]:
    """Check a bundle's files (bytes in memory) against its MANIFEST; extra or missing files fail."""
    if MANIFEST not in files:
        raise StoreIntegrityError(
            f"{where} has no MANIFEST", hint="is this a bundle written by `mlops package`?"
        )
    expected = parse_manifest(files[MANIFEST], where)
    extra = sorted(set(files) - set(expected) - {MANIFEST})
    if extra:
        raise StoreIntegrityError(
            f"{where} holds {extra[0]!r}, which its MANIFEST does not list",
            hint="a package is read only as written; rebuild it with `mlops package`",
        )
    for rel, digest in sorted(expected.items()):
        if rel not in files:
            raise StoreIntegrityError(f"{where} is missing {rel!r}, listed in its MANIFEST")
        if sha256_hex(files[rel]) != digest:
            raise StoreIntegrityError(
                f"{rel!r} in {where} does not match its MANIFEST hash: the package is damaged "
                "or was altered",
                hint="rebuild it with `mlops package`, or fetch an intact copy",
            )
    return dict(files)


def read_bundle_dir(root: Path) -> dict[str, bytes]:
    """Every file of a bundle directory (regular files only, no symlinks), verified."""
    root = Path(root)
    if root.is_symlink():
        raise StoreIntegrityError(f"package directory {root} is a symlink")
    files: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in sorted(dirnames + filenames):
            path = base / name
            st = os.lstat(path)
            rel = path.relative_to(root).as_posix()
            if stat.S_ISDIR(st.st_mode):
                continue
            if not stat.S_ISREG(st.st_mode):
                raise StoreIntegrityError(
                    f"{rel!r} in package {root} is not a regular file (link or device)"
                )
            if len(files) >= MAX_MEMBERS:
                raise StoreIntegrityError(f"package {root} holds too many files")
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                files[rel] = f.read()
    return verify_files(files, f"package {root}")


# -- archives --------------------------------------------------------------------------------
def write_archive(files: Mapping[str, bytes], prefix: str, dest: Path) -> str:
    """Write a reproducible .tar.gz of files under `prefix/`; returns its sha256.

    Members sorted, fixed mtime, uid/gid 0, no user or group names, mode 0644/0755, ustar
    format, gzip header without a name and with mtime 0: the same files give the same bytes.
    """
    check_relpath(prefix)
    dest = Path(dest)
    with (
        atomic_path(dest) as tmp,
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        tar.addfile(_info(prefix, tarfile.DIRTYPE, 0, 0o755))
        dirs: set[str] = set()
        for rel in sorted(files):
            check_relpath(rel)
            for parent in reversed(PurePosixPath(rel).parents[:-1]):
                if str(parent) not in dirs:
                    dirs.add(str(parent))
                    tar.addfile(_info(f"{prefix}/{parent}", tarfile.DIRTYPE, 0, 0o755))
            data = files[rel]
            tar.addfile(
                _info(f"{prefix}/{rel}", tarfile.REGTYPE, len(data), 0o644),
                io.BytesIO(data),
            )
    h = hashlib.sha256()
    with open(dest, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _info(name: str, kind: bytes, size: int, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mode = mode
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _check_member(m: tarfile.TarInfo, archive: Path) -> PurePosixPath:
    name = m.name
    label = f"{archive}: member {name!r}"
    if not name or "\x00" in name or "\\" in name:
        raise StoreIntegrityError(f"{label} has an unsafe name")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise StoreIntegrityError(f"{label} is an absolute path")
    path = PurePosixPath(name)
    if ".." in path.parts:
        raise StoreIntegrityError(f"{label} contains '..'")
    if m.issym() or m.islnk():
        target = PurePosixPath(m.linkname)
        joined = target if m.linkname.startswith("/") else path.parent / target
        depth = 0
        escapes = m.linkname.startswith("/")
        for part in joined.parts:
            if part == "..":
                depth -= 1
            elif part not in ("", "."):
                depth += 1
            if depth < 0:
                escapes = True
        if escapes:
            raise StoreIntegrityError(
                f"{label} is a link that points outside the package ({m.linkname!r})"
            )
        raise StoreIntegrityError(f"{label} is a link; packages hold regular files only")
    if m.ischr() or m.isblk() or m.isfifo():
        raise StoreIntegrityError(f"{label} is a device or special file")
    if not (m.isreg() or m.isdir()):
        raise StoreIntegrityError(f"{label} has an unsupported member type")
    if m.mode & (stat.S_ISUID | stat.S_ISGID):
        raise StoreIntegrityError(f"{label} has the setuid or setgid bit")
    return PurePosixPath(*[p for p in path.parts if p not in ("", ".")])


def unpacked_limit(archive_bytes: int, floor: int = UNPACKED_FLOOR) -> int:
    """The most bytes an archive of archive_bytes may unpack to."""
    return min(MAX_UNPACKED_BYTES, max(floor, MAX_RATIO * archive_bytes))


def safe_extract(archive: Path, dest: Path, floor: int = UNPACKED_FLOOR) -> Path:
    """Unpack a package archive into dest after checking every member; returns dest.

    Refuses (exit 3) absolute paths, '..', links of any kind (naming those that point outside),
    device files, FIFOs and setuid bits, more than MAX_MEMBERS members, and members whose
    declared sizes add up to more than `unpacked_limit` of the archive's size: all before
    anything is written, and the size as soon as a header declares too much. Files are
    created with O_EXCL|O_NOFOLLOW and mode 0644, directories 0755; nothing outside dest is
    touched.
    """
    archive, dest = Path(archive), Path(dest)
    try:
        tar = tarfile.open(archive, "r:*")  # noqa: SIM115 (closed by the with below)
    except FileNotFoundError:
        raise InputError(f"no package at {archive}") from None
    except (tarfile.TarError, OSError, EOFError) as e:
        raise StoreIntegrityError(f"{archive} is not a readable package archive: {e}") from None
    with tar:
        try:
            members = _checked_members(tar, archive, floor)
            dest.mkdir(parents=True, exist_ok=True)
            root = dest.resolve()
            for m, rel in members:
                if not rel.parts:
                    continue
                if m.isdir():
                    _mkdirs(root, rel.parts)
                    continue
                parent = _mkdirs(root, rel.parts[:-1])
                src = tar.extractfile(m)
                if src is None:
                    raise StoreIntegrityError(f"{archive}: member {m.name!r} cannot be read")
                fd = os.open(
                    parent / rel.parts[-1],
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                    0o644,
                )
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
        except StoreIntegrityError:
            raise
        except FileExistsError as e:
            raise StoreIntegrityError(f"{archive} holds {e.filename!r} twice") from None
        except (tarfile.TarError, OSError, EOFError) as e:
            raise StoreIntegrityError(f"{archive} is damaged: {e}") from None
    return dest


def _checked_members(
    tar: tarfile.TarFile, archive: Path, floor: int
) -> list[tuple[tarfile.TarInfo, PurePosixPath]]:
    packed = archive.stat().st_size
    limit = unpacked_limit(packed, floor)
    members = []
    total = 0
    for m in tar:
        members.append((m, _check_member(m, archive)))
        total += m.size
        if len(members) > MAX_MEMBERS:
            raise StoreIntegrityError(
                f"{archive} holds more than {MAX_MEMBERS:,} files: refusing to unpack it "
                "as a package"
            )
        if total > limit:
            raise StoreIntegrityError(
                f"{archive} declares more than {_size(total)} of files from {_size(packed)} "
                f"(a package may unpack to at most {_size(limit)}): refusing to unpack it",
                hint="rebuild the bundle with `mlops package`, or unpack it yourself if you "
                "trust it and open the directory",
            )
    return members


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


def _mkdirs(root: Path, parts: tuple[str, ...]) -> Path:
    cur = root
    for part in parts:
        cur = cur / part
        if cur.is_symlink():
            raise StoreIntegrityError(f"refusing to write through the symlink {cur}")
        cur.mkdir(mode=0o755, exist_ok=True)
    if not cur.resolve().is_relative_to(root):
        raise StoreIntegrityError(f"refusing to write outside {root}")
    return cur


def bundle_root(extracted: Path) -> Path:
    """The directory holding MANIFEST: the top level, or its single subdirectory."""
    if (extracted / MANIFEST).is_file():
        return extracted
    entries = list(extracted.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / MANIFEST).is_file():
        return entries[0]
    raise StoreIntegrityError(
        "the archive holds no bundle (no MANIFEST at its top or in its single directory)"
    )


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".tar.gz", ".tgz", ".tar"))


@contextlib.contextmanager
def opened_archive(archive: Path) -> Iterator[Path]:
    """Unpack an archive into a private temporary directory (0700) and yield the bundle root."""
    with tempfile.TemporaryDirectory(prefix="mlops-package-") as tmp:
        dest = Path(tmp) / "bundle"
        safe_extract(archive, dest)
        yield bundle_root(dest)


def read_bundle(path: Path) -> dict[str, bytes]:
    """A package directory or archive -> its verified files."""
    path = Path(path)
    if path.is_dir():
        return read_bundle_dir(path)
    if not path.exists():
        raise InputError(f"no package at {path}")
    with opened_archive(path) as root:
        return read_bundle_dir(root)
