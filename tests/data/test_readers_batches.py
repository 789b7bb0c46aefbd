"""`iter_batches`: Parquet chunks as Arrow record batches (strings dictionary-encoded), CSV
chunks as DataFrames, the same rows as `iter_chunks`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlops.data.file_parts import RowGroups
from mlops.data.readers import iter_batches, iter_batches_with_offset, iter_chunks
from mlops.errors import InputError


def parquet(path: Path, n: int = 10, row_group: int = 4) -> Path:
    table = pa.table(
        {
            "x": np.arange(n, dtype=np.float64),
            "s": pa.array(
                [None if i % 3 == 0 else f"v{i % 4}" for i in range(n)], pa.large_string()
            ),
            "i": pa.array([None if i % 5 == 0 else i for i in range(n)], pa.int64()),
        }
    )
    pq.write_table(table, path, row_group_size=row_group)
    return path


@pytest.mark.parametrize("chunk_rows", [1, 3, 4, 100])
def test_batches_hold_the_rows_of_the_frames(tmp_path: Path, chunk_rows: int) -> None:
    paths = [parquet(tmp_path / "a.parquet"), parquet(tmp_path / "b.parquet", 7, 3)]
    frames = list(iter_chunks(paths, chunk_rows=chunk_rows))
    batches = list(iter_batches(paths, chunk_rows=chunk_rows))
    assert [len(b) for b in batches] == [len(f) for f in frames]
    for batch, frame in zip(batches, frames, strict=True):
        assert isinstance(batch, pa.RecordBatch | pa.Table)
        assert pa.types.is_dictionary(batch.schema.field("s").type)
        assert not pa.types.is_dictionary(batch.schema.field("x").type)
        assert batch.column("s").to_pylist() == [
            None if pd.isna(v) else v for v in frame["s"].tolist()
        ]
        assert batch.column("i").to_pylist() == [
            None if pd.isna(v) else int(v) for v in frame["i"].tolist()
        ]


def test_selected_columns_and_row_groups(tmp_path: Path) -> None:
    path = parquet(tmp_path / "a.parquet")
    batches = list(iter_batches([RowGroups(path, (1, 2))], columns=["s"], chunk_rows=100))
    assert [b.schema.names for b in batches] == [["s"]]
    assert batches[0].column("s").to_pylist() == [
        None if i % 3 == 0 else f"v{i % 4}" for i in range(4, 10)
    ]


def test_csv_chunks_stay_frames(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("x,s\n1,a\n2,b\n3,\n")
    chunks = list(iter_batches([path], chunk_rows=2))
    assert all(isinstance(c, pd.DataFrame) for c in chunks)
    assert [len(c) for c in chunks] == [2, 1]


def test_empty_parquet_yields_one_empty_table(tmp_path: Path) -> None:
    path = parquet(tmp_path / "e.parquet", 0)
    chunks = list(iter_batches([path]))
    assert len(chunks) == 1 and len(chunks[0]) == 0
    assert chunks[0].schema.names == ["x", "s", "i"]


def test_errors_are_input_errors(tmp_path: Path) -> None:
    a = parquet(tmp_path / "a.parquet")
    with pytest.raises(InputError, match="no column"):
        list(iter_batches([a], columns=["nope"]))
    other = tmp_path / "b.parquet"
    pq.write_table(pa.table({"y": [1.0]}), other)
    with pytest.raises(InputError, match="different columns"):
        list(iter_batches([a, other]))
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(a.read_bytes()[:100])
    with pytest.raises(InputError, match="not a readable Parquet file"):
        list(iter_batches([bad]))
    with pytest.raises(InputError, match="chunk_rows"):
        list(iter_batches([a], chunk_rows=0))


@pytest.mark.parametrize("chunk_rows", [1, 3, 4, 6, 9, 100])
@pytest.mark.parametrize("native_dictionary", [False, True])
def test_chunk_boundaries_match_iter_chunks(
    tmp_path: Path, chunk_rows: int, native_dictionary: bool
) -> None:
    """pyarrow ends a batch at each row-group boundary only when a column is dictionary-encoded
    in the file; the Arrow reader gives the same boundaries as the DataFrame reader either way
    (a float sum per chunk depends on them)."""
    n = 23
    columns = {"x": np.arange(n, dtype=np.float64), "s": [f"v{i % 4}" for i in range(n)]}
    if native_dictionary:
        columns["d"] = pa.array([f"d{i % 2}" for i in range(n)]).dictionary_encode()
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=5)
    frames = list(iter_chunks([path], chunk_rows=chunk_rows))
    batches = list(iter_batches([path], chunk_rows=chunk_rows))
    assert [len(b) for b in batches] == [len(f) for f in frames]
    for batch, frame in zip(batches, frames, strict=True):
        assert batch.column("x").to_pylist() == frame["x"].tolist()
        assert batch.column("s").to_pylist() == frame["s"].tolist()


def test_offsets_and_chosen_dictionary_columns(tmp_path: Path) -> None:
    paths = [parquet(tmp_path / "a.parquet", 10, 4), parquet(tmp_path / "b.parquet", 5, 3)]
    chunks = list(iter_batches_with_offset(paths, chunk_rows=4, dictionary=[]))
    assert [offset for offset, _ in chunks] == [0, 4, 8, 10, 14]
    assert not any(pa.types.is_dictionary(c.schema.field("s").type) for _, c in chunks)
    chosen = list(iter_batches_with_offset(paths, chunk_rows=4, dictionary=["s"]))
    assert all(pa.types.is_dictionary(c.schema.field("s").type) for _, c in chosen)
