"""Faults on the Dask engine: a worker killed during a job (the result is still exact), and a
partition whose columns differ (exit 2 naming the file)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from helpers.compare import assert_same


@pytest.mark.slow
def test_worker_killed_during_monitor_gives_the_exact_result(
    open_project: tuple[Any, Any], churn: Path, dask_engine: Any
) -> None:
    from mlops.lifecycle.monitor import monitor

    config, store = open_project
    lake = str(churn / "data" / "lake")
    local = monitor(config, store, [lake], window="month").to_dict()
    killed: list[int] = []

    def kill_a_worker(message: str) -> None:
        if message.startswith("scanning") and not killed:
            pids = dask_engine.client.run(os.getpid)
            pid = sorted(pids.values())[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    dask = monitor(
        config, store, [lake], window="month", engine=dask_engine, progress=kill_a_worker
    ).to_dict()
    assert killed
    assert_same(
        json.loads(json.dumps(local, default=str)), json.loads(json.dumps(dask, default=str))
    )


def test_partition_with_other_columns_exit_2_naming_it(churn: Path, dask_cluster, cli) -> None:
    bad = churn / "data" / "lake" / "month=2026-04" / "part-1.parquet"
    pd.read_parquet(bad).drop(columns=["monthly_charges"]).to_parquet(bad, index=False)
    proc = cli("monitor", "data/lake", "--scheduler", dask_cluster.scheduler_address, cwd=churn)
    assert proc.returncode == 2, proc.stderr
    assert "part-1.parquet" in proc.stderr and "month=2026-04" in proc.stderr
    assert "Traceback" not in proc.stderr
