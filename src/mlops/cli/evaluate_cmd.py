"""`mlops evaluate`: the gate."""

from __future__ import annotations

from pathlib import Path

import typer

from mlops.cli.output import emit, junit_on_error, out, print_warnings, progress
from mlops.cli.state import state_of


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)


def evaluate(
    ctx: typer.Context,
    model: str | None = typer.Argument(
        None, help="Model ref: NAME, NAME:VERSION, NAME@ALIAS or id (default: latest of project)."
    ),
    data: list[Path] | None = typer.Option(
        None,
        "--data",
        "-d",
        help="Labelled test data to score (default: data.test or the stored holdout).",
    ),
    promote: str | None = typer.Option(
        None, "--promote", help="Move this alias to the model when every rule passes."
    ),
    junit: Path | None = typer.Option(
        None, "--junit", help="Also write the verdicts as JUnit XML."
    ),
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
        )
    print_warnings(state, result.warnings)
    payload = result.to_dict()
    if junit is not None:
        from mlops.atomic import write_report
        from mlops.report.junit import gate_junit

        write_report(junit, gate_junit(payload))
    emit(state, payload, lambda: evaluation(out(), result))
    if not result.passed:
        ctx.exit(int(ExitCode.CHECK_FAILED))
