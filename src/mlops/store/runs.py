"""Runs: one row per step execution, with its params, metrics and the artifacts it used or made."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mlops.errors import AmbiguousRefError, NotFoundError
from mlops.store.catalog import write
from mlops.store.stamps import current_user, now_iso


def start_run(
    conn: sqlite3.Connection,
    step: str,
    name: str | None = None,
    config_hash: str | None = None,
    command: str | None = None,
    git_commit: str | None = None,
    info: dict[str, Any] | None = None,
    started_at: str | None = None,
) -> str:
    run_id = uuid.uuid4().hex
    with write(conn):
        conn.execute(
            "INSERT INTO runs (id, step, name, status, started_at, config_hash, git_commit, user, host, command, info, pid, proc)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                run_id,
                step,
                name,
                "running",
                started_at or now_iso(),
                config_hash,
                git_commit,
                current_user(),
                socket.gethostname(),
                command,
                json.dumps(info or {}, sort_keys=True, default=str),
                os.getpid(),
                process_identity(os.getpid()),
            ),
        )
    return run_id


ABANDONED = "failed (abandoned)"


def process_identity(pid: int) -> str | None:
    """'<boot id>:<start time>' of a live process (Linux /proc), else None: with the pid it
    names one process, so a pid reused after the run's process died is not mistaken for it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            boot = f.read().strip()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces
    return f"{boot}:{fields[19]}" if len(fields) > 19 else None


def process_gone(pid: int | None, proc: str | None) -> bool:
    """Whether the process that started a run on this host is certainly gone."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, owned by someone else
    if proc is None:
        return False
    return process_identity(pid) != proc


def effective_status(run: dict[str, Any]) -> str:
    """A `running` run started on this host by a process that is gone is failed (abandoned):
    it was killed, or crashed before it could record its end."""
    if run.get("status") != "running" or run.get("host") != socket.gethostname():
        return str(run.get("status"))
    return ABANDONED if process_gone(run.get("pid"), run.get("proc")) else "running"


def log_params(conn: sqlite3.Connection, run_id: str, params: Mapping[str, Any]) -> None:
    with write(conn):
        conn.executemany(
            "INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?,?,?)",
            [(run_id, k, json.dumps(v, sort_keys=True, default=str)) for k, v in params.items()],
        )


def log_metrics(
    conn: sqlite3.Connection, run_id: str, metrics: Mapping[str, float | None], step: int = 0
) -> None:
    with write(conn):
        conn.executemany(
            "INSERT OR REPLACE INTO metrics (run_id, key, value, step) VALUES (?,?,?,?)",
            [(run_id, k, None if v is None else float(v), step) for k, v in metrics.items()],
        )


def link_run(conn: sqlite3.Connection, run_id: str, artifact_id: str, role: str) -> None:
    with write(conn):
        conn.execute(
            "INSERT OR IGNORE INTO run_artifacts (run_id, artifact_id, role) VALUES (?,?,?)",
            (run_id, artifact_id, role),
        )


def finish_run(
    conn: sqlite3.Connection,
    run_id: str,
    status: str = "succeeded",
    info: dict[str, Any] | None = None,
) -> None:
    with write(conn):
        row = conn.execute("SELECT started_at, info FROM runs WHERE id = ?", (run_id,)).fetchone()
        started = datetime.fromisoformat(row["started_at"].replace("Z", "+00:00"))
        merged = {**json.loads(row["info"] or "{}"), **(info or {})}
        conn.execute(
            "UPDATE runs SET status = ?, finished_at = ?, duration_s = ?, info = ? WHERE id = ?",
            (
                status,
                now_iso(),
                (datetime.now(UTC) - started).total_seconds(),
                json.dumps(merged, sort_keys=True, default=str),
                run_id,
            ),
        )


def add_run_info(conn: sqlite3.Connection, run_id: str, info: dict[str, Any]) -> None:
    with write(conn):
        row = conn.execute("SELECT info FROM runs WHERE id = ?", (run_id,)).fetchone()
        merged = {**json.loads(row["info"] or "{}"), **info}
        conn.execute(
            "UPDATE runs SET info = ? WHERE id = ?",
            (json.dumps(merged, sort_keys=True, default=str), run_id),
        )


def get_run(conn: sqlite3.Connection, ref: str) -> dict[str, Any]:
    """A run by id or unique id prefix."""
    rows = conn.execute("SELECT * FROM runs WHERE id >= ? AND id < ?", (ref, ref + "g")).fetchall()
    if not rows:
        raise NotFoundError(f"no run {ref!r}", hint="list runs with `mlops runs ls`")
    if len(rows) > 1:
        raise AmbiguousRefError(
            f"run prefix {ref!r} matches {len(rows)} runs", hint="type more characters"
        )
    return run_dict(conn, rows[0])


def run_dict(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    run = dict(row)
    run["status"] = effective_status(run)
    run["info"] = json.loads(run["info"] or "{}")
    run["params"] = {
        r["key"]: json.loads(r["value"])
        for r in conn.execute(
            "SELECT key, value FROM params WHERE run_id = ? ORDER BY key", (run["id"],)
        )
    }
    run["metrics"] = {
        r["key"]: r["value"]
        for r in conn.execute(
            "SELECT key, value FROM metrics WHERE run_id = ? ORDER BY key, step", (run["id"],)
        )
    }
    run["artifacts"] = [
        {"id": r["artifact_id"], "role": r["role"]}
        for r in conn.execute(
            "SELECT artifact_id, role FROM run_artifacts WHERE run_id = ?", (run["id"],)
        )
    ]
    return run


def list_runs(
    conn: sqlite3.Connection, step: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    sql, args = "SELECT * FROM runs", []
    if step:
        sql += " WHERE step = ?"
        args.append(step)
    sql += " ORDER BY started_at DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [run_dict(conn, r) for r in conn.execute(sql, args).fetchall()]
