"""Chunks as profiles read them: pandas DataFrames, or Arrow record batches and tables.

`data.readers.iter_batches` yields Parquet chunks as Arrow record batches with their string
columns dictionary-encoded, so a profile takes float64 values straight from the Arrow buffers and
counts categories with a bincount over dictionary indices, without building a DataFrame. Arrow
columns of other types (bools, dates, decimals, dictionaries of numbers...) are converted to a
pandas Series first (`as_series`), so every column gives the same profile whichever form it
arrives in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# pd.DataFrame, pa.RecordBatch or pa.Table; a column is pd.Series, pa.Array or pa.ChunkedArray
Chunk = Any
Column = Any


def has_column(chunk: Chunk, name: str) -> bool:
    """Whether the chunk holds a column of that name."""
    if isinstance(chunk, pd.DataFrame):
        return name in chunk.columns
    return name in chunk.schema.names


def column_names(chunk: Chunk) -> list[str]:
    """The chunk's column names, in order."""
    if isinstance(chunk, pd.DataFrame):
        return [str(c) for c in chunk.columns]
    return list(chunk.schema.names)


def column(chunk: Chunk, name: str) -> Column:
    """One column of the chunk, as the chunk holds it."""
    if isinstance(chunk, pd.DataFrame):
        return chunk[name]
    return chunk.column(name)


def as_series(col: Column, name: str | None = None) -> pd.Series:
    """The column as a pandas Series (Arrow columns converted as `Table.to_pandas` would)."""
    if isinstance(col, pd.Series):
        return col
    return col.to_pandas().rename(name)


def arrow_kind(col: Column) -> str | None:
    """ "float" for Arrow integer and float columns, "text" for Arrow strings and dictionaries of
    strings, None otherwise (pandas Series included)."""
    if isinstance(col, pd.Series):
        return None
    import pyarrow as pa

    t = col.type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return "float"
    if pa.types.is_dictionary(t) and _is_text(t.value_type):
        return "text"
    return "text" if _is_text(t) else None


def _is_text(t: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or _is_view(t))


def _is_view(t: Any) -> bool:
    import pyarrow as pa

    is_view = getattr(pa.types, "is_string_view", None)  # pyarrow >= 16
    return bool(is_view and is_view(t))


def arrow_floats(col: Column) -> np.ndarray:
    """float64 values of an Arrow integer or float column, NaN where it is null.

    The result may be a read-only view of the Arrow buffer: do not write into it.
    """
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)


def arrow_text_counts(col: Column) -> tuple[pd.Index, np.ndarray, int] | None:
    """(values, count of each, nulls) of an Arrow string column; None when a dictionary holds
    a null (then read it through pandas). Values may repeat (one dictionary per chunk) and may
    have a count of 0 (dictionary entries no row uses)."""
    import pyarrow as pa

    arrays = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    values: list[Any] = []
    counts: list[np.ndarray] = []
    missing = 0
    for arr in arrays:
        if not pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_encode()
        if arr.dictionary.null_count:
            return None
        indices = arr.indices
        if arr.null_count:
            missing += arr.null_count
            indices = indices.drop_null()
        n_values = len(arr.dictionary)
        counts.append(np.bincount(indices.to_numpy(zero_copy_only=False), minlength=n_values))
        values.extend(arr.dictionary.to_pylist())
    merged = np.concatenate(counts) if counts else np.zeros(0, np.int64)
    return pd.Index(values, dtype=object), merged.astype(np.int64, copy=False), missing
