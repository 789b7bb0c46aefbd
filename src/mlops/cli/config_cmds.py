"""`mlops config show` and `mlops config schema`."""

from __future__ import annotations

import json

import typer

from mlops.cli.output import emit, emit_json, out
from mlops.cli.state import state_of

config_app = typer.Typer(
    help="Inspect the resolved mlops.yaml and its JSON Schema.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("show")
def show(ctx: typer.Context) -> None:
    """Print the resolved config: defaults filled in, ${ENV} interpolated."""
    import yaml

    from mlops.config import default_store_path

    state = state_of(ctx)
    config = state.require_config()
    data = config.to_dict()
    resolved = {
        "path": str(config.path),
        "store": str(default_store_path(config, state.store_path)),
        "config": data,
    }

    def human() -> None:
        out().print(f"# {config.path}  (store: {resolved['store']})", highlight=False)
        out().print(
            yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
            end="",
            highlight=False,
            markup=False,
        )

    emit(state, resolved, human)


@config_app.command("schema")
def schema(ctx: typer.Context) -> None:
    """Print the JSON Schema of mlops.yaml (point your editor's YAML plugin at it)."""
    from mlops.config import json_schema

    data = json_schema()
    if state_of(ctx).json:
        emit_json(data)
    else:
        typer.echo(json.dumps(data, indent=2))
