"""One piece of a large Parquet file: some consecutive row groups, read as if they were a file.

The Dask engine splits a file with several row groups into such pieces so one big file still
spreads over the workers. A piece names its file and row groups, so any message about it
points at the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlops.data.urls import DataUrl


@dataclass(frozen=True)
class RowGroups:
    """Row groups `groups` (consecutive, in order) of the Parquet file `file`."""

    file: Path | DataUrl
    groups: tuple[int, ...]

    def __str__(self) -> str:
        first, last = self.groups[0], self.groups[-1]
        which = f"row group {first}" if first == last else f"row groups {first}-{last}"
        return f"{self.file} ({which})"

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def suffixes(self) -> list[str]:
        return list(self.file.suffixes)


def split_row_groups(group_rows: list[int], target_rows: int) -> list[tuple[int, ...]]:
    """Consecutive row groups gathered into pieces of at least target_rows rows (the last piece
    may be smaller).

    Args:
        group_rows: the rows of each row group, in file order.
        target_rows: the fewest rows worth a piece of its own.

    Returns:
        The row-group indices of each piece, in file order.
    """
    pieces: list[tuple[int, ...]] = []
    current: list[int] = []
    rows = 0
    for index, n in enumerate(group_rows):
        current.append(index)
        rows += n
        if rows >= target_rows:
            pieces.append(tuple(current))
            current, rows = [], 0
    if current:
        pieces.append(tuple(current))
    return pieces
