"""`mlops monitor [DATA...]` and `mlops monitor history`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

from mlops.cli.engine_opts import engine_for, engine_option, scheduler_option, store_data_option
from mlops.cli.output import emit, err, out, progress, warn
from mlops.cli.state import state_of

if TYPE_CHECKING:
    from typer._click import Context as ClickContext  # TyperGroup's context type

    from mlops.lifecycle.monitor import MonitorResult


class _DefaultGroup(TyperGroup):
    """`mlops monitor DATA...` means `mlops monitor run DATA...`; `history` is the other command."""

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        # `mlops monitor --help` shows the options of `monitor run` (what people type)
        if not args or args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


monitor_app = typer.Typer(
    cls=_DefaultGroup,
    help="Compare a batch with the model's reference: drift, data quality, predictions, "
    "performance; alert, and exit 1 at --fail-on. `mlops monitor DATA...` runs `monitor run`.",
)


def register(app: typer.Typer) -> None:
    app.add_typer(monitor_app, name="monitor")


@monitor_app.command("run")
def monitor(
    ctx: typer.Context,
    data_args: list[str] = typer.Argument(
        None, metavar="[DATA]...", help="Files, directories, globs or a prediction log."
    ),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model ref (default: PROJECT@production, else the latest)."
    ),
    labels: list[str] = typer.Option(
        [], "--labels", help="Label file(s) joined by data.id_column (default: data.labels)."
    ),
    window: str | None = typer.Option(
        None, "--window", "-w", help="Results per hour, day, week, month, or N rows."
    ),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        help="Exit 1 when an alert at or above this fires: info, warning, critical, none.",
    ),
    html: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report."),
    prometheus: Path | None = typer.Option(
        None, "--prometheus", help="Write Prometheus text metrics (node_exporter textfile)."
    ),
    notify: str | None = typer.Option(
        None, "--notify", help="POST the alerts as JSON to this webhook URL (Slack-compatible)."
    ),
    engine: str | None = engine_option(),
    scheduler: str | None = scheduler_option(),
    store_data: bool = store_data_option(),
) -> None:
    """Monitor DATA (files, directories, globs or the prediction log; default: data.current):
    drift, data quality, predictions and performance against the model's reference; alert, and
    exit 1 at --fail-on. `mlops monitor DATA...` is `mlops monitor run DATA...`; the trend of
    past runs is `mlops monitor history`."""
    # long: the Typer options are the signature; the body calls the library and renders
    from mlops.errors import UsageError
    from mlops.lifecycle.monitor import history
    from mlops.lifecycle.monitor import monitor as run_monitor
    from mlops.report.monitor_console import monitor_result

    if fail_on is not None and fail_on not in ("info", "warning", "critical", "none"):
        raise UsageError(
            f"--fail-on {fail_on!r} is not one of info, warning, critical, none",
        )
    state = state_of(ctx)
    config = state.require_config()
    store = state.store()
    mc = config.model.monitor
    with engine_for(state, config, engine, scheduler) as eng, progress(state) as say:
        result = run_monitor(
            config,
            store,
            data_args or None,
            model=model,
            labels=labels or None,
            window=window,
            fail_on=fail_on,
            notify_url=notify,
            command=_redacted_command(state.command_line, notify),
            progress=say,
            engine=eng,
            store_data=store_data,
        )
    data = result.to_dict()
    if result.notify and not result.notify.get("ok"):
        stored = f"; the report is stored as {result.report_id[:12]}" if result.report_id else ""
        warn(
            f"the webhook post failed after {result.notify['attempts']} attempt(s): "
            f"{result.notify.get('error')}{stored}"
        )
    html_path = html or (config.resolve_path(mc.html) if mc.html else None)
    prom_path = prometheus or (config.resolve_path(mc.prometheus) if mc.prometheus else None)
    _write_reports(result, data, html_path, prom_path, lambda: history(store, result.model["name"]))
    emit(state, data, lambda: monitor_result(out(), result))
    if not state.json and not state.quiet:
        for key in ("html", "prometheus"):
            if key in data:
                err().print(f"[dim]wrote {data[key]}[/dim]")
    if result.exit_code:
        # SystemExit passes the top-level error handler unchanged (typer's Exit would not)
        sys.exit(result.exit_code)


def _write_reports(
    result: MonitorResult,
    data: dict,
    html: Path | None,
    prometheus: Path | None,
    past: Callable[[], list[dict]],
) -> None:
    """Write the HTML report (with the monitoring history) and the Prometheus text file that
    were asked for; note their paths in data (the --json document)."""
    if html is not None:
        from mlops.report.monitor_html import write_monitor_html

        write_monitor_html(html, result, past())
        data["html"] = str(html)
    if prometheus is not None:
        from mlops.report.monitor_prometheus import write_prometheus

        write_prometheus(prometheus, result)
        data["prometheus"] = str(prometheus)


@monitor_app.command("history")
def monitor_history(
    ctx: typer.Context,
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model name (default: the project)."
    ),
    limit: int = typer.Option(30, "--limit", "-n", help="At most this many runs, newest last."),
) -> None:
    """The trend of past monitor runs: drift, alerts and performance per run."""
    from mlops.lifecycle.monitor import history
    from mlops.report.monitor_console import history_table

    state = state_of(ctx)
    config = state.config(required=False)
    name = (
        model.split("@")[0].split(":")[0] if model else (config.model.project if config else None)
    )
    rows = history(state.store(create=False), name, limit)
    emit(state, {"runs": rows}, lambda: history_table(out(), rows, state.table_format()))


def _redacted_command(command: str, notify: str | None) -> str:
    """The command line as stored with the run: the --notify URL redacted."""
    if not notify:
        return command
    from mlops.lifecycle.monitor.notify import scrub

    return scrub(command, notify)
