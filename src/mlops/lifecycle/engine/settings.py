"""Which engine a command uses: options, then mlops.yaml, then the environment. No Dask here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops.errors import UsageError

if TYPE_CHECKING:
    from mlops.config import Config

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
ENGINES = ("local", "dask")


@dataclass(frozen=True)
class EngineSpec:
    """The engine to run on: `local`, or `dask` with a scheduler address (None: a LocalCluster)."""

    kind: str = "local"
    address: str | None = None
    connect_timeout_s: float = 10.0
    partition_rows: int = 1_000_000

    @property
    def is_dask(self) -> bool:
        return self.kind == "dask"


def engine_spec(
    config: Config | None,
    engine: str | None = None,
    scheduler: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> EngineSpec:
    """The engine from `--engine`, `--scheduler`, mlops.yaml `engine:` and DASK_SCHEDULER_ADDRESS.

    Args:
        config: the project's config (None: no `engine:` key).
        engine: `--engine` (local or dask), overriding mlops.yaml.
        scheduler: `--scheduler ADDRESS`; implies the Dask engine.
        environ: the environment (default os.environ); its DASK_SCHEDULER_ADDRESS is the
            address when the engine is dask and none is given otherwise.

    Returns:
        The engine to use.

    Raises:
        UsageError: an unknown engine, or `--engine local` with `--scheduler`.
    """
    env = os.environ if environ is None else environ
    section = config.model.engine if config is not None else None
    if engine is not None and engine not in ENGINES:
        raise UsageError(f"--engine {engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "local" and scheduler:
        raise UsageError("--scheduler needs the Dask engine, but --engine local was given")
    kind = "dask" if scheduler else (engine or (section.kind if section else "local"))
    timeout = section.connect_timeout_s if section else 10.0
    if kind != "dask":
        return EngineSpec("local", None, timeout)
    address = scheduler or (section.address if section else None) or env.get(SCHEDULER_ENV)
    split = section.partition_rows if section else EngineSpec.partition_rows
    return EngineSpec("dask", address or None, timeout, split)
