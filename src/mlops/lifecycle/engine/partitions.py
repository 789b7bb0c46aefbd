"""A batch's partitions for the Dask engine: one per file, or per run of row groups of a large
Parquet file, with its first global row number."""

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
    """One file of the batch (or some row groups of one) and where its rows sit in the batch."""

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
    A Parquet file of several row groups holding at least twice `engine.partition_rows` rows is
    split into runs of whole row groups of about that many rows each.

    Args:
        engine: the Dask engine.
        paths: the batch's files, in order (as `expand_paths` returns them).
        csv: how CSV files are parsed.
        columns: the columns the step reads (None: all, and every file must have the same).

    Returns:
        The partitions in row order, with global row offsets as the local engine counts.

    Raises:
        InputError: a file cannot be read, or its columns differ from the first file's (the
            message names both files).
    """
    from mlops.data.readers import survey_file_groups

    # workers run in other directories
    paths = [p.absolute() if isinstance(p, Path) else p for p in paths]
    futures = engine.client.map(survey_file_groups, paths, csv_options=csv, pure=False)
    surveyed: list[tuple[list[str], int, list[int]]] = engine.client.gather(futures)
    parts: list[Partition] = []
    first_row = 0
    for path, (names, rows, group_rows) in zip(paths, surveyed, strict=True):
        _check_columns(path, names, columns, parts[0] if parts else None)
        for piece, piece_rows in _pieces(path, rows, group_rows, engine.partition_rows):
            parts.append(Partition(piece, first_row, piece_rows, tuple(names)))
            first_row += piece_rows
    return parts


def _check_columns(
    path: DataFile, names: list[str], columns: list[str] | None, first: Partition | None
) -> None:
    from mlops.data.readers import column_set_mismatch

    missing = [c for c in columns or () if c not in names]
    if missing:
        raise InputError(
            f"The file '{path}' has no column(s) {', '.join(map(repr, missing))}.",
            hint="All files of one dataset must have the same columns.",
        )
    if columns is None and first is not None and set(names) != set(first.columns):
        raise InputError(column_set_mismatch(first.path, list(first.columns), path, names))


def _pieces(
    path: DataFile, rows: int, group_rows: list[int], target: int
) -> list[tuple[DataFile, int]]:
    """(what a task reads, its rows): the file whole, or runs of its row groups."""
    from mlops.data.file_parts import RowGroups, split_row_groups

    if rows < 2 * target or len(group_rows) < 2 or isinstance(path, RowGroups):
        return [(path, rows)]
    return [
        (RowGroups(path, groups), sum(group_rows[i] for i in groups))
        for groups in split_row_groups(group_rows, target)
    ]


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
