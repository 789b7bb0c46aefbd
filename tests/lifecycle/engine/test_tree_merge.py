"""tree_merge on a real LocalCluster: order kept, and partition results released once merged."""

from __future__ import annotations

import time
from typing import Any

from mlops.lifecycle.engine.tree import tree_merge


def _concat(a: list[int], b: list[int]) -> list[int]:
    return a + b


def _held(keys: list[Any], dask_scheduler: Any = None) -> list[Any]:
    return [k for k in keys if k in dask_scheduler.tasks]


def test_merges_in_order_and_releases_partition_results(dask_engine: Any) -> None:
    client = dask_engine.client
    futures = [client.submit(lambda i: [i], i, pure=False) for i in range(9)]
    keys = [f.key for f in futures]
    assert tree_merge(client, futures, _concat) == list(range(9))
    assert futures == []
    # the scheduler forgets a partition's task once no client holds its future and nothing depends on it;
    # the release messages travel asynchronously, so wait for them (not a timing threshold:
    # with the futures held, they are never forgotten)
    deadline = time.monotonic() + 60
    while client.run_on_scheduler(_held, keys) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.run_on_scheduler(_held, keys) == []
