"""The push that follows a local step (`--push`, or `remote.auto_push: true` in mlops.yaml):
`models promote`, `evaluate --promote` and `retrain` send the new model and the alias move to
the remote once they succeeded locally (docs/remote.md, "Automatic push").

Two outcomes are kept apart. A push that fails (remote unreachable, credentials refused) does
not undo the local step: it is a warning naming the command that finishes the job. A move the
remote refuses (another machine moved the alias first) means the promotion did not happen
across machines: the remote's holder is fetched back, so this store agrees with the remote
again, and the caller exits 1 with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlops.errors import MlopsError
from mlops.jsonable import fields_dict
from mlops.remote.fetch import fetch
from mlops.remote.push import PushResult, push
from mlops.remote.site import Site
from mlops.store.store import Store


@dataclass
class Move:
    """A local alias move whose fate on the remote the caller wants to know."""

    kind: str
    name: str
    alias: str
    to_id: str


@dataclass
class AutoPush:
    remote: str | None
    ok: bool
    command: str
    error: str | None = None
    refused: str | None = None  # why the remote refused this step's alias move
    pushed: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


def push_after_step(
    store: Store,
    open_site: Callable[[], Site],
    refs: Sequence[str],
    move: Move | None = None,
    remote_name: str | None = None,
) -> AutoPush:
    """Push refs (and their ancestors, runs and pending alias moves) after a local step.

    Args:
        store: the local store the step wrote.
        open_site: opens the remote (called here, so that an unreachable remote is reported).
        refs: the artifacts the step made or moved an alias to.
        move: the step's alias move, whose acceptance on the remote decides `refused`.
        remote_name: the --remote given, for the command printed to finish by hand.

    Returns:
        ok False with `error` when the push failed (the local step stands); `refused` when the
        remote took another machine's move first (the remote's holder is fetched back).
    """
    command = "mlops push" + (f" --remote {remote_name}" if remote_name else "")
    try:
        site = open_site()
        result: PushResult = push(store, site, refs)
    except MlopsError as e:
        return AutoPush(remote_name, False, command, error=e.message)
    done = AutoPush(site.remote.name, True, command, pushed=result.to_dict())
    if move is not None and not _accepted(store, move):
        conflict = next(
            (c for c in result.conflicts if (c.kind, c.name, c.alias) == _key(move)), None
        )
        fetch(store, site)  # undo the local move: take the remote's holder (and its artifact)
        done.refused = (
            conflict.reason()
            if conflict is not None
            else f"@{move.alias} of {move.name} was moved on the remote by another machine"
        )
    return done


def _key(move: Move) -> tuple[str, str, str]:
    return move.kind, move.name, move.alias


def _accepted(store: Store, move: Move) -> bool:
    """Whether the latest local move of the alias to move.to_id is on the remote."""
    row = store.conn.execute(
        "SELECT remote_seq FROM alias_events WHERE kind = ? AND name = ? AND alias = ?"
        " AND to_id = ? ORDER BY seq DESC LIMIT 1",
        (*_key(move), move.to_id),
    ).fetchone()
    return row is not None and (row["remote_seq"] or 0) > 0
