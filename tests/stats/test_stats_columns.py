"""Profiles read from Arrow record batches equal those read from DataFrames, bit for bit."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlops.data.readers import iter_batches, iter_chunks
from mlops.errors import InputError
from mlops.stats.profile import DatasetProfile, build_spec, profile_chunks


def awkward_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0, 2, n)
    x[rng.random(n) < 0.05] = np.nan
    x[rng.random(n) < 0.01] = np.inf
    x[rng.random(n) < 0.01] = -np.inf
    words = np.array(["a", "b", "", "1", "1.0", "true", "ü", "-0"], dtype=object)
    text = words[rng.integers(0, len(words), n)]
    text[rng.random(n) < 0.1] = None
    many = np.array([f"id{k}" for k in rng.integers(0, 400, n)], dtype=object)
    ints = pd.array(rng.integers(-5, 50, n), dtype="Int64")
    ints[rng.random(n) < 0.1] = pd.NA
    flags = pd.array(rng.random(n) < 0.3, dtype="boolean")
    flags[rng.random(n) < 0.1] = pd.NA
    return pd.DataFrame(
        {
            "x": x,
            "f32": rng.normal(size=n).astype(np.float32),
            "big": rng.integers(-(2**62), 2**62, n),
            "u8": rng.integers(0, 255, n).astype(np.uint8),
            "ints": ints,
            "flags": flags,
            "b": rng.random(n) < 0.5,
            "text": text,
            "many": many,
            "cat": pd.Categorical(words[rng.integers(0, 3, n)]),
            "codes": pd.Categorical(rng.integers(0, 4, n)),
            "dec": [Decimal(int(v)) for v in rng.integers(0, 9, n)],
            "none": pd.Series([None] * n, dtype=object),
            "numtext": np.array([str(v) for v in rng.integers(0, 9, n)], dtype=object),
        }
    )


def write(path: Path, frame: pd.DataFrame, row_group: int) -> Path:
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group
    )
    return path


def dump(profile: DatasetProfile) -> str:
    return json.dumps(profile.to_dict(), sort_keys=True)


# numbers kept as text and categories kept as numbers, besides the inferred kinds
KINDS = {"numtext": "numeric", "u8": "categorical", "ints": "categorical"}


@pytest.mark.parametrize("chunk_rows", [97, 1000, 5000])
@pytest.mark.parametrize("categoricals", [True, False])
def test_arrow_batches_give_the_same_spec_and_profile_as_frames(
    tmp_path: Path, chunk_rows: int, categoricals: bool
) -> None:
    """Without pandas categoricals (dictionaries in the file) the string columns' dictionary
    reads split batches at row groups, which the reader joins back."""
    drop = [] if categoricals else ["cat", "codes"]
    ref = write(tmp_path / "ref.parquet", awkward_frame(3000, 1).drop(columns=drop), 700)
    cur = write(tmp_path / "cur.parquet", awkward_frame(2500, 2).drop(columns=drop), 700)
    specs = []
    profiles = []
    for read in (iter_chunks, iter_batches):
        spec = build_spec(read([ref], chunk_rows=chunk_rows), kinds=KINDS, top_k=50)
        specs.append(json.dumps(spec.to_dict(), sort_keys=True))
        profiles.append(dump(profile_chunks(read([cur], chunk_rows=chunk_rows), spec)))
    assert specs[0] == specs[1]
    assert profiles[0] == profiles[1]
    # the batches did reach the profile as Arrow, strings as dictionaries
    batch = next(iter_batches([cur], chunk_rows=chunk_rows))
    assert isinstance(batch, pa.RecordBatch | pa.Table)
    assert pa.types.is_dictionary(batch.schema.field("text").type)


def test_string_columns_not_dictionary_encoded_are_counted_alike() -> None:
    frame = awkward_frame(1500, 3)
    spec = build_spec(frame, kinds=KINDS, top_k=50)
    table = pa.Table.from_pandas(frame, preserve_index=False)  # plain strings, several chunks
    chunked = pa.concat_tables([table.slice(0, 700), table.slice(700)])
    assert chunked.column("text").num_chunks == 2
    assert dump(profile_chunks([chunked], spec)) == dump(profile_chunks(frame, spec))


def test_arrow_dates_are_refused_as_frames_are(tmp_path: Path) -> None:
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-01-02"]), "x": [1.0, 2.0]})
    path = write(tmp_path / "t.parquet", frame, 10)
    with pytest.raises(InputError, match="'t' holds dates"):
        build_spec(iter_batches([path]))


def test_missing_column_in_an_arrow_batch(tmp_path: Path) -> None:
    frame = awkward_frame(100, 4)
    spec = build_spec(frame)
    path = write(tmp_path / "part.parquet", frame.drop(columns=["text"]), 50)
    with pytest.raises(InputError, match="no column 'text'"):
        profile_chunks(iter_batches([path]), spec)


def test_empty_parquet_profiles_to_zero_rows(tmp_path: Path) -> None:
    frame = awkward_frame(200, 5)
    spec = build_spec(frame)
    path = write(tmp_path / "empty.parquet", frame.iloc[:0], 10)
    profile = profile_chunks(iter_batches([path]), spec)
    assert profile.rows == 0
    assert all(col.rows == 0 for col in profile.columns.values())
