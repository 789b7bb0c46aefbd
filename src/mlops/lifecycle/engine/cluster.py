"""Connecting to a Dask scheduler, or starting a LocalCluster sized to the machine.

This is the only module that imports Dask; the step code receives a `DaskEngine` and calls its
client's methods.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mlops.errors import UsageError
from mlops.lifecycle.engine.settings import EngineSpec

INSTALL_HINT = 'pip install "mlops[dask]"'


@dataclass
class DaskEngine:
    """A connected Dask client and what it is connected to."""

    client: Any  # distributed.Client
    address: str
    description: str
    workers: int
    partition_rows: int = 1_000_000  # a Parquet file of twice this is split by row groups


@contextmanager
def open_engine(
    spec: EngineSpec, say: Callable[[str], None] | None = None
) -> Iterator[DaskEngine | None]:
    """The Dask engine for spec, closed on exit; None for the local engine (nothing imported).

    Args:
        spec: the engine (see `engine_spec`).
        say: told, in one line, when a LocalCluster is started.

    Yields:
        The connected engine, or None for the local engine.

    Raises:
        UsageError: Dask is not installed, or the scheduler cannot be reached.
    """
    if not spec.is_dask:
        yield None
        return
    try:
        import distributed
    except ImportError:
        raise UsageError(
            "the Dask engine needs the packages dask and distributed, which are not installed",
            hint=INSTALL_HINT,
        ) from None
    if spec.address:
        client = _connect(distributed, spec)
        cluster = None
    else:
        cluster, client = _local_cluster(distributed)
    workers = len(client.scheduler_info().get("workers", {}))
    where = spec.address or f"a local cluster at {client.scheduler.address}"
    engine = DaskEngine(
        client,
        client.scheduler.address,
        f"Dask ({where}, {workers} workers)",
        workers,
        spec.partition_rows,
    )
    if cluster is not None and say is not None:
        say(f"started a local Dask cluster: {workers} worker processes, 1 thread each")
    try:
        yield engine
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _connect(distributed: Any, spec: EngineSpec) -> Any:
    try:
        return distributed.Client(spec.address, timeout=spec.connect_timeout_s)
    except (OSError, TimeoutError, ValueError) as e:
        raise UsageError(
            f"cannot reach the Dask scheduler at {spec.address} ({_first_line(e)})",
            hint="start one with `dask scheduler`, or check --scheduler / engine.address",
        ) from None


def _local_cluster(distributed: Any) -> tuple[Any, Any]:
    n = max(1, os.cpu_count() or 1)
    cluster = distributed.LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return cluster, distributed.Client(cluster)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
