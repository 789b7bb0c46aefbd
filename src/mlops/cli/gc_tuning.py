"""Garbage-collector settings for the `mlops` process, a short batch job.

After `mlops train` has loaded pandas and scikit-learn and fitted a model, the collector tracks
about 150,000 objects, some of them large containers; one full pass over them took 0.08 s of CPU
on the 200,000-row benchmark (benchmarks/bench_commands.py). The interpreter makes several such
passes while it shuts down, and the default thresholds start more of them while the command
runs (docs/train.md, "Where the time goes").
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 10_000  # Python's default is 700


def skip_exit_collections() -> None:
    """Keep every live object out of the collections the interpreter makes at exit.

    Call it once the command's work is done and its files are closed: objects that are still
    alive then are freed with the process, not walked object by object first.
    """
    gc.freeze()


@contextmanager
def batch_gc() -> Iterator[None]:
    """Collect the youngest generation every 10,000 new objects instead of every 700, while
    a long command imports its libraries and runs; the previous thresholds come back after.

    With the default, importing pandas and scikit-learn alone starts about 380 collections, two
    of them full passes. Cyclic garbage is still collected: at most 10,000 new objects wait for
    the next pass.
    """
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
