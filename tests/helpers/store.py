"""Invariants of a store, checked by the store tests."""

from __future__ import annotations


def assert_alias_chains(store, kind: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """Every alias's history is a chain: the first move starts from nothing, each later move
    starts where the previous one ended, and the last one ends at the alias's current holder.
    Returns the number of moves checked."""
    chains: dict[tuple[str, str, str], list[dict]] = {}
    for move in store.alias_history(kind):
        chains.setdefault((move["kind"], move["name"], move["alias"]), []).append(move)
    for (k, name, alias), moves in chains.items():
        assert moves[0]["from_id"] is None, (k, name, alias, moves[0])
        for before, after in zip(moves, moves[1:], strict=False):
            assert after["from_id"] == before["to_id"], (k, name, alias, before, after)
        assert moves[-1]["to_id"] == store.get_alias(k, name, alias), (k, name, alias)
    return sum(len(m) for m in chains.values())
