"""Artifact manifests: canonical JSON stored as a blob; the blob's hash is the artifact id."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class FileEntry:
    hash: str
    size: int


@dataclass(frozen=True)
class Artifact:
    id: str
    kind: str
    name: str
    version: int
    files: dict[str, FileEntry]
    metadata: dict[str, Any]
    parents: list[str]
    created_at: str
    tool_version: str
    command: str | None = None
    run_id: str | None = None
    aliases: list[str] = field(default_factory=list)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def label(self) -> str:
        return f"{self.name}:{self.version}"

    def summary(self) -> dict[str, Any]:
        """The fields result objects show for an artifact."""
        return {"id": self.id, "name": self.name, "version": self.version, "label": self.label}

    def manifest(self) -> dict[str, Any]:
        return manifest_dict(
            kind=self.kind,
            name=self.name,
            version=self.version,
            files=self.files,
            metadata=self.metadata,
            parents=self.parents,
            created_at=self.created_at,
            tool_version=self.tool_version,
            command=self.command,
            run_id=self.run_id,
        )

    def to_dict(self) -> dict[str, Any]:
        # kept: the manifest plus id and aliases, a reshape
        d = self.manifest()
        d["id"] = self.id
        d["aliases"] = list(self.aliases)
        return d


def manifest_dict(
    *,
    kind: str,
    name: str,
    version: int,
    files: dict[str, FileEntry],
    metadata: dict[str, Any],
    parents: list[str],
    created_at: str,
    tool_version: str,
    command: str | None,
    run_id: str | None,
) -> dict[str, Any]:
    return {
        "manifest_version": MANIFEST_VERSION,
        "kind": kind,
        "name": name,
        "version": version,
        "files": {p: {"hash": e.hash, "size": e.size} for p, e in sorted(files.items())},
        "metadata": metadata,
        "parents": sorted(parents),
        "created_at": created_at,
        "tool_version": tool_version,
        "command": command,
        "run_id": run_id,
    }


def canonical_json(obj: Any) -> bytes:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def artifact_from_manifest(artifact_id: str, m: dict[str, Any]) -> Artifact:
    return Artifact(
        id=artifact_id,
        kind=m["kind"],
        name=m["name"],
        version=int(m["version"]),
        files={p: FileEntry(e["hash"], int(e["size"])) for p, e in m["files"].items()},
        metadata=m.get("metadata") or {},
        parents=list(m.get("parents") or []),
        created_at=m["created_at"],
        tool_version=m.get("tool_version", ""),
        command=m.get("command"),
        run_id=m.get("run_id"),
    )


MANIFEST_MAX_BYTES = 16 << 20  # a blob larger than this is never taken for a manifest


def parse_manifest(data: bytes) -> dict[str, Any] | None:
    """The manifest these bytes hold, or None when they are not one (any other blob).

    Manifests are self-describing: manifest_version, kind, name, version, files, parents and
    created_at are all in the blob, so the catalog can be rebuilt from them (`fsck --rebuild`).
    """
    if len(data) > MANIFEST_MAX_BYTES or not data.startswith(b'{"'):
        return None
    try:
        m = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(m, dict) or not isinstance(m.get("manifest_version"), int):
        return None
    files, parents = m.get("files"), m.get("parents", [])
    if not (
        isinstance(m.get("kind"), str)
        and isinstance(m.get("name"), str)
        and isinstance(m.get("version"), int)
        and isinstance(m.get("created_at"), str)
        and isinstance(files, dict)
        and all(isinstance(e, dict) and "hash" in e and "size" in e for e in files.values())
        and isinstance(parents, list)
    ):
        return None
    return m
