"""`mlops train` and the run tracker: `mlops runs ls|show|compare`."""

from __future__ import annotations

import typer

from mlops.cli.engine_opts import engine_for, engine_option, scheduler_option, store_data_option
from mlops.cli.gc_tuning import batch_gc
from mlops.cli.output import emit, out, progress
from mlops.cli.state import state_of

runs_app = typer.Typer(
    help="Tracked runs: list, show, compare params and metrics.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.add_typer(runs_app, name="runs")


def train(
    ctx: typer.Context,
    engine: str | None = engine_option(),
    scheduler: str | None = scheduler_option(),
    store_data: bool = store_data_option(),
) -> None:
    """Fit the pipeline in mlops.yaml, score the holdout, record a run and store the model."""
    with batch_gc():  # from the first import of pandas and scikit-learn on
        from mlops.lifecycle.train import train as run_train
        from mlops.report.train_console import train_result

        state = state_of(ctx)
        config = state.require_config()
        store = state.store()
        with engine_for(state, config, engine, scheduler) as eng, progress(state) as say:
            result = run_train(
                config, store, state.command_line, say, engine=eng, store_data=store_data
            )
        data = result.to_dict()
        emit(state, data, lambda: train_result(out(), data))


@runs_app.command("ls")
def runs_ls(
    ctx: typer.Context,
    step: str | None = typer.Option(
        None, "--step", help="Only runs of this step (train, evaluate, ...)."
    ),
    limit: int = typer.Option(20, "--limit", "-n", help="At most this many runs, newest first."),
) -> None:
    """List runs, newest first."""
    from mlops.report.train_console import runs_table

    state = state_of(ctx)
    runs = state.store(create=False).list_runs(step=step, limit=limit)
    emit(state, {"runs": runs}, lambda: runs_table(out(), runs, state.table_format()))


@runs_app.command("show")
def runs_show(
    ctx: typer.Context, run: str = typer.Argument(..., help="Run id or unique prefix.")
) -> None:
    """Show one run: params, metrics, artifacts, packages, git commit."""
    from mlops.report.train_console import run_detail

    state = state_of(ctx)
    r = state.store(create=False).get_run(run)
    emit(state, r, lambda: run_detail(out(), r))


@runs_app.command("compare")
def runs_compare(
    ctx: typer.Context,
    runs: list[str] = typer.Argument(..., help="Two or more run ids (or unique prefixes)."),
) -> None:
    """Params and metrics of runs side by side; differences are marked."""
    from mlops.errors import UsageError
    from mlops.lifecycle.evaluate import compare_runs
    from mlops.report.train_console import runs_compare as render

    state = state_of(ctx)
    if len(runs) < 2:
        raise UsageError("compare needs at least two runs", hint="mlops runs compare RUN RUN ...")
    store = state.store(create=False)
    data = compare_runs([store.get_run(r) for r in runs])
    emit(state, data, lambda: render(out(), data))
