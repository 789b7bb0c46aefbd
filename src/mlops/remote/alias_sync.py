"""Alias moves across machines (docs/remote.md, "Aliases").

On a remote, each alias is a chain of moves aliases/<kind>/<name>/<alias>/<seq>.json; the holder
is the last move's target. A local move is pushed as the next seq with a create-only write, and
only if it moved the alias from the remote's current holder: a machine that promoted without
seeing another machine's move loses (exit 1), and of two that push the same next seq at once,
the conditional write lets exactly one win. Every move ever accepted stays in the chain, so the
history on the remote is complete and ordered.

Locally, alias_events.remote_seq records the move's seq on the remote (NULL: not pushed yet;
0: refused because the remote moved first, fetch then takes the remote's holder; -1: a local
move that is never pushed, such as `mlops rm` dropping an alias).
"""

from __future__ import annotations

import socket
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from mlops.jsonable import fields_dict
from mlops.remote.site import Site, seq_name
from mlops.store.catalog import write

Key = tuple[str, str, str]  # kind, name, alias


@dataclass
class Conflict:
    kind: str
    name: str
    alias: str
    wanted: str | None
    holder: str | None

    def reason(self) -> str:
        return (
            f"@{self.alias} of {self.name} was moved on the remote by another machine "
            f"(it holds {str(self.holder)[:12]}), so this machine's move to "
            f"{str(self.wanted)[:12]} was not pushed"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**fields_dict(self), "reason": self.reason()}


# held by push_moves and fetch_moves callers: two processes of one store never interleave
# pushing and fetching alias moves (one could take the other's unpushed move for refused, or
# import a move the other has just written but not yet marked as pushed)
LOCK = "alias-sync"


def chain_numbers(site: Site) -> dict[Key, list[int]]:
    """Every alias chain on the remote: (kind, name, alias) -> its seqs, from one listing."""
    out: dict[Key, list[int]] = defaultdict(list)
    for rel in site.find("aliases"):
        parts = rel.split("/")
        if len(parts) == 5 and parts[4].endswith(".json") and parts[4][:-5].isdigit():
            out[(parts[1], parts[2], parts[3])].append(int(parts[4][:-5]))
    for seqs in out.values():
        seqs.sort()
    return out


def _key_path(key: Key, seq: int) -> str:
    return f"aliases/{key[0]}/{key[1]}/{key[2]}/{seq_name(seq)}"


def head(site: Site, key: Key) -> tuple[int, str | None]:
    """(last seq, holder) of one alias on the remote; (0, None) when it was never set there."""
    seqs = [
        int(rel.rsplit("/", 1)[1][:-5])
        for rel in site.find("aliases", *key)
        if rel.endswith(".json") and rel.rsplit("/", 1)[1][:-5].isdigit()
    ]
    if not seqs:
        return 0, None
    last = max(seqs)
    return last, site.read_json(_key_path(key, last)).get("to_id")


def _record(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "from_id": row["from_id"],
        "to_id": row["to_id"],
        "at": row["at"],
        "who": row["who"],
        "why": row["why"],
        "host": socket.gethostname(),
    }


def push_moves(
    site: Site, conn: sqlite3.Connection, published: set[str]
) -> tuple[int, list[Conflict]]:
    """Push the local moves not yet on the remote whose target is published there; returns
    (moves pushed, conflicts)."""
    pending = conn.execute(
        "SELECT * FROM alias_events WHERE remote_seq IS NULL ORDER BY seq"
    ).fetchall()
    by_alias: dict[Key, list[sqlite3.Row]] = defaultdict(list)
    for row in pending:
        by_alias[(row["kind"], row["name"], row["alias"])].append(row)
    pushed, conflicts = 0, []
    for key, rows in by_alias.items():
        seq, holder = head(site, key)
        for row in rows:
            if row["to_id"] not in published:
                break  # its target was not pushed (push REF...): the rest of the chain waits
            if not seq or row["from_id"] == holder:
                if site.create_json(_key_path(key, seq + 1), _record(row)):
                    seq, holder = seq + 1, row["to_id"]
                    _mark(conn, row["seq"], seq)
                    pushed += 1
                    continue
                seq, holder = head(site, key)  # another process wrote seq + 1 first
            # another push of this store (a second process) may have sent this very move
            found = _pushed_as(site, conn, key, row, seq)
            if found is None:
                conflicts.append(Conflict(*key, row["to_id"], holder))
                break
            _mark(conn, row["seq"], found)
    return pushed, conflicts


def _mark(conn: sqlite3.Connection, local_seq: int, remote_seq: int) -> None:
    with write(conn):
        conn.execute(
            "UPDATE alias_events SET remote_seq = ? WHERE seq = ?", (remote_seq, local_seq)
        )


def _pushed_as(
    site: Site, conn: sqlite3.Connection, key: Key, row: sqlite3.Row, upto: int
) -> int | None:
    """The remote seq of a move identical to row (same from, to, time and who), looking at the
    moves after the last one this store knows; None when row is not on the remote."""
    known = conn.execute(
        "SELECT COALESCE(MAX(remote_seq), 0) FROM alias_events"
        " WHERE kind = ? AND name = ? AND alias = ?",
        key,
    ).fetchone()[0]
    for s in range(int(known) + 1, upto + 1):
        rec = site.read_json(_key_path(key, s))
        if all(rec.get(k) == row[k] for k in ("from_id", "to_id", "at", "who")):
            return s
    return None


def fetch_moves(site: Site, conn: sqlite3.Connection) -> int:
    """Bring the remote's alias moves into the local history and take the remote's holder for
    every alias without pending local moves that follow it; returns the moves imported."""
    imported = 0
    for key, seqs in chain_numbers(site).items():
        known = conn.execute(
            "SELECT COALESCE(MAX(remote_seq), 0) FROM alias_events"
            " WHERE kind = ? AND name = ? AND alias = ?",
            key,
        ).fetchone()[0]
        new = [(s, site.read_json(_key_path(key, s))) for s in seqs if s > known]
        # the remote's holder, new moves or not: a store that went astray is brought back
        last = new[-1][1] if new else site.read_json(_key_path(key, seqs[-1]))
        holder = last.get("to_id")
        with write(conn):
            for s, ev in new:
                conn.execute(
                    "INSERT INTO alias_events (kind, name, alias, from_id, to_id, at, who, why, remote_seq)"
                    " VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        *key,
                        ev.get("from_id"),
                        ev.get("to_id"),
                        ev["at"],
                        ev["who"],
                        ev.get("why"),
                        s,
                    ),
                )
                imported += 1
            if holder is None:
                continue
            first_pending = conn.execute(
                "SELECT from_id FROM alias_events WHERE kind = ? AND name = ? AND alias = ?"
                " AND remote_seq IS NULL ORDER BY seq LIMIT 1",
                key,
            ).fetchone()
            if first_pending is not None and first_pending["from_id"] == holder:
                continue  # local moves build on the remote's holder: push will send them
            conn.execute(
                "UPDATE alias_events SET remote_seq = 0 WHERE kind = ? AND name = ? AND alias = ?"
                " AND remote_seq IS NULL",
                key,
            )
            exists = conn.execute("SELECT 1 FROM artifacts WHERE id = ?", (holder,)).fetchone()
            if exists:
                conn.execute(
                    "INSERT OR REPLACE INTO aliases (kind, name, alias, artifact_id) VALUES (?,?,?,?)",
                    (*key, holder),
                )
    return imported
