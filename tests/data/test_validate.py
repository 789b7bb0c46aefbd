from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlops.data.checks import register_check
from mlops.data.readers import iter_chunks_with_offset
from mlops.data.results import ReasonCode, ValidationReport
from mlops.data.schema import DatasetSchema
from mlops.data.validate import validate_chunks, validate_frame
from mlops.errors import ConfigError


@register_check("test_even")
def _even(series: pd.Series, divisor: int = 2) -> pd.Series:
    return series % divisor != 0


@register_check("test_a_le_b")
def _a_le_b(frame: pd.DataFrame) -> pd.Series:
    return frame["a"] > frame["b"]


def schema(columns: dict[str, Any], **dataset: Any) -> DatasetSchema:
    return DatasetSchema.model_validate({"columns": columns, **dataset})


def by_name(report: ValidationReport) -> dict[str, Any]:
    return {c.name: c for c in report.checks}


def write_csv(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def validate_csv(path: Path, spec: DatasetSchema, chunk_rows: int = 2) -> ValidationReport:
    return validate_chunks(iter_chunks_with_offset([path], chunk_rows=chunk_rows), spec)


# (schema columns, dataset options, passing csv, failing csv, failing check name, reason)
CASES: list[tuple[str, dict, dict, str, str, str, ReasonCode]] = [
    (
        "column",
        {"x": {"dtype": "int"}},
        {},
        "x\n1\n",
        "y\n1\n",
        "x.required",
        ReasonCode.COLUMN_MISSING,
    ),
    (
        "extra",
        {"x": {"dtype": "int"}},
        {"allow_extra_columns": False},
        "x\n1\n",
        "x,y\n1,2\n",
        "dataset.allow_extra_columns",
        ReasonCode.EXTRA_COLUMNS,
    ),
    (
        "dtype",
        {"x": {"dtype": "int"}},
        {},
        "x\n1\n2\n",
        "x\n1\nabc\n",
        "x.dtype",
        ReasonCode.DTYPE_MISMATCH,
    ),
    (
        "dtype_float",
        {"x": {"dtype": "int"}},
        {},
        "x\n1\n2.0\n",
        "x\n1\n2.5\n",
        "x.dtype",
        ReasonCode.DTYPE_MISMATCH,
    ),
    (
        "nullable",
        {"x": {"dtype": "float"}},
        {},
        "x\n1\n2\n",
        "x\n1\n\n",
        "x.nullable",
        ReasonCode.NULL_VALUES,
    ),
    (
        "max_missing",
        {"x": {"dtype": "float", "max_missing": 0.5}},
        {},
        "x\n1\n\n",
        "x\n\n\n1\n",
        "x.max_missing",
        ReasonCode.TOO_MANY_MISSING,
    ),
    (
        "min",
        {"x": {"dtype": "float", "min": 0}},
        {},
        "x\n0\n3\n",
        "x\n0\n-3\n",
        "x.min",
        ReasonCode.BELOW_MIN,
    ),
    (
        "max",
        {"x": {"dtype": "int", "max": 120}},
        {},
        "x\n120\n",
        "x\n121\n",
        "x.max",
        ReasonCode.ABOVE_MAX,
    ),
    (
        "allowed",
        {"x": {"dtype": "category", "allowed": ["a", "b"]}},
        {},
        "x\na\nb\n",
        "x\na\nc\n",
        "x.allowed",
        ReasonCode.NOT_ALLOWED,
    ),
    (
        "regex",
        {"x": {"dtype": "string", "regex": r"[A-Z]{2}\d"}},
        {},
        "x\nAB1\n",
        "x\nAB1\nab1\n",
        "x.regex",
        ReasonCode.REGEX_MISMATCH,
    ),
    (
        "unique",
        {"x": {"dtype": "int", "unique": True}},
        {},
        "x\n1\n2\n3\n",
        "x\n1\n2\n3\n1\n",
        "x.unique",
        ReasonCode.NOT_UNIQUE,
    ),
    (
        "duplicates",
        {"x": {"dtype": "int"}, "y": {"dtype": "string"}},
        {"no_duplicate_rows": True},
        "x,y\n1,a\n1,b\n2,a\n",
        "x,y\n1,a\n2,b\n3,c\n1,a\n",
        "dataset.no_duplicate_rows",
        ReasonCode.DUPLICATE_ROWS,
    ),
    (
        "inf",
        {"x": {"dtype": "float"}},
        {},
        "x\n1.5\n",
        "x\n1.5\ninf\n",
        "x.allow_nan_inf",
        ReasonCode.NAN_OR_INF,
    ),
    (
        "rows",
        {"x": {"dtype": "int"}},
        {"min_rows": 2, "max_rows": 3},
        "x\n1\n2\n",
        "x\n1\n",
        "dataset.row_count",
        ReasonCode.ROW_COUNT,
    ),
    (
        "custom_column",
        {"x": {"dtype": "int"}},
        {"custom": [{"name": "test_even", "column": "x"}]},
        "x\n2\n4\n",
        "x\n2\n3\n",
        "x.custom:test_even",
        ReasonCode.CUSTOM,
    ),
    (
        "custom_frame",
        {"a": {"dtype": "int"}, "b": {"dtype": "int"}},
        {"custom": [{"name": "test_a_le_b"}]},
        "a,b\n1,2\n",
        "a,b\n1,2\n3,2\n",
        "dataset.custom:test_a_le_b",
        ReasonCode.CUSTOM,
    ),
    (
        "datetime_min",
        {"t": {"dtype": "datetime", "min": "2020-01-01"}},
        {},
        "t\n2020-01-01\n2021-06-01T10:00\n",
        "t\n2021-01-01\n2019-12-31\n",
        "t.min",
        ReasonCode.BELOW_MIN,
    ),
    (
        "bool",
        {"b": {"dtype": "bool"}},
        {},
        "b\nTrue\nFalse\n",
        "b\nTrue\nmaybe\n",
        "b.dtype",
        ReasonCode.DTYPE_MISMATCH,
    ),
]


@pytest.mark.parametrize(
    ("label", "columns", "dataset", "good", "bad", "check", "reason"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_every_check_passes_and_fails(
    tmp_path: Path,
    label: str,
    columns: dict,
    dataset: dict,
    good: str,
    bad: str,
    check: str,
    reason: ReasonCode,
) -> None:
    spec = schema(columns, **dataset)
    passing = validate_csv(write_csv(tmp_path, good, "good.csv"), spec)
    assert passing.passed, [c.message for c in passing.failures]
    assert check in by_name(passing)
    failing = validate_csv(write_csv(tmp_path, bad, "bad.csv"), spec)
    assert [c.name for c in failing.failures] == [check]
    result = failing.failures[0]
    assert result.reason is reason
    assert result.message.endswith(".") and "must" in result.message


def test_all_failures_collected_in_one_report(tmp_path: Path) -> None:
    spec = schema(
        {
            "age": {"dtype": "int", "min": 0, "max": 120},
            "city": {"dtype": "category", "allowed": ["Paris", "Lyon"]},
            "score": {"dtype": "float", "nullable": True},
            "code": {"dtype": "string", "regex": r"[A-Z]{3}", "unique": True},
            "gone": {"dtype": "int"},
        },
        allow_extra_columns=False,
        no_duplicate_rows=True,
        min_rows=10,
    )
    text = (
        "age,city,score,code,bonus\n"
        "30,Paris,1.0,ABC,1\n"
        "-3,Lyon,2.0,ABD,1\n"
        "150,Nowhere,inf,abc,1\n"
        "40,Paris,,ABC,1\n"
        "-3,Lyon,2.0,ABD,1\n"
    )
    report = validate_csv(write_csv(tmp_path, text), spec)
    failed = {c.name: c for c in report.failures}
    assert set(failed) == {
        "gone.required",
        "dataset.allow_extra_columns",
        "dataset.row_count",
        "age.min",
        "age.max",
        "city.allowed",
        "score.allow_nan_inf",
        "code.regex",
        "code.unique",
        "dataset.no_duplicate_rows",
    }
    assert failed["age.min"].failing_rows == 2
    assert [(s.row, s.value) for s in failed["age.min"].samples] == [(1, -3), (4, -3)]
    assert failed["age.min"].message == "Column 'age' must be >= 0; 2 rows fail (e.g. -3 at row 1)."
    assert [s.row for s in failed["code.unique"].samples] == [3, 4]
    assert [s.row for s in failed["dataset.no_duplicate_rows"].samples] == [4]
    assert report.n_rows == 5 and not report.passed
    assert "score.nullable" not in by_name(report)


def test_report_to_dict_is_json_with_stable_keys(tmp_path: Path) -> None:
    spec = schema({"x": {"dtype": "float", "max": 1}})
    report = validate_csv(write_csv(tmp_path, "x\n0.5\n2\n-inf\n"), spec)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["report_version"] == 1
    assert set(data) == {
        "report_version",
        "passed",
        "n_rows",
        "columns",
        "n_checks",
        "n_failed",
        "checks",
    }
    assert set(data["checks"][0]) == {
        "name",
        "check",
        "reason",
        "column",
        "passed",
        "failing_rows",
        "message",
        "samples",
    }
    inf = next(c for c in data["checks"] if c["reason"] == "nan_or_inf")
    assert inf["samples"] == [{"row": 2, "column": "x", "value": "-inf"}]


def test_samples_capped_but_counts_complete(tmp_path: Path) -> None:
    spec = schema({"x": {"dtype": "int", "min": 0}})
    path = write_csv(tmp_path, "x\n" + "-1\n" * 100)
    report = validate_chunks(iter_chunks_with_offset([path], chunk_rows=7), spec, sample_limit=5)
    (failure,) = report.failures
    assert failure.failing_rows == 100
    assert [s.row for s in failure.samples] == [0, 1, 2, 3, 4]


def test_uniqueness_across_chunks_and_files(tmp_path: Path) -> None:
    a = write_csv(tmp_path, "id\n" + "".join(f"{i}\n" for i in range(50)), "a.csv")
    b = write_csv(tmp_path, "id\n" + "".join(f"{i}\n" for i in range(45, 60)), "b.csv")
    spec = schema({"id": {"dtype": "int", "unique": True}})
    report = validate_chunks(iter_chunks_with_offset([a, b], chunk_rows=8), spec)
    (failure,) = report.failures
    assert failure.failing_rows == 5
    assert [s.row for s in failure.samples] == [50, 51, 52, 53, 54]
    assert [s.value for s in failure.samples] == [45, 46, 47, 48, 49]


def test_all_nan_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "x,y\n,1\n,2\n,3\n")
    nullable = schema({"x": {"dtype": "string", "nullable": True}, "y": {"dtype": "int"}})
    assert validate_csv(path, nullable).passed
    strict = schema({"x": {"dtype": "float", "min": 0}, "y": {"dtype": "int"}})
    report = validate_csv(path, strict)
    assert [c.name for c in report.failures] == ["x.nullable"]
    assert report.failures[0].failing_rows == 3
    assert (
        report.failures[0].message
        == "Column 'x' must have no missing values; 3 rows fail (e.g. row 0)."
    )


def test_million_distinct_categories(tmp_path: Path) -> None:
    n = 1_000_000
    path = tmp_path / "big.csv"
    pd.DataFrame({"cat": [f"c{i}" for i in range(n)], "v": np.arange(n) % 7}).to_csv(
        path, index=False
    )
    spec = schema(
        {
            "cat": {"dtype": "category", "unique": True, "regex": r"c\d+"},
            "v": {"dtype": "int", "max": 6},
        },
        no_duplicate_rows=True,
    )
    report = validate_chunks(iter_chunks_with_offset([path], chunk_rows=200_000), spec)
    assert report.passed, [c.message for c in report.failures]
    assert report.n_rows == n
    spec_allowed = schema(
        {"cat": {"dtype": "category", "allowed": ["c1", "c2"]}, "v": {"dtype": "int"}}
    )
    report = validate_chunks(iter_chunks_with_offset([path], chunk_rows=200_000), spec_allowed)
    (failure,) = report.failures
    assert failure.failing_rows == n - 2 and len(failure.samples) == 20


def test_header_only_file_validates_as_zero_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "x,y\n")
    spec = schema({"x": {"dtype": "int", "min": 0}, "y": {"dtype": "string"}}, min_rows=1)
    report = validate_csv(path, spec)
    assert [c.name for c in report.failures] == ["dataset.row_count"]
    assert report.n_rows == 0


def test_dtype_mismatch_values_are_not_double_counted(tmp_path: Path) -> None:
    spec = schema({"x": {"dtype": "float", "min": 0}})
    report = validate_csv(write_csv(tmp_path, "x\n1\nabc\n-1\n"), spec, chunk_rows=10)
    assert {c.name: c.failing_rows for c in report.failures} == {"x.dtype": 1, "x.min": 1}


def test_string_column_with_numeric_values_needs_reader_hint(tmp_path: Path) -> None:
    spec = schema({"zip": {"dtype": "string", "regex": r"\d{5}"}})
    path = write_csv(tmp_path, "zip\n01234\n75001\n")
    report = validate_chunks(iter_chunks_with_offset([path], dtypes=spec.reader_dtypes()), spec)
    assert report.passed


def test_validate_frame_does_not_modify_or_copy_input() -> None:
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0], "s": pd.Series(["a", "b", None], dtype="str")})
    before = frame.copy()
    spec = schema(
        {"x": {"dtype": "int", "nullable": True}, "s": {"dtype": "string", "max_missing": 0.5}}
    )
    assert validate_frame(frame, spec).passed
    pd.testing.assert_frame_equal(frame, before)


def test_unknown_custom_check_is_a_config_error() -> None:
    spec = schema({"x": {"dtype": "int"}}, custom=[{"name": "nope"}])
    with pytest.raises(ConfigError, match="custom check 'nope'"):
        validate_frame(pd.DataFrame({"x": [1]}), spec)


def test_custom_check_returning_wrong_shape_is_a_config_error() -> None:
    @register_check("test_bad_shape")
    def bad(frame: pd.DataFrame) -> np.ndarray:
        return np.array([True])

    spec = schema({"x": {"dtype": "int"}}, custom=[{"name": "test_bad_shape"}])
    with pytest.raises(ConfigError, match="not a boolean mask of 3 rows"):
        validate_frame(pd.DataFrame({"x": [1, 2, 3]}), spec)


def test_custom_check_kwargs_passed(tmp_path: Path) -> None:
    spec = schema(
        {"x": {"dtype": "int"}},
        custom=[{"name": "test_even", "column": "x", "kwargs": {"divisor": 3}}],
    )
    report = validate_frame(pd.DataFrame({"x": [3, 6, 7]}), spec)
    assert report.failures[0].samples[0].row == 2


def test_parquet_validation_with_datetimes(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    frame = pd.DataFrame({"t": pd.to_datetime(["2021-01-01", "2019-01-01"]), "k": ["a", "b"]})
    frame.to_parquet(path, row_group_size=1)
    spec = schema({"t": {"dtype": "datetime", "min": "2020-01-01"}, "k": {"dtype": "category"}})
    report = validate_chunks(iter_chunks_with_offset([path], chunk_rows=1), spec)
    assert [(c.name, c.samples[0].row) for c in report.failures] == [("t.min", 1)]


def test_duration_samples_are_iso_8601_durations_in_json() -> None:
    # A column of Python objects (a frame built in code) keeps datetime.timedelta values as they
    # are; the JSON report must show them as pandas shows its own durations (next test).
    frame = pd.DataFrame({"d": pd.Series(["ok", timedelta(days=1, hours=2)], dtype=object)})
    report = validate_frame(frame, schema({"d": {"dtype": "string"}}))
    (failure,) = report.failures
    assert failure.name == "d.dtype" and failure.samples[0].value == timedelta(days=1, hours=2)
    sample = json.loads(json.dumps(report.to_dict()))["checks"][1]["samples"][0]
    assert sample == {"row": 1, "column": "d", "value": "P1DT2H0M0S"}


def test_parquet_duration_samples_are_iso_8601_durations_in_json(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pd.DataFrame({"d": pd.to_timedelta(["1 days 02:00:00"])}).to_parquet(path)
    spec = schema({"d": {"dtype": "string"}})
    report = validate_chunks(iter_chunks_with_offset([path], chunk_rows=1), spec)
    (failure,) = report.failures
    assert failure.name == "d.dtype" and isinstance(failure.samples[0].value, pd.Timedelta)
    assert failure.to_dict()["samples"] == [{"row": 0, "column": "d", "value": "P1DT2H0M0S"}]
