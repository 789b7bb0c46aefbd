"""Lineage: the parent -> child edges between artifacts, walked up (ancestors) or down."""

from __future__ import annotations

import sqlite3
from typing import Any


def parents(conn: sqlite3.Connection, artifact_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT parent_id FROM lineage WHERE child_id = ? ORDER BY parent_id", (artifact_id,)
    )
    return [r[0] for r in rows]


def children(conn: sqlite3.Connection, artifact_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT child_id FROM lineage WHERE parent_id = ? ORDER BY child_id", (artifact_id,)
    )
    return [r[0] for r in rows]


def lineage(
    conn: sqlite3.Connection, artifact_id: str, down: bool = False, max_depth: int = 50
) -> dict[str, Any]:
    """A tree {artifact, children: [...]} of ancestors (or, with down, descendants)."""
    seen: set[str] = set()

    def node(aid: str, depth: int) -> dict[str, Any]:
        row = conn.execute("SELECT * FROM artifacts WHERE id = ?", (aid,)).fetchone()
        info = (
            {
                "id": aid,
                "kind": row["kind"],
                "name": row["name"],
                "version": row["version"],
                "created_at": row["created_at"],
            }
            if row
            else {"id": aid, "missing": True}
        )
        if aid in seen or depth >= max_depth:
            info["children"] = []
            return info
        seen.add(aid)
        nxt = children(conn, aid) if down else parents(conn, aid)
        info["children"] = [node(n, depth + 1) for n in nxt]
        return info

    return node(artifact_id, 0)
