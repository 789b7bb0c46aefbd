"""Validation results do not depend on how the data is cut into chunks, nor on the dtype each
chunk happens to be read as (an int column read as text in one chunk, as float in another)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops.data.readers import iter_chunks_with_offset
from mlops.data.results import ValidationReport
from mlops.data.schema import DatasetSchema
from mlops.data.validate import validate_chunks

SCHEMA = DatasetSchema.model_validate(
    {
        "columns": {
            "n": {"dtype": "int", "nullable": True, "unique": True, "min": -5},
            "x": {"dtype": "float", "nullable": True, "max": 2},
            "s": {"dtype": "string", "nullable": True, "unique": True},
            "b": {"dtype": "bool", "nullable": True},
            "t": {"dtype": "datetime", "nullable": True, "unique": True},
        },
        "no_duplicate_rows": True,
    }
)


def validate(path: Path, chunk_rows: int, schema: DatasetSchema = SCHEMA) -> ValidationReport:
    chunks = iter_chunks_with_offset(
        [path], chunk_rows=chunk_rows, dtypes=schema.reader_dtypes()
    )  # as `mlops validate` reads
    return validate_chunks(chunks, schema)


def outcome(report: ValidationReport) -> dict[str, Any]:
    """Everything a report says; a dtype failure's sample value is compared as text, since the
    text '2.5' and the float 2.5 are the same cell read two ways."""
    checks = {}
    for c in report.checks:
        shown = str if c.check == "dtype" else (lambda v: v)
        samples = [(s.row, _plain(shown(s.value))) for s in c.samples]
        message = c.message if c.check != "dtype" else None
        checks[c.name] = (c.passed, c.failing_rows, samples, message)
    return {"passed": report.passed, "rows": report.n_rows, "checks": checks}


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, str) and _is_number(value) else value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_duplicate_row_in_a_chunk_read_as_ints_after_one_read_as_text(tmp_path: Path) -> None:
    # chunk 1 holds a word in the int column (read as text), chunk 2 is read as int64
    path = tmp_path / "d.csv"
    path.write_text("id,n\n1,5\n2,oops\n3,7\n1,5\n")
    spec = DatasetSchema.model_validate(
        {"columns": {"id": {"dtype": "int", "unique": True}, "n": {"dtype": "int"}}}
        | {"no_duplicate_rows": True}
    )
    for chunk_rows in (1, 2, 3, 100):
        checks = {c.name: c for c in validate(path, chunk_rows, spec).checks}
        duplicates = checks["dataset.no_duplicate_rows"]
        assert (duplicates.failing_rows, [s.row for s in duplicates.samples]) == (1, [3])
        assert [s.row for s in checks["id.unique"].samples] == [3]
        assert [(s.row, s.value) for s in checks["n.dtype"].samples] == [(1, "oops")]


def test_rows_differing_only_in_values_that_fail_their_dtype_are_not_duplicates(
    tmp_path: Path,
) -> None:
    path = tmp_path / "d.csv"
    path.write_text("n,y\noops,1\nnope,1\n5,1\n5.0,1\n")
    spec = DatasetSchema.model_validate(
        {"columns": {"n": {"dtype": "int"}}, "no_duplicate_rows": True}
    )
    for chunk_rows in (1, 2, 4):
        checks = {c.name: c for c in validate(path, chunk_rows, spec).checks}
        assert [s.row for s in checks["dataset.no_duplicate_rows"].samples] == [3]


def test_undeclared_columns_compare_by_value_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("u,v\n9007199254740993,True\nword,x\n9007199254740993,True\n")
    spec = DatasetSchema.model_validate({"columns": {}, "no_duplicate_rows": True})
    for chunk_rows in (1, 2, 3):
        checks = {c.name: c for c in validate(path, chunk_rows, spec).checks}
        assert [s.row for s in checks["dataset.no_duplicate_rows"].samples] == [2]


def test_long_integers_one_apart_are_not_duplicates(tmp_path: Path) -> None:
    # 2**53 + 1 and 2**53 are equal as floats; read as text in one chunk, they must stay apart
    path = tmp_path / "d.csv"
    path.write_text("n\n9007199254740993\nword\n9007199254740992\n")
    spec = DatasetSchema.model_validate({"columns": {"n": {"dtype": "int", "unique": True}}})
    for chunk_rows in (1, 2, 3):
        assert validate(path, chunk_rows, spec).checks[-1].failing_rows == 0


INTS = st.one_of(
    st.integers(-6, 3).map(str),
    st.sampled_from(["-0", "3.0", "2.5", "oops", ""]),
)
FLOATS = st.sampled_from(["1", "1.0", "-0.0", "0", "2.5", "inf", "-inf", "nan", "word", ""])
TEXTS = st.sampled_from(["a", "b", "5", "", "A"])
BOOLS = st.sampled_from(["True", "False", "true", "FALSE", "1", "0", "yes", "maybe", ""])
TIMES = st.sampled_from(
    ["2024-01-01", "2024-01-01 00:00:00", "2024-01-01T00:00:00.5", "2024-01-02", "soon", ""]
)
EXTRA = st.sampled_from(["1", "1.0", "x", "True", "true", "", "-0"])
ROW = st.tuples(INTS, FLOATS, TEXTS, BOOLS, TIMES, EXTRA)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(ROW, min_size=1, max_size=25), chunk_rows=st.integers(1, 9))
def test_chunk_size_never_changes_any_result(
    tmp_path: Path, rows: list[tuple[str, ...]], chunk_rows: int
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["n", "x", "s", "b", "t", "extra"])
    writer.writerows(rows)
    path = tmp_path / "data.csv"
    path.write_text(out.getvalue())
    whole = outcome(validate(path, 10_000))
    assert outcome(validate(path, chunk_rows)) == whole


@pytest.mark.parametrize("chunk_rows", [1, 3])
def test_no_duplicates_when_every_row_differs(tmp_path: Path, chunk_rows: int) -> None:
    path = tmp_path / "d.csv"
    path.write_text("n,x\n1,1.5\n1,2.5\n2,1.5\n,1.5\n1,\n")
    spec = DatasetSchema.model_validate(
        {
            "columns": {"n": {"dtype": "int", "nullable": True}, "x": {"dtype": "float"}},
            "no_duplicate_rows": True,
        }
    )
    checks = {c.name: c for c in validate(path, chunk_rows, spec).checks}
    assert checks["dataset.no_duplicate_rows"].passed


def test_a_chunk_read_as_booleans_keeps_them_apart_from_ones(tmp_path: Path) -> None:
    # chunk 1 reads the column as ints (1), chunk 2 as Python booleans (True, NaN): True is a
    # truth value, not the number 1, as it is when the whole file is read as text
    path = tmp_path / "d.csv"
    path.write_text("a,e\n" + "0,1\n" * 7 + "0,True\n0,True\n0,\n")
    spec = DatasetSchema.model_validate({"columns": {}, "no_duplicate_rows": True})
    counts = {
        chunk_rows: next(
            c.failing_rows for c in validate(path, chunk_rows, spec).checks
            if c.name == "dataset.no_duplicate_rows"
        )
        for chunk_rows in (7, 10_000)
    }  # fmt: skip
    assert counts == {7: 7, 10_000: 7}
