"""The stage cache: a pipeline stage's outputs keyed by the hash of everything it read."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from mlops.store.catalog import write
from mlops.store.stamps import now_iso


def cache_get(conn: sqlite3.Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT outputs FROM stage_cache WHERE key = ?", (key,)).fetchone()
    return json.loads(row["outputs"]) if row else None


def cache_put(conn: sqlite3.Connection, key: str, stage: str, outputs: dict[str, Any]) -> None:
    with write(conn):
        conn.execute(
            "INSERT OR REPLACE INTO stage_cache (key, stage, outputs, created_at) VALUES (?,?,?,?)",
            (key, stage, json.dumps(outputs, sort_keys=True), now_iso()),
        )
