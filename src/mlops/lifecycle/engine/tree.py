"""Merging partition results on the workers, in a tree, in partition order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def tree_merge(client: Any, futures: list[Any], merge: Callable[[Any, Any], Any]) -> Any:
    """Merge futures pairwise (neighbours only, so order is kept) until one result is left.

    The list is emptied: a worker keeps a task's result while any client holds its future, so
    holding the partitions' futures to the end kept every partition's result in the workers'
    memory (worker RSS grew with the number of partitions); now each is released once merged.

    Args:
        client: a distributed.Client.
        futures: one future per partition, in partition order (emptied).
        merge: an associative function of two results; it runs on the workers.

    Returns:
        The merged result, gathered to this process.
    """
    level = list(futures)
    futures.clear()
    while len(level) > 1:
        nxt = [
            client.submit(merge, level[i], level[i + 1], pure=False)
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].result()
