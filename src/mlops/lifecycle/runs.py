"""Run bookkeeping shared by the steps: a run that ends in an exception is recorded as failed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.store import Store


def error_message(e: BaseException) -> str:
    """An MlopsError's own sentence, else the exception's type and text."""
    return getattr(e, "message", None) or type_and_text(e)


def type_and_text(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


@contextmanager
def fail_run_on_error(
    store: Store, run_id: str, describe: Callable[[BaseException], str] = error_message
) -> Iterator[None]:
    """Finish the run as failed, with `describe(e)` as its error, when the block raises."""
    try:
        yield
    except BaseException as e:
        store.finish_run(run_id, status="failed", info={"error": describe(e)})
        raise
