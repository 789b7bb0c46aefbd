"""`mlops validate`: schema checks (and `--infer` to write a schema)."""

from __future__ import annotations

from pathlib import Path

import typer

from mlops.cli.engine_opts import engine_for, engine_option, scheduler_option, store_data_option
from mlops.cli.output import emit, info, junit_on_error, out, progress
from mlops.cli.state import state_of


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def validate(
    ctx: typer.Context,
    data: list[str] = typer.Argument(
        None, help="CSV/Parquet files, directories or globs (default: data.train and data.test)."
    ),
    schema: Path | None = typer.Option(
        None, "--schema", help="Schema YAML file (default: `schema:` in mlops.yaml)."
    ),
    infer: bool = typer.Option(
        False, "--infer", help="Infer a schema from DATA instead of validating."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="With --infer: write the schema here (default: stdout)."
    ),
    junit: Path | None = typer.Option(
        None, "--junit", help="Write a JUnit XML report (one test case per check)."
    ),
    html: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report."),
    all_checks: bool = typer.Option(False, "--all", help="List passing checks too."),
    no_record: bool = typer.Option(
        False, "--no-record", help="Do not record the dataset and report in the store."
    ),
    engine: str | None = engine_option(),
    scheduler: str | None = scheduler_option(),
    store_data: bool = store_data_option(),
) -> None:
    """Check data against the schema; exit 1 if any check fails, 2 if the data cannot be read."""
    # long: the Typer options are the signature; the body calls the library and renders
    from mlops.atomic import write_report
    from mlops.lifecycle import validate as step

    state = state_of(ctx)
    if infer:
        if not data:
            raise typer.BadParameter("--infer needs DATA to infer from", param_hint="DATA")
        with progress(state) as say:
            say("inferring a schema")
            inferred = step.infer(state.config(required=False), list(data))
        text = inferred.yaml()
        if output is not None:
            write_report(output, text.encode())
            info(state, f"inferred a schema from {inferred.n_rows:,} rows; wrote {output}")
            emit(state, {**inferred.to_dict(), "output": str(output)})
        elif state.json:
            emit(state, inferred.to_dict())
        else:
            typer.echo(text, nl=False)
        return

    with junit_on_error(junit, "mlops.validate"):
        config = state.require_config()
        store = None if no_record else state.store()
        with engine_for(state, config, engine, scheduler) as eng, progress(state) as say:
            say("validating")
            result = step.validate(
                config,
                store,
                list(data or []),
                schema_path=schema,
                command=state.command_line,
                engine=eng,
                store_data=store_data,
            )
    if junit is not None:
        from mlops.report.junit import validation_junit

        write_report(junit, validation_junit(result.report))
    if html is not None:
        from mlops.report.validate_html import report_to_html

        write_report(html, report_to_html(result.report).encode())

    def human() -> None:
        from mlops.report.validate_console import render

        render(out(), result, show_passing=all_checks)

    emit(state, result.to_dict(), human)
    raise typer.Exit(result.exit_code)
