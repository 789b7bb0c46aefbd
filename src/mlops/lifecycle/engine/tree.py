"""Merging partition results on the workers, in a tree, in partition order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def tree_merge(client: Any, futures: Sequence[Any], merge: Callable[[Any, Any], Any]) -> Any:
    """Merge futures pairwise (neighbours only, so order is kept) until one result is left.

    Args:
        client: a distributed.Client.
        futures: one future per partition, in partition order.
        merge: an associative function of two results; it runs on the workers.

    Returns:
        The merged result, gathered to this process.
    """
    level = list(futures)
    while len(level) > 1:
        nxt = [
            client.submit(merge, level[i], level[i + 1], pure=False)
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].result()
