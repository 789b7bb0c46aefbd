"""References a user types for an artifact: an id or unique id prefix, `[kind/]name` (the
latest version), `[kind/]name:version` (or `:latest`) and `[kind/]name@alias`."""

from __future__ import annotations

import re
import sqlite3

from mlops.errors import AmbiguousRefError, InputError, NotFoundError

_REF = re.compile(
    r"^(?:(?P<kind>[a-z][a-z0-9-]*)/)?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*?)"
    r"(?:(?::(?P<version>\d+|latest))|(?:@(?P<alias>[A-Za-z0-9][A-Za-z0-9._-]*)))?\Z"
)


def _by_prefix(conn: sqlite3.Connection, ref: str, kind: str | None) -> str | None:
    rows = conn.execute(
        "SELECT id FROM artifacts WHERE id >= ? AND id < ? " + ("AND kind = ?" if kind else ""),
        (ref, ref + "g", *([kind] if kind else [])),
    ).fetchall()
    if len(rows) > 1:
        raise AmbiguousRefError(
            f"id prefix {ref!r} matches {len(rows)} artifacts",
            hint="type more characters of the id",
        )
    return str(rows[0]["id"]) if rows else None


def _kind_of(conn: sqlite3.Connection, ref: str, m: re.Match[str], kind: str | None) -> str:
    """The kind a name means: the one given, else the only kind with that name (and that alias
    or version, when the ref names one)."""
    if kind:
        return kind
    name = m["name"]
    kinds = [
        r["kind"]
        for r in conn.execute(
            "SELECT DISTINCT kind FROM artifacts WHERE name = ? ORDER BY kind", (name,)
        )
    ]
    if not kinds:
        raise NotFoundError(f"no artifact matches {ref!r}", hint="list artifacts with `mlops ls`")
    if len(kinds) > 1 and m["alias"]:
        holders = conn.execute(
            "SELECT DISTINCT kind FROM aliases WHERE name = ? AND alias = ?", (name, m["alias"])
        ).fetchall()
        kinds = [r["kind"] for r in holders] or kinds
    elif len(kinds) > 1 and m["version"] and m["version"] != "latest":
        having = conn.execute(
            "SELECT DISTINCT kind FROM artifacts WHERE name = ? AND version = ?",
            (name, int(m["version"])),
        ).fetchall()
        kinds = [r["kind"] for r in having] or kinds
    if len(kinds) > 1:
        raise _several_kinds(conn, ref, name, kinds)
    return kinds[0]


def _several_kinds(
    conn: sqlite3.Connection, ref: str, name: str, kinds: list[str]
) -> AmbiguousRefError:
    """The error for a name several kinds share: the exact ref to type for each, model first."""
    ordered = sorted(kinds, key=lambda k: (k != "model", k))
    width = max(len(f"{k}/{ref}") for k in ordered)
    lines = []
    for k in ordered:
        row = conn.execute(
            "SELECT id, version FROM artifacts WHERE kind = ? AND name = ? "
            "ORDER BY version DESC LIMIT 1",
            (k, name),
        ).fetchone()
        lines.append(
            f"  {f'{k}/{ref}':<{width}}  (latest: {k} {name}:{row['version']}, {row['id'][:12]})"
        )
    return AmbiguousRefError(
        f"{name!r} names artifacts of {len(kinds)} kinds ({', '.join(ordered)}); "
        "type the ref of the one you mean",
        hint="refs:\n" + "\n".join(lines),
    )


def resolve_id(conn: sqlite3.Connection, ref: str, kind: str | None = None) -> str:
    """The full id of the artifact ref names (a catalog lookup; the manifest is not read)."""
    ref = ref.strip()
    if re.fullmatch(r"[0-9a-f]{4,64}", ref):
        found = _by_prefix(conn, ref, kind)
        if found is not None:
            return found
    m = _REF.match(ref)
    if not m:
        raise InputError(
            f"{ref!r} is not a valid reference",
            hint="use an id prefix, name, name:version or name@alias",
        )
    name = m["name"]
    k = _kind_of(conn, ref, m, m["kind"] or kind)
    if m["alias"]:
        row = conn.execute(
            "SELECT artifact_id AS id FROM aliases WHERE kind = ? AND name = ? AND alias = ?",
            (k, name, m["alias"]),
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"no {k} {name!r} holds alias @{m['alias']}",
                hint=f"see `mlops models ls` or promote one with `mlops models promote {name} VERSION --alias {m['alias']}`",
            )
    elif m["version"] and m["version"] != "latest":
        row = conn.execute(
            "SELECT id FROM artifacts WHERE kind = ? AND name = ? AND version = ?",
            (k, name, int(m["version"])),
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"no version {m['version']} of {k} {name!r}",
                hint="list versions with `mlops ls --name NAME`",
            )
    else:
        row = conn.execute(
            "SELECT id FROM artifacts WHERE kind = ? AND name = ? ORDER BY version DESC LIMIT 1",
            (k, name),
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"no artifact matches {ref!r}", hint="list artifacts with `mlops ls`"
            )
    return str(row["id"])
