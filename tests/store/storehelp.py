"""Helpers for store tests that run real processes against this tree's `mlops`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child processes that must import this tree's `mlops`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("MLOPS_STORE", None)
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mlops", *args],
        cwd=cwd,
        env=subprocess_env(**env),
        capture_output=True,
        timeout=120,
    )


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
