"""Hostile and random CSV files: the reader yields frames or refuses with an mlops error
(exit 2, naming the file), never another exception; so does `mlops validate --infer`."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.cli import invoke_cli
from mlops.data.readers import iter_chunks
from mlops.errors import MlopsError

cells = st.one_of(
    st.text(alphabet='ab1.,"\n\r\t;\x00 é-e+', max_size=8),
    st.sampled_from(["", "NaN", "inf", "-Infinity", "1e999", "9" * 400, '"', '""', "\ufeff"]),
)
rows = st.lists(st.lists(cells, min_size=1, max_size=4), min_size=0, max_size=8)


def _csv(header: list[str], body: list[list[str]], sep: str) -> bytes:
    lines = [sep.join(header), *(sep.join(r) for r in body)]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


csv_bytes = st.one_of(
    st.builds(
        _csv,
        st.lists(st.text(alphabet="abc ,\"'", min_size=0, max_size=4), min_size=1, max_size=4),
        rows,
        st.sampled_from([",", ";", "\t"]),
    ),
    st.binary(max_size=120),
)


def _read(path: Path, blob: bytes, chunk_rows: int) -> None:
    path.write_bytes(blob)
    try:
        for frame in iter_chunks([path], chunk_rows=chunk_rows):
            assert len(frame) <= chunk_rows
    except MlopsError as e:
        assert e.exit_code == 2, e
        assert str(path.name) in str(e) or "data.csv" in (e.hint or ""), e


@settings(max_examples=200)
@given(blob=csv_bytes, chunk_rows=st.integers(1, 5))
def test_random_csv_reads_or_is_an_input_error(tmp_path: Path, blob: bytes, chunk_rows: int):
    _read(tmp_path / "data.csv", blob, chunk_rows)


@settings(max_examples=30)
@given(blob=csv_bytes)
def test_validate_infer_never_exits_70(tmp_path: Path, blob: bytes) -> None:
    (tmp_path / "data.csv").write_bytes(blob)
    r = invoke_cli("--store", str(tmp_path / "s"), "validate", "data.csv", "--infer", cwd=tmp_path)
    assert r.returncode in (0, 1, 2), r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


def test_a_line_over_the_bound_is_refused_while_it_is_read(tmp_path: Path) -> None:
    from mlops.data.readers import CsvOptions

    path = tmp_path / "big.csv"
    path.write_text("a,b\n1,x\n2," + "y" * 50_000 + "\n3,z\n")
    rows = list(iter_chunks([path], chunk_rows=1, csv_options=CsvOptions(max_line_bytes=60_000)))
    assert sum(len(f) for f in rows) == 3  # under the bound: read as usual
    try:
        list(iter_chunks([path], chunk_rows=1, csv_options=CsvOptions(max_line_bytes=10_000)))
    except MlopsError as e:
        assert e.exit_code == 2
        assert "big.csv' has a line longer than 10,000 bytes (line 3" in str(e)
    else:
        raise AssertionError("a 50 kB line passed a 10 kB bound")
    unquoted = tmp_path / "quote.csv"  # an unclosed quote runs on: refused, not read whole
    unquoted.write_text('a,b\n1,"x\n' + "2,y\n" * 5000)
    try:
        list(iter_chunks([unquoted], csv_options=CsvOptions(max_line_bytes=1000)))
    except MlopsError as e:
        assert "line longer" in str(e) or "could not be parsed" in str(e), e
