from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops.data.schema import DatasetSchema, dump_schema, load_schema, schema_to_yaml
from mlops.errors import ConfigError
from mlops.store import Store

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
        ("columns: {a: {dtype: int, colour: red}}", ":1:27: columns.a.colour: Extra inputs"),
        ("columns: {a: {dtype: decimal}}", ":1:15: columns.a.dtype: Input should be"),
        ("columns: {a: {dtype: int, min: 5, max: 1}}", ":1:11: columns.a: min (5) is greater"),
        ("columns: {a: {dtype: string, min: 1}}", ":1:11: columns.a: min/max apply"),
        ("columns: {a: {dtype: int, regex: 'x'}}", ":1:11: columns.a: regex applies"),
        ("columns: {a: {dtype: string, regex: '(unclosed'}}", ":1:30: columns.a.regex: invalid"),
        (
            "columns: {a: {dtype: float, nullable: false, max_missing: 0.1}}",
            ":1:11: columns.a: set",
        ),
        ("columns: {a: {dtype: int}}\nrequired: [b]", ":1:1: (top level): required lists"),
        ("schema_version: 2\ncolumns: {a: {dtype: int}}", ":1:1: schema_version: Input should"),
        ("columns: [a, b]", ":1:1: columns: Input should be a valid dictionary"),
        ("columns: {a: {dtype: int}\n", ":2:1: expected ',' or '}'"),
        ("- just a list", ":1:1: a schema file must contain a mapping"),
    ],
)
def test_invalid_schemas_are_positioned_config_errors(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_schema(path)
    assert info.value.message.startswith(f"{path}{fragment}"), info.value.message
    assert "\n" not in info.value.message


def test_missing_schema_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml: file not found") as info:
        load_schema(tmp_path / "nope.yaml")
    assert "mlops infer" in (info.value.hint or "")


# Nine levels of ten aliases: a billion values from a few hundred bytes.
ALIAS_BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)
)
UNSAFE_SCHEMAS = {
    "python tag": (
        "columns:\n  a: !!python/object/apply:os.system [echo hi]\n",
        ":2:6: the YAML tag !!python/object/apply:os.system is not allowed",
    ),
    "binary tag": (
        "columns:\n  a:\n    dtype: int\n    min: !!binary aGVsbG8=\n",
        ":4:10: the YAML tag !!binary is not allowed",
    ),
    "custom tag": ("columns: !cols\n  a: {dtype: int}\n", ":1:10: the YAML tag !cols"),
    "alias bomb": (
        ALIAS_BOMB + "columns: {a: {dtype: int}}\n",
        ":7:5: a6 expands to more than 2000000 values",
    ),
}


@pytest.mark.parametrize("case", sorted(UNSAFE_SCHEMAS))
def test_schema_files_with_tags_or_alias_bombs_are_refused(tmp_path: Path, case: str) -> None:
    text, fragment = UNSAFE_SCHEMAS[case]
    path = tmp_path / "schema.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_schema(path)
    assert info.value.message.startswith(f"{path}{fragment}"), info.value.message


@pytest.mark.parametrize("case", sorted(UNSAFE_SCHEMAS))
def test_validate_refuses_an_unsafe_schema_file_with_exit_2_and_one_sentence(
    tmp_path: Path, cli, case: str
) -> None:
    text, fragment = UNSAFE_SCHEMAS[case]
    (tmp_path / "schema.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "data.csv").write_text("a\n1\n2\n", encoding="utf-8")
    (tmp_path / "mlops.yaml").write_text("project: demo\n", encoding="utf-8")
    result = cli("validate", "data.csv", "--schema", "schema.yaml", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: schema.yaml{fragment}"), result.stderr
    assert len(lines) == 2 and lines[1].startswith("hint: "), result.stderr
    assert "Traceback" not in result.stderr
    store = tmp_path / ".mlops"
    assert not store.exists() or Store.open(store).list_artifacts() == []  # nothing recorded


def test_yaml_dates_and_numeric_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("columns:\n  2024: {dtype: datetime, min: 2020-01-01}\n", encoding="utf-8")
    schema = load_schema(path)
    assert schema.columns["2024"].min == "2020-01-01"
