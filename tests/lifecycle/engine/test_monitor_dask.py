"""`mlops monitor` on the Dask engine gives the local engine's report on the same data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.compare import assert_same


def _report(open_project: tuple[Any, Any], lake: Path, engine: Any, **kw: Any) -> dict[str, Any]:
    from mlops.lifecycle.monitor import monitor

    config, store = open_project
    result = monitor(config, store, [str(lake)], engine=engine, **kw)
    return json.loads(json.dumps(result.to_dict(), default=str))


def test_monitor_on_dask_matches_local(open_project, churn: Path, dask_engine) -> None:
    lake = churn / "data" / "lake"
    local = _report(open_project, lake, None, window="month")
    dask = _report(open_project, lake, dask_engine, window="month")
    assert local["data"]["rows"] == dask["data"]["rows"] > 1000
    assert [w["key"] for w in dask["windows"]] == [w["key"] for w in local["windows"]]
    assert len(dask["windows"]) == 5
    assert_same(local, dask)


def test_row_windows_across_partitions(open_project, churn: Path, dask_engine) -> None:
    """Windows of N rows straddle file boundaries: the global row numbers must line up."""
    lake = churn / "data" / "lake"
    local = _report(open_project, lake, None, window=700)
    dask = _report(open_project, lake, dask_engine, window=700)
    assert_same(local, dask)
