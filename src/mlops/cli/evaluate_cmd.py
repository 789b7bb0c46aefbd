"""`mlops evaluate`: the gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mlops.cli.engine_opts import store_data_option
from mlops.cli.output import emit, junit_on_error, out, print_warnings, progress
from mlops.cli.push_opts import PUSH_OPTION, REMOTE_OPTION, push_after, wants_push
from mlops.cli.state import state_of


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)


def evaluate(
    ctx: typer.Context,
    model: str | None = typer.Argument(
        None, help="Model ref: NAME, NAME:VERSION, NAME@ALIAS or id (default: latest of project)."
    ),
    data: list[str] | None = typer.Option(
        None,
        "--data",
        "-d",
        help="Labelled test data to score: files, globs, s3:// gs:// az:// https:// URLs "
        "(default: data.test or the stored holdout).",
    ),
    promote: str | None = typer.Option(
        None, "--promote", help="Move this alias to the model when every rule passes."
    ),
    junit: Path | None = typer.Option(
        None, "--junit", help="Also write the verdicts as JUnit XML."
    ),
    push: bool | None = PUSH_OPTION,
    remote: str | None = REMOTE_OPTION,
    store_data: bool = store_data_option(),
) -> None:
    """Score a model and apply the gate rules in mlops.yaml; exit 1 when a rule fails."""
    from mlops.errors import ExitCode
    from mlops.lifecycle.evaluate import evaluate as run_evaluate
    from mlops.report.evaluate_console import evaluation

    state = state_of(ctx)
    with junit_on_error(junit, "mlops.gate"), progress(state) as say:
        config = state.require_config()
        say("scoring")
        result = run_evaluate(
            config,
            state.store(),
            model_ref=model,
            data=list(data) if data else None,
            promote=promote,
            command=state.command_line,
            store_data=store_data,
        )
    print_warnings(state, result.warnings)
    payload = result.to_dict()
    push_code = 0
    if result.passed and wants_push(state, push):
        payload["push"], push_code = push_after(
            state, [result.model["id"]], _own_move(result, promote), remote
        )
    if junit is not None:
        from mlops.atomic import write_report
        from mlops.report.junit import gate_junit

        write_report(junit, gate_junit(payload))
    emit(state, payload, lambda: evaluation(out(), result))
    if not result.passed or push_code:
        ctx.exit(int(ExitCode.CHECK_FAILED))


def _own_move(result: Any, alias: str | None) -> Any:
    """The alias move evaluate made (for push_after), or None."""
    from mlops.remote.autopush import Move

    if alias is None or not (result.promotion or {}).get("moved"):
        return None
    return Move("model", result.model["name"], alias, result.model["id"])
