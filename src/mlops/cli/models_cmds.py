"""The model registry: `mlops models ls|show|promote|rollback|history`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from mlops.cli.output import emit, out
from mlops.cli.push_opts import PUSH_OPTION, REMOTE_OPTION, push_after, wants_push
from mlops.cli.state import State, state_of

if TYPE_CHECKING:
    from mlops.lifecycle.evaluate import AliasMove

models_app = typer.Typer(help="Registered models, versions and aliases.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")


@models_app.command("ls")
def ls(ctx: typer.Context) -> None:
    """List models: versions, latest, aliases."""
    from mlops.lifecycle.evaluate import list_models
    from mlops.report.models_console import models_table

    state = state_of(ctx)
    models = list_models(state.store(create=False))
    emit(state, {"models": models}, lambda: models_table(out(), models, state.table_format()))


@models_app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., help="Model name (every version), or NAME:VERSION / NAME@ALIAS."
    ),
) -> None:
    """Show a model's versions with metrics and aliases, or one version's manifest."""
    from mlops.lifecycle.evaluate import model_versions
    from mlops.lifecycle.model_io import resolve_model
    from mlops.report.models_console import versions_table
    from mlops.report.store_console import artifact_detail

    state = state_of(ctx)
    store = state.store(create=False)
    if ":" in name or "@" in name:
        art = resolve_model(store, name)
        emit(state, art.to_dict(), lambda: artifact_detail(out(), art))
        return
    versions = model_versions(store, name)
    data = {"name": name, "aliases": store.aliases("model", name), "versions": versions}
    emit(state, data, lambda: versions_table(out(), name, versions, state.table_format()))


@models_app.command("promote")
def promote(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Model name."),
    version: str = typer.Argument(..., help="Version number (or a NAME:VERSION / id ref)."),
    alias: str = typer.Option(..., "--alias", "-a", help="Alias to move (e.g. production)."),
    why: str | None = typer.Option(None, "--why", help="Reason, kept in the alias history."),
    push: bool | None = PUSH_OPTION,
    remote: str | None = REMOTE_OPTION,
) -> None:
    """Point NAME@ALIAS at a version, without the gate (the move is recorded)."""
    from mlops.lifecycle.evaluate import promote as do_promote

    state = state_of(ctx)
    move = do_promote(state.store(), name, version, alias, why=why)
    pushed, code = None, 0
    if wants_push(state, push):
        from mlops.remote.autopush import Move

        target = str(move.to["id"])
        own = Move("model", name, alias, target) if move.moved else None
        pushed, code = push_after(state, [target], own, remote)
    _show_move(state, move, pushed)
    if code:
        ctx.exit(code)


@models_app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Model name."),
    alias: str = typer.Option(..., "--alias", "-a", help="Alias to move back."),
    why: str | None = typer.Option(None, "--why", help="Reason, kept in the alias history."),
) -> None:
    """Move NAME@ALIAS back to the version that held it before the current one."""
    from mlops.lifecycle.evaluate import rollback as do_rollback

    state = state_of(ctx)
    _show_move(state, do_rollback(state.store(), name, alias, why=why))


def _show_move(state: State, move: AliasMove, pushed: dict[str, Any] | None = None) -> None:
    from mlops.report.models_console import alias_move

    data = move.to_dict()
    if pushed is not None:
        data["push"] = pushed
    emit(state, data, lambda: alias_move(out(), data))


@models_app.command("history")
def history(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Model name."),
    alias: str | None = typer.Option(None, "--alias", "-a", help="Only this alias."),
) -> None:
    """Every alias move of a model: when, who, why, from, to."""
    from mlops.lifecycle.evaluate import history as get_history
    from mlops.report.models_console import history_table

    state = state_of(ctx)
    events = get_history(state.store(create=False), name, alias)
    emit(
        state,
        {"name": name, "events": events},
        lambda: history_table(out(), events, state.table_format()),
    )
