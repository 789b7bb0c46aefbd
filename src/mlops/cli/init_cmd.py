"""`mlops init`: write a commented mlops.yaml, or lay out a bundled example project."""

from __future__ import annotations

from pathlib import Path

import typer

from mlops.cli.output import emit, out
from mlops.cli.state import State, state_of


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    ctx: typer.Context,
    directory: Path = typer.Argument(Path("."), help="Project directory (created if missing)."),
    example: str | None = typer.Option(
        None, "--example", "-e", help="Lay out a bundled example project (e.g. churn)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing mlops.yaml."),
    seed: int = typer.Option(7, "--seed", help="Seed for the example's generated data."),
) -> None:
    """Write a commented mlops.yaml, or with --example, a whole example project with generated data.

    Also creates the (empty) store and adds .mlops/, predictions/, dist/ and reports/ to .gitignore (an existing file keeps
    its lines; only missing entries are appended).

    Example: mlops init --example churn churn && cd churn && mlops run
    """
    from mlops.examples import EXAMPLES, create_example, write_gitignore, write_template

    state = state_of(ctx)
    if example is not None:
        files = create_example(example, directory, seed=seed, force=force)
        ignored = write_gitignore(directory)
        data = {
            "example": example,
            "directory": str(directory),
            "files": [str(f) for f in files],
            "gitignore": ignored,
            "store": str(_create_store(state, files[0])),
        }

        def human() -> None:
            out().print(
                f"created the [bold]{example}[/bold] example in {directory} ({len(files)} files)"
            )
            out().print(EXAMPLES[example].next_steps.format(dir=directory), soft_wrap=True)

        emit(state, data, human)
        return
    path = write_template(directory, force=force)
    ignored = write_gitignore(directory)
    store = _create_store(state, path)
    note = f" and added {', '.join(ignored)} to .gitignore" if ignored else ""
    emit(
        state,
        {"config": str(path), "gitignore": ignored, "store": str(store)},
        lambda: out().print(
            f"wrote {path}{note}; edit it, then run `mlops validate`", soft_wrap=True
        ),
    )


def _create_store(state: State, config_path: Path) -> Path:
    """Create the store the new mlops.yaml points at (--store and MLOPS_STORE win), so that
    reading commands find it; returns its path."""
    from mlops.config import default_store_path, load_config
    from mlops.store import Store

    location = default_store_path(load_config(config_path), state.store_path)
    Store.open(location, create=True).close()
    return location
