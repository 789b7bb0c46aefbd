"""The closed loop: `mlops run`, `mlops retrain` and `mlops demo`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from mlops.cli.output import emit, err, out
from mlops.cli.state import State, state_of


def register(app: typer.Typer) -> None:
    app.command("run")(run)


@contextmanager
def _progress(state: State) -> Iterator[Any]:
    console = err()
    if state.json or state.quiet or not console.is_terminal:
        yield lambda _msg: None
        return
    with console.status("starting") as status:
        yield lambda msg: status.update(msg)


def run(
    ctx: typer.Context,
    stages: list[str] | None = typer.Argument(
        None,
        help="Stages to bring up to date (with the stages before them); default: all declared.",
    ),
    force: bool = typer.Option(False, "--force", "-f", help="Rerun stages even when cached."),
) -> None:
    """Run the lifecycle in mlops.yaml (validate, train, evaluate, package), skipping stages
    whose inputs match an earlier successful run; stop at the first failure with its exit code."""
    from mlops.lifecycle.pipeline import run_pipeline
    from mlops.report.pipeline_console import pipeline_result

    state = state_of(ctx)
    config = state.require_config()
    store = state.store()
    with _progress(state) as say:
        result = run_pipeline(
            config, store, stages=stages, force=force, command=state.command_line, progress=say
        )
    data = result.to_dict()
    emit(state, data, lambda: pipeline_result(out(), data))
    if result.exit_code:
        ctx.exit(result.exit_code)
