"""Progress of long work (rows read, bytes hashed), reported to whoever shows it.

The library never prints: a reader or a hashing loop calls `advance(n)` inside a `task(...)`;
both do nothing unless the command line installed a sink with `reporting(sink)` (a rich
progress bar on a terminal). A context variable carries the sink, so library signatures stay
as they are and tests that call the library directly see no difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol


class Handle(Protocol):
    def advance(self, n: float) -> None: ...

    def finish(self) -> None: ...


class Sink(Protocol):
    def start(self, label: str, total: float | None, unit: str) -> Handle: ...


_sink: ContextVar[Sink | None] = ContextVar("mlops_progress_sink", default=None)
_current: ContextVar[Handle | None] = ContextVar("mlops_progress_task", default=None)


@contextmanager
def reporting(sink: Sink) -> Iterator[None]:
    """Send the progress of the work done inside to sink."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def active() -> bool:
    """Whether anyone is watching (a caller may skip counting the total otherwise)."""
    return _sink.get() is not None


@contextmanager
def task(
    label: str, total: float | Callable[[], float | None] | None, unit: str = "rows"
) -> Iterator[None]:
    """One piece of long work; `advance` inside counts towards it.

    Args:
        label: what is being done ("reading data/batch.csv").
        total: the amount of work, or a function computing it (called only when someone
            watches), or None when unknown.
        unit: "rows" or "bytes".
    """
    sink = _sink.get()
    if sink is None or _current.get() is not None:  # nested work counts towards the outer task
        yield
        return
    handle = sink.start(label, total() if callable(total) else total, unit)
    token = _current.set(handle)
    try:
        yield
    finally:
        _current.reset(token)
        handle.finish()


def advance(n: float) -> None:
    """Count n units of work done towards the current task (nothing when none)."""
    handle = _current.get()
    if handle is not None:
        handle.advance(n)


@contextmanager
def counter(
    label: str, total: float | Callable[[], float | None] | None, unit: str = "rows"
) -> Iterator[Callable[[float], None]]:
    """Like `task`, but the caller advances it through the function it yields (for generators,
    which must not leave a current task behind between their yields)."""
    sink = _sink.get()
    if sink is None:
        yield lambda _n: None
        return
    handle = sink.start(label, total() if callable(total) else total, unit)
    try:
        yield handle.advance
    finally:
        handle.finish()
