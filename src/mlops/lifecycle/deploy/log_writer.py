"""The prediction log of `mlops serve`, written by a background thread.

A request hands its scored rows to `PredictionLogWriter.submit` and returns: building the Arrow
table and writing Parquet happen on the writer's thread. The queue is bounded in rows; a batch
that does not fit is dropped and counted (`dropped_rows`), so a slow disk never holds requests
up or grows memory without bound. `close` writes everything already queued: rows accepted before
a clean shutdown are never lost.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.lifecycle.deploy.package import ModelHandle
from mlops.lifecycle.deploy.predict import PredictionLogFile, log_table

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

logger = logging.getLogger(__name__)


@dataclass
class _Batch:
    X: pd.DataFrame
    scores: pd.DataFrame
    ids: pd.Series | None
    id_column: str | None
    scored_at: datetime
    batch_id: str
    queued_at: float  # time.monotonic()


class PredictionLogWriter:
    """Served predictions -> Parquet files of the prediction log, off the request path.

    Rows gather into one file every `flush_rows` rows or `flush_seconds` seconds (whichever
    comes first), and at `close`. `on_count`, when set, is called with the changes
    (written, dropped, queued) each time the row counts change."""

    def __init__(
        self,
        log_dir: Path,
        handle: ModelHandle,
        *,
        flush_rows: int = 10_000,
        flush_seconds: float = 60.0,
        max_queued_rows: int = 100_000,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.handle = handle
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.max_queued_rows = max_queued_rows
        self.queued_rows = 0
        self.dropped_rows = 0
        self.written_rows = 0
        self.files: list[Path] = []
        self._queue: deque[_Batch] = deque()
        self._queue_rows = 0  # rows in _queue (queued_rows also counts those being written)
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self.on_count: Callable[[int, int, int], None] | None = None

    def start(self) -> None:
        """Start the writer thread (once)."""
        with self._cond:
            if self._thread is None and not self._closing:
                self._thread = threading.Thread(
                    target=self._run, name="mlops-prediction-log", daemon=True
                )
                self._thread.start()

    def submit(
        self,
        X: pd.DataFrame,
        scores: pd.DataFrame,
        ids: pd.Series | None = None,
        id_column: str | None = None,
    ) -> bool:
        """Queue one request's rows, stamped now. False (and counted in `dropped_rows`) when
        the queue has no room for them or the writer is closed."""
        n = len(X)
        now = datetime.now(UTC)
        batch = _Batch(X, scores, ids, id_column, now, uuid.uuid4().hex, time.monotonic())
        with self._cond:
            if self._closing or self.queued_rows + n > self.max_queued_rows:
                self._count(0, n, 0)
                return False
            self._queue.append(batch)
            self._queue_rows += n
            self._count(0, 0, n)
            # wake the writer only when it has something new to do: a first batch (which starts
            # the flush clock) or a full file. Waking it on every request would make the request
            # thread hand the GIL over and wait to get it back.
            if len(self._queue) == 1 or self._queue_rows >= self.flush_rows:
                self._cond.notify()
        return True

    def _count(self, written: int, dropped: int, queued: int) -> None:
        """Change the row counts (the caller holds the lock) and tell `on_count`."""
        self.written_rows += written
        self.dropped_rows += dropped
        self.queued_rows += queued
        if self.on_count is not None:
            self.on_count(written, dropped, queued)

    def close(self, timeout: float | None = None) -> None:
        """Write every queued row, then stop the thread. Rows submitted later are dropped."""
        with self._cond:
            self._closing = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        else:  # never started: write what was queued here
            self._run()

    def _take(self) -> list[_Batch]:
        """Wait until a file is due, then take its batches from the queue: the oldest ones up to
        flush_rows rows when that many are queued, all of them when the oldest has waited
        flush_seconds or on close. Empty when closed and nothing is left."""
        with self._cond:
            while self._queue_rows < self.flush_rows and not self._closing:
                wait = None
                if self._queue:
                    wait = self._queue[0].queued_at + self.flush_seconds - time.monotonic()
                    if wait <= 0:
                        break
                self._cond.wait(wait)
            taken: list[_Batch] = []
            rows = 0
            while self._queue and rows < self.flush_rows:
                taken.append(self._queue.popleft())
                rows += len(taken[-1].X)
            self._queue_rows -= rows
            return taken

    def _run(self) -> None:
        """Write files as they fall due, each one table for all its requests (building one
        table for many requests costs far less than a table per request), until closed."""
        while True:
            batches = self._take()
            if not batches:
                return
            self._write(batches, sum(len(b.X) for b in batches))

    def _table(self, batches: list[_Batch]) -> Any:
        """The batches' log rows as one Arrow table (each keeps its time, id and row numbers)."""
        import numpy as np
        import pandas as pd

        if len(batches) == 1:
            b = batches[0]
            return log_table(
                self.handle, b.X, b.scores, b.ids, range(len(b.X)), b.scored_at, b.batch_id,
                "serve", b.id_column,
            )  # fmt: skip
        sizes = [len(b.X) for b in batches]
        id_column = next((b.id_column for b in batches if b.id_column), None)
        ids = None
        if id_column is not None:
            ids = pd.concat(
                [b.ids if b.ids is not None else pd.Series([None] * len(b.X)) for b in batches],
                ignore_index=True,
            )
        stamps = [b.scored_at.replace(tzinfo=None) for b in batches]  # all UTC
        return log_table(
            self.handle,
            pd.concat([b.X for b in batches], ignore_index=True),
            pd.concat([b.scores for b in batches], ignore_index=True),
            ids,
            np.concatenate([np.arange(n) for n in sizes]),
            np.repeat(np.array(stamps, dtype="datetime64[us]"), sizes),
            np.repeat(np.array([b.batch_id for b in batches], dtype=object), sizes).tolist(),
            "serve",
            id_column,
        )

    def _write(self, batches: list[_Batch], rows: int) -> None:
        import pyarrow as pa  # noqa: F401  (loaded here, off the request path)

        f = PredictionLogFile(self.log_dir, "serve", uuid.uuid4().hex, datetime.now(UTC))
        try:
            f.write(self._table(batches))
            path = f.close()
        except Exception:  # noqa: BLE001 - a failed write must not stop the writer
            f.abort()
            logger.exception("could not write %d rows to the prediction log", rows)
            with self._cond:
                self._count(0, rows, -rows)
            return
        if path is not None:
            self.files.append(path)
        with self._cond:
            self._count(rows, 0, -rows)
