"""The model registry on top of the store: names, versions, aliases and their history.

Models are `model` artifacts named after the project; `NAME:VERSION` and `NAME@ALIAS` resolve
through the store. Alias moves are compare-and-swap on the holder seen before the move, and
every move is in the append-only alias history (when, who, why, from, to).

Rollback moves an alias back to the holder before the current one: the history is replayed as
a stack (a promotion pushes, a rollback pops), so v1 -> v2 -> v3, rollback, rollback gives v1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError, NotFoundError
from mlops.jsonable import fields_dict
from mlops.lifecycle.model_io import MODEL_KIND

if TYPE_CHECKING:
    from mlops.store import Store
    from mlops.store.artifact import Artifact

ROLLBACK_PREFIX = "rollback"


def version_summary(art: Artifact) -> dict[str, Any]:
    meta = art.metadata
    return {
        "id": art.id,
        "name": art.name,
        "version": art.version,
        "label": art.label,
        "created_at": art.created_at,
        "aliases": list(art.aliases),
        "task": meta.get("task"),
        "estimator": meta.get("estimator"),
        "metrics": meta.get("metrics") or {},
        "run_id": art.run_id or meta.get("run_id"),
    }


def list_models(store: Store) -> list[dict[str, Any]]:
    """Every model name in the store: its number of versions, latest version, update time and
    aliases (alias -> id and version)."""
    by_name: dict[str, list[Any]] = {}
    for row in store.list_rows(kind=MODEL_KIND):
        by_name.setdefault(row["name"], []).append(row)
    out = []
    for name, rows in sorted(by_name.items()):
        latest = max(rows, key=lambda r: r["version"])
        aliases = store.aliases(MODEL_KIND, name)
        versions = {r["id"]: r["version"] for r in rows}
        out.append(
            {
                "name": name,
                "versions": len(rows),
                "latest": {"version": latest["version"], "id": latest["id"]},
                "updated_at": latest["created_at"],
                "aliases": {
                    a: {"id": i, "version": versions.get(i)} for a, i in sorted(aliases.items())
                },
            }
        )
    return out


def model_versions(store: Store, name: str) -> list[dict[str, Any]]:
    arts = store.list_artifacts(kind=MODEL_KIND, name=name)
    if not arts:
        raise NotFoundError(f"no model named {name!r}", hint="list models with `mlops models ls`")
    return [version_summary(a) for a in sorted(arts, key=lambda a: a.version)]


@dataclass
class AliasMove:
    name: str
    alias: str
    to: dict[str, Any]
    previous: dict[str, Any] | None
    moved: bool
    why: str
    who: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


def _label(store: Store, artifact_id: str | None) -> dict[str, Any] | None:
    if artifact_id is None:
        return None
    try:
        art = store.get(artifact_id)
    except NotFoundError:
        return {"id": artifact_id, "label": artifact_id[:12]}
    return {"id": art.id, "label": art.label, "version": art.version}


def promote(
    store: Store,
    name: str,
    version: str,
    alias: str,
    why: str | None = None,
    who: str | None = None,
) -> AliasMove:
    """Point NAME@ALIAS at NAME:VERSION: a manual move, without the gate.

    Args:
        store: the store.
        name: the model name.
        version: a version number (or any reference to a version of that model).
        alias: the alias to move.
        why: the reason recorded in the history.
        who: recorded in the history (default: $MLOPS_USER or the login name).

    Returns:
        The move: from and to (labels), whether it moved, the reason and who.

    Raises:
        NotFoundError: no such model or version.
        InputError: the reference is not a version of that model.
    """
    ref = version if (":" in version or "@" in version) else f"{name}:{version}"
    art = store.resolve(ref, kind=MODEL_KIND)
    if art.kind != MODEL_KIND or art.name != name:
        raise InputError(f"{ref!r} is not a version of model {name!r}")
    current = store.get_alias(MODEL_KIND, name, alias)
    reason = why or "manual promotion"
    if reason.lower().startswith(ROLLBACK_PREFIX):
        reason = "promotion: " + reason
    if current == art.id:
        return AliasMove(
            name,
            alias,
            _label(store, art.id) or {},
            _label(store, current),
            False,
            f"{art.label} already holds @{alias}",
            who,
        )
    store.set_alias(art, alias, why=reason, who=who, expect_from=current)
    return AliasMove(
        name, alias, _label(store, art.id) or {}, _label(store, current), True, reason, who
    )


def holder_stack(store: Store, name: str, alias: str) -> list[str]:
    """The alias's holders as a stack: promotions push, rollbacks pop."""
    stack: list[str] = []
    for ev in store.alias_history(kind=MODEL_KIND, name=name, alias=alias):
        if (ev.get("why") or "").startswith(ROLLBACK_PREFIX) and stack:
            stack.pop()
            if not stack or stack[-1] != ev["to_id"]:
                stack.append(ev["to_id"])
        else:
            stack.append(ev["to_id"])
    return stack


def rollback(
    store: Store, name: str, alias: str, why: str | None = None, who: str | None = None
) -> AliasMove:
    """Move NAME@ALIAS back to the holder before the current one (the history is a stack:
    each promotion pushes, each rollback pops).

    Args:
        store: the store.
        name: the model name.
        alias: the alias to move back.
        why: the reason recorded in the history.
        who: recorded in the history (default: $MLOPS_USER or the login name).

    Returns:
        The move.

    Raises:
        NotFoundError: no model of that name holds the alias.
        InputError: the alias has no earlier holder.
    """
    current = store.get_alias(MODEL_KIND, name, alias)
    if current is None:
        raise NotFoundError(
            f"no model {name!r} holds @{alias}", hint=f"see `mlops models history {name}`"
        )
    stack = holder_stack(store, name, alias)
    while len(stack) >= 2 and stack[-1] == stack[-2]:
        stack.pop()
    if len(stack) < 2 or stack[-1] != current:
        raise InputError(
            f"@{alias} of {name!r} has no previous holder to roll back to",
            hint=f"move it with `mlops models promote {name} VERSION --alias {alias}`",
        )
    target = store.get(stack[-2])
    reason = f"{ROLLBACK_PREFIX}: " + (why or f"back from {_label(store, current)['label']}")  # type: ignore[index]
    store.set_alias(target, alias, why=reason, who=who, expect_from=current)
    return AliasMove(
        name, alias, _label(store, target.id) or {}, _label(store, current), True, reason, who
    )


def history(store: Store, name: str, alias: str | None = None) -> list[dict[str, Any]]:
    """Every alias move of a model, oldest first: at, alias, from, to (labels), who and why.

    Args:
        store: the store.
        name: the model name.
        alias: only the moves of this alias.

    Raises:
        NotFoundError: no model of that name.
    """
    events = store.alias_history(kind=MODEL_KIND, name=name, alias=alias)
    if not events and not store.list_rows(kind=MODEL_KIND, name=name):
        raise NotFoundError(f"no model named {name!r}", hint="list models with `mlops models ls`")
    labels: dict[str, dict[str, Any] | None] = {}

    def lab(i: str | None) -> dict[str, Any] | None:
        if i is None:
            return None
        if i not in labels:
            labels[i] = _label(store, i)
        return labels[i]

    return [
        {
            "at": ev["at"],
            "alias": ev["alias"],
            "from": lab(ev["from_id"]),
            "to": lab(ev["to_id"]),
            "who": ev["who"],
            "why": ev["why"],
        }
        for ev in events
    ]


def compare_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Params and metrics side by side; `differs` marks keys whose values are not all equal."""

    def table(section: str) -> list[dict[str, Any]]:
        keys = sorted({k for r in runs for k in r.get(section, {})})
        rows = []
        for k in keys:
            vals = [r.get(section, {}).get(k) for r in runs]
            rows.append({"key": k, "values": vals, "differs": len({repr(v) for v in vals}) > 1})
        return rows

    return {
        "runs": [
            {
                "id": r["id"],
                "step": r["step"],
                "name": r.get("name"),
                "status": r["status"],
                "started_at": r["started_at"],
                "duration_s": r.get("duration_s"),
            }
            for r in runs
        ],
        "params": table("params"),
        "metrics": table("metrics"),
    }
