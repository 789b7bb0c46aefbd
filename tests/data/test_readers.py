from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlops.data.readers import (
    CsvOptions,
    expand_paths,
    iter_chunks,
    iter_chunks_with_offset,
    read_frame,
)
from mlops.errors import InputError


def test_expand_paths_files_directories_and_globs(tmp_path: Path, write) -> None:
    b = write("d/b.parquet", b"")
    a = write("d/a.parquet", b"")
    write("d/_SUCCESS", b"")
    write("d/.hidden.parquet", b"")
    c = write("x.csv", "a\n1\n")
    assert expand_paths([tmp_path / "d"]) == [a, b]
    assert expand_paths(["d/*.parquet", "x.csv"], base=tmp_path) == [a, b, c]
    assert expand_paths([c, c]) == [c]


def test_expand_paths_directory_of_csv(tmp_path: Path, write) -> None:
    files = [write(f"csvs/{n}.csv", "a\n1\n") for n in ("2", "1")]
    assert expand_paths([tmp_path / "csvs"]) == sorted(files)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("missing.csv", "does not exist"),
        ("*.nothing", "matches no files"),
        ("empty_dir", "contains no Parquet or CSV files"),
        ("data.json", "unsupported type '.json'"),
    ],
)
def test_expand_paths_errors(tmp_path: Path, write, spec: str, fragment: str) -> None:
    (tmp_path / "empty_dir").mkdir()
    write("data.json", "{}")
    with pytest.raises(InputError, match=fragment):
        expand_paths([spec], base=tmp_path)


def test_csv_chunks_carry_global_offsets(write) -> None:
    first = write("a.csv", "x,y\n" + "".join(f"{i},{i * 2}\n" for i in range(7)))
    second = write("b.csv", "y,x\n" + "".join(f"{i * 2},{i}\n" for i in range(7, 10)))
    chunks = list(iter_chunks_with_offset([first, second], chunk_rows=3))
    assert [offset for offset, _ in chunks] == [0, 3, 6, 7]
    assert [len(frame) for _, frame in chunks] == [3, 3, 1, 3]
    assert chunks[-1][1]["x"].tolist() == [7, 8, 9]
    whole = read_frame([first, second])
    assert whole["x"].tolist() == list(range(10))
    assert list(whole.columns) == ["x", "y"]


def test_parquet_chunks_bounded_by_chunk_rows(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    table = pa.table({"x": np.arange(10), "s": [str(i) for i in range(10)]})
    pq.write_table(table, path, row_group_size=4)
    chunks = list(iter_chunks_with_offset([path], chunk_rows=3))
    assert [o for o, _ in chunks] == [0, 3, 6, 9]
    assert max(len(f) for _, f in chunks) <= 3
    assert read_frame([path], columns=["s"]).columns.tolist() == ["s"]
    assert [len(f) for f in iter_chunks([path], columns=["x"], chunk_rows=100)] == [10]


def test_empty_parquet_yields_one_empty_frame(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"x": pa.array([], pa.int64())}), path)
    frames = list(iter_chunks([path]))
    assert len(frames) == 1 and frames[0].columns.tolist() == ["x"] and len(frames[0]) == 0


def test_header_only_csv_is_readable_with_zero_rows(write) -> None:
    path = write("h.csv", "a,b\n")
    frames = list(iter_chunks([path]))
    assert len(frames) == 1
    assert frames[0].columns.tolist() == ["a", "b"] and len(frames[0]) == 0
    assert len(read_frame([path])) == 0


def test_unicode_column_names_are_fine(write) -> None:
    path = write("u.csv", "âge,城市,emoji🙂\n1,北京,x\n")
    assert read_frame([path]).columns.tolist() == ["âge", "城市", "emoji🙂"]


def test_delimiter_option_and_tsv(write) -> None:
    semi = write("s.csv", "a;b\n1;2\n")
    assert read_frame([semi], csv_options=CsvOptions(delimiter=";"))["b"].tolist() == [2]
    tsv = write("t.tsv", "a\tb\n1\t2\n")
    assert read_frame([tsv]).columns.tolist() == ["a", "b"]


def test_encoding_option(write) -> None:
    path = write("l.csv", "name\ncaf\xe9\n".encode("latin-1"))
    frame = read_frame([path], csv_options=CsvOptions(encoding="latin-1"))
    assert frame["name"].tolist() == ["café"]


def test_dtypes_hint_keeps_leading_zeros(write) -> None:
    path = write("z.csv", "zip\n01234\n")
    assert read_frame([path], dtypes={"zip": "str"})["zip"].tolist() == ["01234"]


def _parquet_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "ok.parquet"
    pq.write_table(pa.table({"x": np.arange(1000)}), path)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("empty.csv", b"", r"is empty \(0 bytes\)"),
        ("semi.csv", b"a;b;c\n1;2;3\n", "looks ';'-delimited"),
        ("tab.csv", b"a\tb\n1\t2\n", r"looks '\\t'-delimited"),
        ("latin.csv", "name\ncaf\xe9\n".encode("latin-1"), "is not valid utf-8 text"),
        ("binary.csv", bytes(range(256)) * 4, "looks binary"),
        ("dups.csv", b"a,b,a\n1,2,3\n", "duplicate column names: 'a'"),
        ("blank.csv", b"\n\n", "no header line"),
        ("ragged.csv", b"a,b\n1,2\n1,2,3,4\n", "could not be parsed as CSV"),
        ("fake.parquet", b"not parquet at all", "not a readable Parquet file"),
    ],
)
def test_bad_files_raise_one_sentence_input_error(
    write, name: str, content: bytes, fragment: str
) -> None:
    path = write(name, content)
    with pytest.raises(InputError, match=fragment) as info:
        read_frame([path])
    assert str(path) in info.value.message
    assert info.value.hint
    assert "\n" not in info.value.message
    with pytest.raises(InputError, match=fragment):
        list(iter_chunks([path], chunk_rows=1))


def test_parquet_named_csv(tmp_path: Path, write) -> None:
    path = write("p.csv", _parquet_bytes(tmp_path))
    with pytest.raises(InputError, match="is a Parquet file, not CSV text"):
        read_frame([path])


def test_truncated_parquet(tmp_path: Path, write) -> None:
    data = _parquet_bytes(tmp_path)
    path = write("cut.parquet", data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or corrupt"):
        read_frame([path])


def test_non_utf8_late_in_a_large_file_is_still_an_input_error(write) -> None:
    body = "".join(f"row{i}\n" for i in range(50_000)).encode() + b"caf\xe9\n"
    path = write("late.csv", b"name\n" + body)
    with pytest.raises(InputError, match="utf-8"):
        for _ in iter_chunks([path], chunk_rows=1000):
            pass


def test_unknown_encoding(write) -> None:
    path = write("a.csv", "a\n1\n")
    with pytest.raises(InputError, match="encoding 'klingon'"):
        read_frame([path], csv_options=CsvOptions(encoding="klingon"))


def test_duplicate_parquet_columns(tmp_path: Path) -> None:
    path = tmp_path / "dup.parquet"
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])
    pq.write_table(table, path)
    with pytest.raises(InputError, match="duplicate column names: 'a'"):
        read_frame([path])


def test_files_with_different_columns(write) -> None:
    a = write("a.csv", "x,y\n1,2\n")
    b = write("b.csv", "x,z\n1,2\n")
    with pytest.raises(InputError, match="different columns"):
        read_frame([a, b])


def test_requested_column_missing(write) -> None:
    path = write("a.csv", "x\n1\n")
    with pytest.raises(InputError, match="has no column"):
        read_frame([path], columns=["nope"])


def test_missing_file_at_read_time(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be opened|does not exist"):
        read_frame([tmp_path / "gone.csv"])


def test_dataframe_round_trip_types(write) -> None:
    path = write("t.csv", "i,f,s,b\n1,1.5,a,True\n2,,b,False\n")
    frame = read_frame([path])
    assert frame["i"].dtype == np.int64
    assert frame["f"].isna().tolist() == [False, True]
    assert pd.api.types.is_string_dtype(frame["s"])
    assert frame["b"].dtype == bool
