"""Runs on a remote: each run (with its params, metrics and artifact links) is an event file
events/runs/<sha256 of its content>.json, never rewritten. A run that changed since it was
pushed (it finished) is pushed again as a new event; fetch merges by run id, keeping the
finished record. Monitoring history travels this way (monitor runs) and as report artifacts.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mlops.remote.site import Site
from mlops.store.artifact import canonical_json
from mlops.store.catalog import write

PREFIX = "events/runs"
RUN_COLUMNS = (
    "id", "step", "name", "status", "started_at", "finished_at", "duration_s",
    "config_hash", "git_commit", "user", "host", "command", "info",
)  # fmt: skip


def run_record(conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    found = dict(conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())
    row = {k: v for k, v in found.items() if k in RUN_COLUMNS}  # pid/proc mean nothing elsewhere
    return {
        "run": row,
        "params": {
            r["key"]: r["value"]
            for r in conn.execute("SELECT key, value FROM params WHERE run_id = ?", (run_id,))
        },
        "metrics": sorted(
            [r["key"], r["value"], r["step"]]
            for r in conn.execute(
                "SELECT key, value, step FROM metrics WHERE run_id = ?", (run_id,)
            )
        ),
        "artifacts": sorted(
            [r["artifact_id"], r["role"]]
            for r in conn.execute(
                "SELECT artifact_id, role FROM run_artifacts WHERE run_id = ?", (run_id,)
            )
        ),
    }


def _key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def remote_keys(site: Site) -> set[str]:
    return {rel.rsplit("/", 1)[1][:-5] for rel in site.find(PREFIX) if rel.endswith(".json")}


def push_runs(site: Site, conn: sqlite3.Connection, run_ids: Iterable[str], workers: int) -> int:
    """Upload the runs' records the remote lacks; returns how many were uploaded."""
    present = remote_keys(site)
    todo: dict[str, bytes] = {}
    for run_id in run_ids:
        data = canonical_json(run_record(conn, run_id))
        key = _key(data)
        if key not in present:
            todo[key] = data

    def upload(item: tuple[str, bytes]) -> None:
        site.create_json(f"{PREFIX}/{item[0]}.json", _loads(item[1]))

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(upload, todo.items()))
    if todo:
        with write(conn):
            conn.executemany(
                "INSERT OR IGNORE INTO remote_events (remote, key) VALUES (?,?)",
                [(site.remote.name, k) for k in todo],
            )
    return len(todo)


def _loads(data: bytes) -> dict[str, Any]:
    import json

    value: dict[str, Any] = json.loads(data)
    return value


def fetch_runs(site: Site, conn: sqlite3.Connection, workers: int) -> int:
    """Merge the remote's run events not seen before into the catalog; returns how many."""
    seen = {
        r[0]
        for r in conn.execute("SELECT key FROM remote_events WHERE remote = ?", (site.remote.name,))
    }
    new = sorted(remote_keys(site) - seen)
    with ThreadPoolExecutor(workers) as pool:
        records = list(pool.map(lambda k: site.read_json(f"{PREFIX}/{k}.json"), new))
    with write(conn):
        for key, rec in zip(new, records, strict=True):
            _merge(conn, rec)
            conn.execute(
                "INSERT OR IGNORE INTO remote_events (remote, key) VALUES (?,?)",
                (site.remote.name, key),
            )
    return len(new)


def _merge(conn: sqlite3.Connection, rec: dict[str, Any]) -> None:
    run = rec["run"]
    cols = [c for c in RUN_COLUMNS if c in run]
    local = conn.execute("SELECT status FROM runs WHERE id = ?", (run["id"],)).fetchone()
    if local is None or (local["status"] == "running" and run.get("status") != "running"):
        conn.execute(
            f"INSERT OR REPLACE INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [run[c] for c in cols],
        )
    conn.executemany(
        "INSERT OR IGNORE INTO params (run_id, key, value) VALUES (?,?,?)",
        [(run["id"], k, v) for k, v in rec.get("params", {}).items()],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO metrics (run_id, key, value, step) VALUES (?,?,?,?)",
        [(run["id"], k, v, s) for k, v, s in rec.get("metrics", [])],
    )
    for aid, role in rec.get("artifacts", []):
        if conn.execute("SELECT 1 FROM artifacts WHERE id = ?", (aid,)).fetchone():
            conn.execute(
                "INSERT OR IGNORE INTO run_artifacts (run_id, artifact_id, role) VALUES (?,?,?)",
                (run["id"], aid, role),
            )
