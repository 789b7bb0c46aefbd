"""The `mlops` command: global options and error handling.

Command modules are imported only when their command runs (`registry.py`); they import only
typer/rich at the top, and heavy libraries load inside commands.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from mlops import __version__
from mlops.cli.gc_tuning import skip_exit_collections
from mlops.cli.registry import LazyCommands
from mlops.cli.state import FORMATS, State, state_of
from mlops.errors import ExitCode, MlopsError, environment_error

if TYPE_CHECKING:
    # The context TyperGroup's methods receive: click's, which recent typer vendors.
    from typer._click import Context as ClickContext
    from typer._click import HelpFormatter

_FLAGS = {"--json", "--quiet", "-q", "--debug"}
_VALUED = {"--config", "--store", "--format"}


def hoist_global_options(args: list[str]) -> list[str]:
    """Let global options appear anywhere (`mlops validate --json`): move them to the front."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i:])
            break
        if a in _FLAGS:
            front.append(a)
        elif a in _VALUED and i + 1 < len(args):
            front.extend(args[i : i + 2])
            i += 1
        elif a.split("=", 1)[0] in _VALUED and "=" in a:
            front.append(a)
        else:
            rest.append(a)
        i += 1
    return front + rest


class MlopsGroup(TyperGroup):
    """Top-level group: maps every MlopsError to its exit code and one line on stderr, and loads
    each command's module only when that command is looked up."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = self._lazy = LazyCommands(self.commands)

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: ClickContext, formatter: HelpFormatter) -> None:
        """The command list of `mlops --help`, each short help from the registry (no imports)."""
        listed = [(name, self._lazy.listed(name)) for name in self.list_commands(ctx)]
        listed = [(name, cmd) for name, cmd in listed if not cmd.hidden]
        if listed:
            limit = formatter.width - 6 - max(len(name) for name, _ in listed)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in listed])

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        args = hoist_global_options(list(args))
        # known before any callback runs, so that usage errors can answer in JSON too
        front = args[: args.index("--") if "--" in args else None]
        ctx.meta[_JSON_KEY] = (
            "--json" in front
            or "--format=json" in front
            or ("--format" in front and front[front.index("--format") + 1 :][:1] == ["json"])
        )
        try:
            return super().parse_args(ctx, args)
        except _usage_errors() as e:
            _json_usage_error(ctx, e)
            raise

    def get_command(self, ctx: ClickContext, cmd_name: str) -> Any:
        from mlops.cli.helptext import plain_help

        command = super().get_command(ctx, cmd_name)
        if command is not None:
            plain_help(command, cmd_name)
        return command

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except MlopsError as e:
            if _debug(ctx):
                traceback.print_exc()
            _report(ctx, e.message, e.hint, int(e.exit_code))
        except _usage_errors() as e:
            _json_usage_error(ctx, e)
            raise  # the framework prints the usage error on stderr and exits with its code
        except _passthrough():
            raise  # --help, explicit exits: the framework reports them
        except KeyboardInterrupt:
            _report(ctx, "interrupted", None, 130)
        except BrokenPipeError:
            ctx.exit(0)
        except Exception as e:
            if _debug(ctx):
                traceback.print_exc()
            known = environment_error(e)  # a full disk, a read-only store, a damaged catalog
            if known is not None:
                _report(ctx, known.message, known.hint, int(known.exit_code))
            else:
                _report(
                    ctx,
                    f"internal error: {type(e).__name__}: {e}",
                    "this is a bug in mlops; rerun with --debug for the traceback and report it",
                    int(ExitCode.INTERNAL),
                )
        finally:
            obj = ctx.obj
            if isinstance(obj, State):
                obj.close()


_JSON_KEY = "mlops.json"


def _report(ctx: ClickContext, message: str, hint: str | None, code: int) -> None:
    """An error: one sentence (and a hint) on stderr; with --json also a document on stdout."""
    from mlops.cli.output import error_line

    error_line(message, hint)
    _json_error(ctx, message, hint, code)
    ctx.exit(code)


def _json_error(ctx: ClickContext, message: str, hint: str | None, code: int) -> None:
    if ctx.meta.get(_JSON_KEY):
        from mlops.cli.output import emit_json

        emit_json({"error": message, "hint": hint, "exit_code": code})


def _json_usage_error(ctx: ClickContext, e: BaseException) -> None:
    format_message = getattr(e, "format_message", None)
    message = format_message() if callable(format_message) else str(e)
    _json_error(ctx, message, None, int(getattr(e, "exit_code", ExitCode.USAGE)))


def _usage_errors() -> tuple[type[BaseException], ...]:
    """The framework's usage errors (bad option, missing argument, unknown command)."""
    return tuple(k for k in _passthrough() if k.__name__ == "ClickException")


def _passthrough() -> tuple[type[BaseException], ...]:
    """The framework's own signalling exceptions (usage errors, Exit, Abort).

    Recent typer vendors click (typer._click, typer.Exit); older typer uses click itself. Only
    modules already imported are consulted, so this never imports click just to check.
    """
    names = {
        "typer.exceptions": ("Exit", "Abort", "TyperException"),
        "typer._click.exceptions": ("ClickException", "Exit", "Abort"),
        "click.exceptions": ("ClickException", "Exit", "Abort"),
    }
    kinds: list[type[BaseException]] = []
    for module, attrs in names.items():
        mod = sys.modules.get(module)
        for attr in attrs:
            kind = getattr(mod, attr, None) if mod is not None else None
            if isinstance(kind, type) and issubclass(kind, BaseException):
                kinds.append(kind)
    return tuple(kinds)


def _debug(ctx: ClickContext) -> bool:
    obj = ctx.obj
    return bool(obj.debug) if isinstance(obj, State) else "--debug" in sys.argv


app = typer.Typer(
    cls=MlopsGroup,
    name="mlops",
    help="Run a tabular model's whole life from one mlops.yaml: validate, train, evaluate, package, monitor, retrain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich help rendering costs ~130 ms per start
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlops {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    json_: bool = typer.Option(
        False, "--json", help="Machine-readable JSON on stdout (nothing else)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    config: Path | None = typer.Option(
        None,
        "--config",
        metavar="PATH",
        help="Path to mlops.yaml (default: found by walking up from the current directory).",
    ),
    store: str | None = typer.Option(
        None,
        "--store",
        metavar="DIR",
        envvar="MLOPS_STORE",
        help="Store directory (default: .mlops beside mlops.yaml).",
    ),
    format_: str | None = typer.Option(
        None,
        "--format",
        metavar="table|tsv|csv|json",
        help="How listings print (default: a table on a terminal, TSV in a pipe); json is --json.",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    if format_ is not None and format_ not in FORMATS:
        raise typer.BadParameter(
            f"{format_!r} is not one of {', '.join(FORMATS)}", param_hint="--format"
        )
    state = state_of(ctx)
    state.json, state.quiet, state.debug = json_ or format_ == "json", quiet, debug
    state.format = format_
    state.config_path, state.store_path = config, store


def main() -> None:
    """The `mlops` console command: one command per process."""
    # libgomp (the OpenMP runtime of scikit-learn's and LightGBM's Linux wheels) keeps a
    # waiting thread spinning for about 300,000 turns after each parallel region. On a machine
    # whose cores are busy with other work (shared CI runners, cron hosts) that thread takes the
    # CPU the working one needs: at load 3 a 200k-row boosting fit took 5-17 s of CPU instead
    # of 1.5 s. 10,000 turns cost nothing measurable on an idle machine, where sleeping at once
    # (OMP_WAIT_POLICY=PASSIVE) made the fit 4x slower. A user's own setting of either wins.
    # Set here, before any command loads the runtime.
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "10000")
    try:
        app(prog_name="mlops")
    finally:
        skip_exit_collections()
