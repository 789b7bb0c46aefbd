"""Version numbers across machines (docs/remote.md, "Versions").

A `name:version` made locally is provisional. When an artifact is first pushed, it claims the
next number of its (kind, name) on the remote: a create-only write of
versions/<kind>/<name>/<n>.json, so two machines that push at once cannot both get n (the loser
retries with n+1). The claimed number then replaces the provisional one in every catalog that
holds the artifact (push, fetch), and local provisional versions move after the remote's
highest. If two pushes of the same artifact race, it keeps its lowest claim; the other number is
a gap. So after sync, one name:version means one artifact on every machine.
"""

from __future__ import annotations

import socket
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from mlops.remote.site import Site, seq_name
from mlops.store.catalog import write
from mlops.store.stamps import current_user, now_iso

Claims = dict[int, str]  # version -> artifact id


def list_claim_keys(site: Site) -> dict[tuple[str, str], list[int]]:
    """(kind, name) -> claimed version numbers, from one listing of versions/."""
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for rel in site.find("versions"):
        parts = rel.split("/")
        if len(parts) == 4 and parts[3].endswith(".json") and parts[3][:-5].isdigit():
            out[(parts[1], parts[2])].append(int(parts[3][:-5]))
    return out


def read_claims(site: Site, kind: str, name: str, numbers: Iterable[int]) -> Claims:
    return {n: str(site.read_json(f"versions/{kind}/{name}/{seq_name(n)}")["id"]) for n in numbers}


def claims_for(site: Site, kind: str, name: str) -> Claims:
    numbers = [
        int(rel.rsplit("/", 1)[1][:-5])
        for rel in site.find("versions", kind, name)
        if rel.endswith(".json") and rel.rsplit("/", 1)[1][:-5].isdigit()
    ]
    return read_claims(site, kind, name, numbers)


def version_of(claims: Claims, artifact_id: str) -> int | None:
    mine = [n for n, aid in claims.items() if aid == artifact_id]
    return min(mine) if mine else None


def claim(site: Site, kind: str, name: str, artifact_id: str, claims: Claims) -> int:
    """The artifact's version on the remote, claiming the next free number if it has none;
    claims is updated in place."""
    while True:
        have = version_of(claims, artifact_id)
        if have is not None:
            return have
        n = max(claims, default=0) + 1
        record = {"id": artifact_id, "at": now_iso(), "who": current_user(), "host": _host()}
        if site.create_json(f"versions/{kind}/{name}/{seq_name(n)}", record):
            claims[n] = artifact_id
            return n
        claims.update(claims_for(site, kind, name))  # lost the race for n: see who won


def effective(claims: Claims) -> dict[str, int]:
    """artifact id -> its version (its lowest claim)."""
    out: dict[str, int] = {}
    for n in sorted(claims, reverse=True):
        out[claims[n]] = n
    return out


def apply_local(
    conn: sqlite3.Connection,
    kind: str,
    name: str,
    claims: Claims,
    new_rows: Iterable[tuple[str, dict[str, Any], str]] = (),
) -> None:
    """Give the catalog's artifacts of (kind, name) their remote versions, in one transaction:
    claimed ones the remote's number, provisional ones the numbers after the remote's highest
    (in their order). new_rows (id, manifest, remote name) are fetched artifacts to insert with
    their file rows and lineage edges."""
    new_rows = list(new_rows)
    assigned = effective(claims)
    with write(conn):
        rows = conn.execute(
            "SELECT id, version, synced FROM artifacts WHERE kind = ? AND name = ? ORDER BY version",
            (kind, name),
        ).fetchall()
        final = _final_versions(rows, [aid for aid, *_ in new_rows], assigned, claims)
        current = {r["id"]: (int(r["version"]), bool(r["synced"])) for r in rows}
        wanted = {
            aid: (v, aid in assigned or current.get(aid, (0, False))[1]) for aid, v in final.items()
        }
        if all(current.get(aid) == want for aid, want in wanted.items()):
            return
        # out of the way first: (kind, name, version) is unique
        conn.execute(
            "UPDATE artifacts SET version = -version - 1 WHERE kind = ? AND name = ?", (kind, name)
        )
        _insert_fetched(conn, kind, name, new_rows)
        for aid, (v, synced) in wanted.items():
            conn.execute(
                "UPDATE artifacts SET version = ?, synced = ? WHERE id = ?", (v, int(synced), aid)
            )


def _final_versions(
    rows: list[sqlite3.Row], new_ids: list[str], assigned: dict[str, int], claims: Claims
) -> dict[str, int]:
    """Each artifact's version: claimed ones the remote's number, synced ones their own, the
    provisional ones (in their order) the numbers after the highest of all those."""
    final: dict[str, int] = {}
    provisional = []
    for r in rows:
        if r["id"] in assigned:
            final[r["id"]] = assigned[r["id"]]
        elif r["synced"]:
            final[r["id"]] = int(r["version"])
        else:
            provisional.append(r["id"])
    for aid in new_ids:
        final[aid] = assigned[aid]
    top = max([*final.values(), max(claims, default=0)], default=0)
    for i, aid in enumerate(provisional, start=1):
        final[aid] = top + i
    return final


def _insert_fetched(
    conn: sqlite3.Connection,
    kind: str,
    name: str,
    new_rows: list[tuple[str, dict[str, Any], str]],
) -> None:
    """Fetched artifacts with their file rows and lineage edges, at placeholder versions (below
    any real one) that the caller then sets."""
    for i, (aid, m, remote) in enumerate(new_rows, start=1):
        conn.execute(
            "INSERT INTO artifacts (id, kind, name, version, created_at, run_id, command, synced, remote)"
            " VALUES (?,?,?,?,?,?,?,1,?)",
            (
                aid,
                kind,
                name,
                -(10**9) - i,
                m["created_at"],
                m.get("run_id"),
                m.get("command"),
                remote,
            ),
        )
        conn.executemany(
            "INSERT INTO files (artifact_id, path, hash, size) VALUES (?,?,?,?)",
            [(aid, p, e["hash"], int(e["size"])) for p, e in m["files"].items()],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO lineage (parent_id, child_id) VALUES (?,?)",
            [(pid, aid) for pid in m.get("parents") or []],
        )


def _host() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return "unknown"
