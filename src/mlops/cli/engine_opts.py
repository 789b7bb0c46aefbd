"""The `--engine` and `--scheduler` options shared by the commands that read data at scale."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from mlops.cli.output import err

if TYPE_CHECKING:
    from mlops.cli.state import State
    from mlops.config import Config
    from mlops.lifecycle.engine import DaskEngine


def engine_option() -> str | None:
    return typer.Option(
        None,
        "--engine",
        help="Where to run: local (default) or dask (engine: in mlops.yaml sets the default).",
    )


def scheduler_option() -> str | None:
    return typer.Option(
        None,
        "--scheduler",
        help="Dask scheduler address, e.g. tcp://host:8786 (implies --engine dask; "
        "default DASK_SCHEDULER_ADDRESS, else a local cluster).",
    )


def store_data_option() -> bool:
    return typer.Option(
        False,
        "--store-data",
        help="Also copy data read from object storage into the store (it is always recorded "
        "by URL, size and ETag/version).",
    )


@contextmanager
def engine_for(
    state: State, config: Config | None, engine: str | None, scheduler: str | None
) -> Iterator[DaskEngine | None]:
    """The engine the options and mlops.yaml ask for; None for the local engine, for which
    nothing of Dask is imported."""
    from mlops.lifecycle.engine.settings import engine_spec

    spec = engine_spec(config, engine, scheduler)
    if not spec.is_dask:
        yield None
        return
    from mlops.lifecycle.engine import open_engine

    def say(message: str) -> None:
        if not state.quiet:
            err().print(message, markup=False, highlight=False)

    with open_engine(spec, say) as opened:
        yield opened
