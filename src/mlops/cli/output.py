"""Rendering helpers shared by commands: human output with rich, --json on stdout, errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from mlops.cli.state import State

if TYPE_CHECKING:  # rich.console costs ~50 ms to import: only commands that print pay for it
    from rich.console import Console

_out: Console | None = None
_err: Console | None = None


def out() -> Console:
    global _out
    if _out is None:
        from mlops.report.sanitise import SafeConsole

        _out = SafeConsole(highlight=False)
    return _out


def err() -> Console:
    global _err
    if _err is None:
        from mlops.report.sanitise import SafeConsole

        _err = SafeConsole(stderr=True, highlight=False)
    return _err


@contextmanager
def progress(state: State) -> Iterator[Any]:
    """On a terminal, the current stage (set through the function yielded) and a progress bar
    per long read or hash (done/total, rate, time left); silent in CI, with --json or --quiet."""
    console = err()
    if state.json or state.quiet or not console.is_terminal:
        yield lambda _msg: None
        return
    from mlops.cli.bars import progress_bars

    with progress_bars(console) as say:
        yield say


def emit_json(data: Any) -> None:
    """One JSON document: indented on a terminal, one compact line otherwise, so that
    `mlops --json ... >> log.jsonl` appends one parseable line per run."""
    indent, separators = (2, None) if sys.stdout.isatty() else (None, (",", ":"))
    text = json.dumps(
        data, indent=indent, separators=separators, sort_keys=False, default=str, allow_nan=False
    )
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def emit(state: State, data: Any, human: Any = None) -> None:
    """--json prints data; otherwise human() renders (unless --quiet)."""
    if state.json:
        emit_json(data)
    elif not state.quiet and human is not None:
        human()


def info(state: State, message: str) -> None:
    """A progress or status line for people: stderr, so stdout stays clean for pipes."""
    if not state.quiet and not state.json:
        err().print(message)


def warn(message: str) -> None:
    from rich.markup import escape

    err().print(f"[yellow]warning:[/yellow] {escape(message)}", soft_wrap=True)


def print_warnings(state: State, warnings: list[str]) -> None:
    if not state.quiet:
        for w in warnings:
            warn(w)


def error_line(message: str, hint: str | None) -> None:
    from rich.markup import escape

    console = err()
    console.print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True, highlight=False)
    if hint:
        console.print(f"[dim]hint:[/dim] {escape(hint)}", soft_wrap=True, highlight=False)


@contextmanager
def junit_on_error(path: Any, suite: str) -> Iterator[None]:
    """When the command stops with an error (exit 2, 3 or 70) and --junit PATH was given, write a
    JUnit file holding one errored case with the message, so CI shows the error; then let the
    error go on to the usual handler."""
    import time

    t0 = time.perf_counter()
    try:
        yield
    except Exception as e:
        if path is None:
            raise
        from mlops.atomic import write_report
        from mlops.errors import ExitCode, MlopsError
        from mlops.report.junit import error_junit

        if isinstance(e, MlopsError):
            message, hint, code = e.message, e.hint, int(e.exit_code)
        else:
            message, hint, code = f"{type(e).__name__}: {e}", None, int(ExitCode.INTERNAL)
        with suppress(OSError):  # an unusable JUnit path: the original error is what to report
            write_report(path, error_junit(suite, message, hint, code, time.perf_counter() - t0))
        raise
