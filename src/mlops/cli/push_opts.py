"""Options and helpers shared by the commands that can push after they succeed (evaluate
--promote, retrain, models promote) and by the remote commands: kept out of remote_cmds so
that loading one command does not load another's module."""

from __future__ import annotations

from typing import Any

import typer

from mlops.cli.output import info
from mlops.cli.state import State


def remote_section(state: State) -> Any:
    """mlops.yaml's remote: section (None without a config)."""
    config = state.config(required=False)
    return config.model.remote if config is not None else None


PUSH_OPTION = typer.Option(
    None,
    "--push/--no-push",
    help="After success, push the new model and alias move to the remote "
    "(default: remote.auto_push in mlops.yaml).",
)
REMOTE_OPTION = typer.Option(
    None, "--remote", "-r", help="Remote for --push (default: the default)."
)


def wants_push(state: State, flag: bool | None) -> bool:
    """--push/--no-push, else remote.auto_push in mlops.yaml."""
    if flag is not None:
        return flag
    section = remote_section(state)
    return bool(section is not None and section.auto_push)


def push_after(
    state: State, refs: list[str], move: Any = None, remote: str | None = None
) -> tuple[dict[str, Any], int]:
    """Push after a successful local step: (its JSON part, exit code). A failed push is a
    warning with the command that finishes it (exit 0: the local step stands); a move the
    remote refused exits 1 (docs/remote.md, "Automatic push")."""
    from mlops.cli.output import error_line, warn
    from mlops.remote import open_site
    from mlops.remote.autopush import push_after_step

    store = state.store()
    done = push_after_step(
        store, lambda: open_site(store.root, remote, remote_section(state)), refs, move, remote
    )
    if not done.ok:
        warn(f"the step succeeded here but the push failed: {done.error}; run `{done.command}`")
        return done.to_dict(), 0
    if done.refused:
        error_line(
            done.refused,
            "this store now follows the remote's holder; decide again (e.g. evaluate --promote)",
        )
        return done.to_dict(), 1
    info(state, f"pushed to {done.remote}")
    return done.to_dict(), 0
