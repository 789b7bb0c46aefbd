"""The closed loop: `mlops run`, `mlops retrain` and `mlops demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mlops.cli.output import emit, err, out, progress
from mlops.cli.push_opts import PUSH_OPTION, REMOTE_OPTION, push_after, wants_push
from mlops.cli.state import state_of


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("retrain")(retrain)
    app.command("demo")(demo)


def run(
    ctx: typer.Context,
    stages: list[str] | None = typer.Argument(
        None,
        help="Stages to bring up to date (with the stages before them); default: all declared.",
    ),
    force: bool = typer.Option(False, "--force", "-f", help="Rerun stages even when cached."),
    no_promote: bool = typer.Option(
        False, "--no-promote", help="Evaluate without moving any alias (e.g. on pull requests)."
    ),
    push: bool | None = PUSH_OPTION,
    remote: str | None = REMOTE_OPTION,
) -> None:
    """Run the lifecycle in mlops.yaml (validate, train, evaluate, package), skipping stages
    whose inputs match an earlier successful run; stop at the first failure with its exit code.

    With --push, a run that passed pushes what it made and its alias move."""
    from mlops.lifecycle.loop import run_pipeline
    from mlops.report.pipeline_console import pipeline_result

    state = state_of(ctx)
    config = state.require_config()
    if no_promote:
        config.model.pipeline.promote = None
    store = state.store()
    with progress(state) as say:
        result = run_pipeline(
            config, store, stages=stages, force=force, command=state.command_line, progress=say
        )
    data = result.to_dict()
    code = result.exit_code
    if not code and wants_push(state, push):
        data["push"], code = push_after(state, _run_refs(result), _run_move(result), remote)
    emit(state, data, lambda: pipeline_result(out(), data))
    if code:
        raise typer.Exit(code)


def _run_refs(result: Any) -> list[str]:
    """Every artifact the run's stages made or reused (their lineage goes with them)."""
    refs = []
    for stage in result.stages:
        for key in ("dataset", "report", "model", "evaluation", "package"):
            value = stage.outputs.get(key)
            if isinstance(value, str) and value not in refs:
                refs.append(value)
    return refs


def _run_move(result: Any) -> Any:
    """The alias move the run's evaluate stage made, or None."""
    from mlops.remote.autopush import Move

    stages = {s.name: s.outputs for s in result.stages}
    evaluated, trained = stages.get("evaluate", {}), stages.get("train", {})
    model = evaluated.get("model") or trained.get("model")
    if not (evaluated.get("promoted") and evaluated.get("alias") and model):
        return None
    name = str(trained.get("model_label", "")).rsplit(":", 1)[0]
    return Move("model", name, evaluated["alias"], model) if name else None


def retrain(
    ctx: typer.Context,
    data: list[str] | None = typer.Argument(
        None, help="The current batch (files or globs; default: data.current in mlops.yaml)."
    ),
    force: bool = typer.Option(False, "--force", "-f", help="Retrain even if nothing triggers."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Say what would happen; train and promote nothing."
    ),
    wait: bool | None = typer.Option(
        None,
        "--wait/--no-wait",
        help="Wait for another retrain on this store (default: retrain.wait, else exit).",
    ),
    latest_report: bool = typer.Option(
        False,
        "--latest-report",
        help="Decide from the latest stored monitoring report instead of monitoring now.",
    ),
    push: bool | None = PUSH_OPTION,
    remote: str | None = REMOTE_OPTION,
) -> None:
    """Close the loop: monitor, and when the retrain policy triggers, train a candidate on the
    declared training set, compare it with the champion on recent held-out rows, and promote it
    or keep the champion (exit 1 with the reason)."""
    from mlops.lifecycle.loop import retrain as run_retrain
    from mlops.report.pipeline_console import retrain_result

    state = state_of(ctx)
    config = state.require_config()
    store = state.store()
    with progress(state) as say:
        result = run_retrain(
            config,
            store,
            data=data,
            force=force,
            dry_run=dry_run,
            wait=wait,
            latest_report=latest_report,
            command=state.command_line,
            progress=say,
        )
    payload = result.to_dict()
    code = result.exit_code
    if not dry_run and wants_push(state, push):
        payload["push"], push_code = push_after(
            state, _retrain_refs(result), _retrain_move(result), remote
        )
        code = code or push_code
    emit(state, payload, lambda: retrain_result(out(), payload))
    if code:
        raise typer.Exit(code)


def _retrain_refs(result: Any) -> list[str]:
    """What a retrain made: its record (whose lineage holds the monitoring report, champion and
    candidate) and the candidate."""
    refs = [result.record_id, (result.candidate or {}).get("id")]
    return [r for r in refs if r]


def _retrain_move(result: Any) -> Any:
    from mlops.remote.autopush import Move

    move = result.alias_move
    if move is None:
        return None
    return Move(move["kind"], move["name"], move["alias"], move["to_id"])


def demo(
    ctx: typer.Context,
    directory: Path | None = typer.Argument(
        None, help="Where to lay out the churn example (default: ./mlops-demo)."
    ),
    temp: bool = typer.Option(False, "--temp", help="Use a fresh temporary directory."),
    force: bool = typer.Option(False, "--force", help="Overwrite the example in a non-empty DIR."),
) -> None:
    """Lay out the churn example and run the whole loop: run, monitor each month, retrain when
    drift says so, promote or refuse; prints the story and where the HTML reports are."""
    import tempfile

    from mlops.lifecycle.loop import run_demo
    from mlops.report.monitor_html import write_monitor_html
    from mlops.report.pipeline_console import demo_story

    state = state_of(ctx)
    if temp:
        directory = Path(tempfile.mkdtemp(prefix="mlops-demo-"))
    elif directory is None:
        directory = Path("mlops-demo")
    say = (
        (lambda _m: None)
        if state.json or state.quiet
        else (lambda m: err().print(f"[dim]{m}[/dim]"))
    )
    result = run_demo(directory, write_monitor_html, force=force, progress=say)
    data = result.to_dict()
    emit(state, data, lambda: demo_story(out(), data))
    code = int(data["run"]["exit_code"])
    if code:
        raise typer.Exit(code)
