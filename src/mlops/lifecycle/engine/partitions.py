"""A batch's partitions for the Dask engine: one per file, with its first global row number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError

if TYPE_CHECKING:
    from mlops.data.readers import CsvOptions, DataFile
    from mlops.lifecycle.engine.cluster import DaskEngine


@dataclass(frozen=True)
class Partition:
    """One file of the batch and where its rows sit in the whole batch."""

    path: DataFile
    first_row: int
    rows: int
    columns: tuple[str, ...]


def plan_partitions(
    engine: DaskEngine,
    paths: Sequence[DataFile],
    csv: CsvOptions | None,
    columns: list[str] | None = None,
) -> list[Partition]:
    """Survey every file on the workers (Parquet footers, CSV row counts) and number the rows.

    Args:
        engine: the Dask engine.
        paths: the batch's files, in order (as `expand_paths` returns them).
        csv: how CSV files are parsed.
        columns: the columns the step reads (None: all, and every file must have the same).

    Returns:
        One partition per file, in order, with global row offsets as the local engine counts.

    Raises:
        InputError: a file cannot be read, or its columns differ from the first file's (the
            message names both files).
    """
    from mlops.data.readers import column_set_mismatch, survey_file

    # workers run in other directories
    paths = [p.absolute() if isinstance(p, Path) else p for p in paths]
    futures = engine.client.map(survey_file, paths, csv_options=csv, pure=False)
    surveyed: list[tuple[list[str], int]] = engine.client.gather(futures)
    parts: list[Partition] = []
    first_row = 0
    for path, (names, rows) in zip(paths, surveyed, strict=True):
        missing = [c for c in columns or () if c not in names]
        if missing:
            raise InputError(
                f"The file '{path}' has no column(s) {', '.join(map(repr, missing))}.",
                hint="All files of one dataset must have the same columns.",
            )
        if columns is None and parts and set(names) != set(parts[0].columns):
            first = parts[0]
            raise InputError(column_set_mismatch(first.path, list(first.columns), path, names))
        parts.append(Partition(path, first_row, rows, tuple(names)))
        first_row += rows
    return parts


def scatter(engine: DaskEngine, value: Any) -> Any:
    """value as a future the workers share, or None for None.

    Sent as a task rather than scattered: the scheduler keeps the task, so if the worker
    holding the value dies it is computed again instead of being lost.
    """
    if value is None:
        return None
    return engine.client.submit(_value, value, pure=False)


def _value(value: Any) -> Any:
    return value
