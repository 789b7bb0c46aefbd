"""Aliases (name@production): a movable pointer per (kind, name), and the append-only history
of every move. A move can be conditional (compare-and-swap), so racing promoters cannot both win.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from mlops.errors import LockedError
from mlops.store.artifact import Artifact
from mlops.store.catalog import write
from mlops.store.names import check_name
from mlops.store.stamps import current_user, now_iso


def set_alias(
    conn: sqlite3.Connection,
    art: Artifact,
    alias: str,
    why: str | None = None,
    who: str | None = None,
    expect_from: str | None | bool = False,
) -> str | None:
    """Point (kind, name)@alias at art; record the move. Returns the previous holder.

    expect_from (an id or None) makes the move conditional: it happens only if the alias still
    points where the caller saw it (compare-and-swap), so two racing promoters cannot both win.
    """
    check_name(alias, "alias")
    with write(conn):
        previous = get_alias(conn, art.kind, art.name, alias)
        if expect_from is not False and previous != expect_from:
            raise LockedError(
                f"@{alias} of {art.name} moved while this command ran (now {str(previous)[:12]})",
                hint="rerun the command to decide against the new holder",
            )
        conn.execute(
            "INSERT OR REPLACE INTO aliases (kind, name, alias, artifact_id) VALUES (?,?,?,?)",
            (art.kind, art.name, alias, art.id),
        )
        conn.execute(
            "INSERT INTO alias_events (kind, name, alias, from_id, to_id, at, who, why) VALUES (?,?,?,?,?,?,?,?)",
            (art.kind, art.name, alias, previous, art.id, now_iso(), who or current_user(), why),
        )
    return previous


def get_alias(conn: sqlite3.Connection, kind: str, name: str, alias: str) -> str | None:
    row = conn.execute(
        "SELECT artifact_id FROM aliases WHERE kind = ? AND name = ? AND alias = ?",
        (kind, name, alias),
    ).fetchone()
    return row["artifact_id"] if row else None


def aliases(conn: sqlite3.Connection, kind: str, name: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT alias, artifact_id FROM aliases WHERE kind = ? AND name = ?", (kind, name)
    )
    return {r["alias"]: r["artifact_id"] for r in rows}


def aliases_of(conn: sqlite3.Connection, artifact_id: str) -> list[str]:
    """The aliases that point at one artifact, sorted."""
    rows = conn.execute(
        "SELECT alias FROM aliases WHERE artifact_id = ? ORDER BY alias", (artifact_id,)
    )
    return [r["alias"] for r in rows]


def alias_history(
    conn: sqlite3.Connection,
    kind: str | None = None,
    name: str | None = None,
    alias: str | None = None,
    include_refused: bool = False,
) -> list[dict[str, Any]]:
    """The moves of the matching aliases in order. A local move that a remote refused (another
    machine moved the alias first; remote_seq 0) was undone by fetch and is left out unless
    include_refused, so the history is a chain that ends at the holder. Moves never meant for
    a remote (`mlops rm` dropping an alias) have remote_seq -1 and are kept."""
    sql, args = "SELECT * FROM alias_events WHERE 1=1", []
    if not include_refused:
        sql += " AND (remote_seq IS NULL OR remote_seq != 0)"
    for col, val in (("kind", kind), ("name", name), ("alias", alias)):
        if val:
            sql += f" AND {col} = ?"
            args.append(val)
    return [dict(r) for r in conn.execute(sql + " ORDER BY seq", args)]
