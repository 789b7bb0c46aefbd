from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops.data.schema import DatasetSchema, dump_schema, load_schema, schema_to_yaml
from mlops.errors import ConfigError

names = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() == s and s)
texts = st.text(max_size=10)
numbers = st.one_of(st.integers(-(10**9), 10**9), st.floats(-1e9, 1e9, allow_nan=False))


@st.composite
def column_specs(draw: st.DrawFn) -> dict:
    dtype = draw(st.sampled_from(["int", "float", "bool", "string", "category", "datetime"]))
    spec: dict = {"dtype": dtype}
    if draw(st.booleans()):
        spec["max_missing"] = draw(st.floats(0, 1))
    else:
        spec["nullable"] = draw(st.booleans())
    if dtype in ("int", "float") and draw(st.booleans()):
        low, high = sorted([draw(numbers), draw(numbers)])
        spec["min"], spec["max"] = low, high
    if dtype == "datetime" and draw(st.booleans()):
        spec["min"] = draw(st.dates()).isoformat()
    if dtype in ("string", "category"):
        if draw(st.booleans()):
            spec["allowed"] = draw(st.lists(texts, max_size=4))
        if draw(st.booleans()):
            spec["regex"] = draw(st.sampled_from([r"[a-z]+", r"\d{3}-\d{2}", "x|y", r"'\"#:"]))
    spec["unique"] = draw(st.booleans())
    if draw(st.booleans()):
        spec["description"] = draw(texts)
    return spec


@st.composite
def schemas(draw: st.DrawFn) -> DatasetSchema:
    columns = draw(st.dictionaries(names, column_specs(), min_size=1, max_size=4))
    return DatasetSchema.model_validate(
        {
            "columns": columns,
            "allow_extra_columns": draw(st.booleans()),
            "no_duplicate_rows": draw(st.booleans()),
            "allow_nan_inf": draw(st.booleans()),
            "min_rows": draw(st.none() | st.integers(0, 10)),
            "custom": [{"name": "c", "kwargs": {"k": draw(texts)}}] if draw(st.booleans()) else [],
        }
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schema=schemas(), comment=texts)
def test_yaml_round_trip(tmp_path: Path, schema: DatasetSchema, comment: str) -> None:
    path = tmp_path / "schema.yaml"
    first = next(iter(schema.columns))
    dump_schema(schema, path, {"": comment, f"columns.{first}.dtype": comment, "min_rows": comment})
    assert load_schema(path) == schema


def test_yaml_is_readable() -> None:
    schema = DatasetSchema.model_validate(
        {"columns": {"age": {"dtype": "int", "min": 0, "max": 120}}, "min_rows": 1}
    )
    text = schema_to_yaml(schema, {"columns.age.max": "observed 97"})
    assert text == (
        "schema_version: 1\ncolumns:\n  age:\n    dtype: int\n    min: 0\n"
        "    max: 120  # observed 97\nmin_rows: 1\n"
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("columns: {a: {dtype: int, colour: red}}", "columns.a.colour"),
        ("columns: {a: {dtype: decimal}}", "columns.a.dtype"),
        ("columns: {a: {dtype: int, min: 5, max: 1}}", "greater than max"),
        ("columns: {a: {dtype: string, min: 1}}", "min/max apply"),
        ("columns: {a: {dtype: int, regex: 'x'}}", "regex applies"),
        ("columns: {a: {dtype: string, regex: '(unclosed'}}", "invalid regular expression"),
        ("columns: {a: {dtype: float, nullable: false, max_missing: 0.1}}", "not both"),
        ("columns: {a: {dtype: int}}\nrequired: [b]", "undeclared"),
        ("schema_version: 2\ncolumns: {a: {dtype: int}}", "schema_version"),
        ("columns: [a, b]", "columns"),
        ("columns: {a: {dtype: int}\n", "not valid YAML at line"),
        ("- just a list", "must contain a mapping"),
    ],
)
def test_invalid_schemas_are_config_errors(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=fragment) as info:
        load_schema(path)
    assert str(path) in info.value.message


def test_missing_schema_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_schema(tmp_path / "nope.yaml")


def test_yaml_dates_and_numeric_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("columns:\n  2024: {dtype: datetime, min: 2020-01-01}\n", encoding="utf-8")
    schema = load_schema(path)
    assert schema.columns["2024"].min == "2020-01-01"
