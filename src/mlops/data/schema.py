"""The dataset schema: a declarative, versioned YAML file (no code in it, custom checks by name).

Missing values: a value is *missing* when it is null or NaN (pandas cannot tell them apart in a
float column read from CSV). Missing values are governed by `nullable` / `max_missing`.
Infinite values (+inf / -inf) in numeric columns are not missing; they fail the dataset-level
`allow_nan_inf: false` check (the name covers both because NaN/inf are the two IEEE special
values, but NaN is reported as missing).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mlops.atomic import atomic_write_text
from mlops.errors import ConfigError
from mlops.yaml_source import YamlKind, load_yaml

Bound = int | float | str
Scalar = bool | int | float | str


class Dtype(StrEnum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STRING = "string"
    CATEGORY = "category"
    DATETIME = "datetime"


ORDERED_DTYPES = (Dtype.INT, Dtype.FLOAT, Dtype.DATETIME)
TEXT_DTYPES = (Dtype.STRING, Dtype.CATEGORY)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class ColumnSchema(_Strict):
    """Constraints on one column. Unset constraints are not checked.

    `nullable: false` (the default) forbids missing values; `max_missing: 0.05` allows up to 5%
    of rows to be missing and implies nullable. `regex` must match the whole value. `unique`
    ignores missing values. `min`/`max` are inclusive; for datetime columns they are ISO strings.
    """

    dtype: Dtype
    nullable: bool = False
    max_missing: float | None = Field(default=None, ge=0.0, le=1.0)
    min: Bound | None = None
    max: Bound | None = None
    allowed: list[Scalar] | None = None
    regex: str | None = None
    unique: bool = False
    description: str | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _dates_as_iso_strings(cls, value: Any) -> Any:
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, bool):
            raise ValueError("a bound must be a number or a date, not a boolean")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("a bound must be finite")
        return value

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSchema:
        explicit_not_nullable = "nullable" in self.model_fields_set and not self.nullable
        if self.max_missing is not None and explicit_not_nullable:
            raise ValueError("set either 'nullable: false' or 'max_missing', not both")
        has_bounds = self.min is not None or self.max is not None
        if has_bounds and self.dtype not in ORDERED_DTYPES:
            raise ValueError(f"min/max apply to int, float and datetime columns, not {self.dtype}")
        if self.dtype in ORDERED_DTYPES and self.dtype is not Dtype.DATETIME:
            for name in ("min", "max"):
                if isinstance(getattr(self, name), str):
                    raise ValueError(f"'{name}' of a numeric column must be a number")
        if self.dtype is Dtype.DATETIME:
            for name in ("min", "max"):
                bound = getattr(self, name)
                if bound is not None:
                    _parse_timestamp(bound, name)
        if self.min is not None and self.max is not None and self.min_bound() > self.max_bound():
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.regex is not None and self.dtype not in TEXT_DTYPES:
            raise ValueError(f"regex applies to string and category columns, not {self.dtype}")
        return self

    def min_bound(self) -> Any:
        return self._bound(self.min, "min")

    def max_bound(self) -> Any:
        return self._bound(self.max, "max")

    def _bound(self, value: Bound | None, name: str) -> Any:
        if value is None or self.dtype is not Dtype.DATETIME:
            return value
        return _parse_timestamp(value, name)


def _parse_timestamp(value: Bound, name: str) -> Any:
    import pandas as pd

    try:
        return pd.Timestamp(str(value))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"'{name}' must be an ISO date or timestamp, got {value!r}") from exc


class CustomCheck(_Strict):
    """A reference to a function registered with `@register_check(name)` in `checks_module`."""

    name: str
    column: str | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)


class DatasetSchema(_Strict):
    """The whole-dataset contract; `required: null` means every declared column is required."""

    schema_version: Literal[1] = 1
    columns: dict[str, ColumnSchema]
    required: list[str] | None = None
    allow_extra_columns: bool = True
    min_rows: int | None = Field(default=None, ge=0)
    max_rows: int | None = Field(default=None, ge=0)
    no_duplicate_rows: bool = False
    allow_nan_inf: bool = False
    custom: list[CustomCheck] = Field(default_factory=list)

    @field_validator("columns", mode="before")
    @classmethod
    def _names_as_strings(cls, value: Any) -> Any:
        # YAML reads a bare `2024:` key as an int; a column name is always a string.
        if isinstance(value, Mapping):
            return {str(k): v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSchema:
        unknown = [c for c in self.required or () if c not in self.columns]
        if unknown:
            raise ValueError(f"required lists undeclared columns: {', '.join(unknown)}")
        low, high = self.min_rows, self.max_rows
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_rows ({low}) > max_rows ({high})")
        for check in self.custom:
            if check.column is not None and check.column not in self.columns:
                raise ValueError(f"custom check '{check.name}' names undeclared column")
        return self

    @property
    def required_columns(self) -> list[str]:
        return list(self.columns) if self.required is None else list(self.required)

    def reader_dtypes(self) -> dict[str, str]:
        """CSV parsing hints: text columns stay text (no '01234' -> 1234 surprises)."""
        return {name: "str" for name, c in self.columns.items() if c.dtype in TEXT_DTYPES}


SCHEMA_FILE = YamlKind(
    label="schema",
    max_bytes=64 * 1024 * 1024,
    max_nodes=2_000_000,  # thousands of columns with their allowed values; no alias bombs
    interpolate=False,
    missing_hint="check the `schema:` path in mlops.yaml, or create one with `mlops infer`",
)


def load_schema(path: str | Path) -> DatasetSchema:
    """Read and validate a schema YAML file.

    Args:
        path: the schema file.

    Returns:
        The validated schema.

    Raises:
        ConfigError: the file cannot be read, is not safe YAML (tags, duplicate keys, alias
            bombs) or is not a valid schema; one sentence naming file:line:col (exit 2).
    """
    doc = load_yaml(Path(path), SCHEMA_FILE)
    if not isinstance(doc.data, dict):
        raise ConfigError(
            f"{doc.where(())}: a schema file must contain a mapping with 'columns', "
            f"not {type(doc.data).__name__}",
            hint="start from a schema written by `mlops infer`",
        )
    try:
        return DatasetSchema.model_validate(doc.data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ConfigError(
            f"{doc.where(loc)}: {key}: {error['msg'].removeprefix('Value error, ')}{more}",
            hint="see the schema reference for the allowed keys and values",
        ) from None


def dump_schema(
    schema: DatasetSchema, path: str | Path, comments: Mapping[str, str] | None = None
) -> None:
    """Write `schema` as YAML, with `comments` appended to lines as `# ...`.

    Comment keys are dataset field names (`min_rows`) or `columns.<name>.<field>`; the key
    `columns.<name>` annotates the column's own line and `""` becomes a header comment.
    """
    atomic_write_text(path, schema_to_yaml(schema, comments))


def schema_to_yaml(schema: DatasetSchema, comments: Mapping[str, str] | None = None) -> str:
    comments = comments or {}
    data = schema.model_dump(mode="json", exclude_defaults=True)
    data = {"schema_version": schema.schema_version, **data}
    lines: list[str] = [f"# {_printable(line)}" for line in comments.get("", "").splitlines()]
    for key, value in data.items():
        if key != "columns":
            lines.append(_line(0, key, value, comments.get(key)))
            continue
        lines.append("columns:")
        for name, column in value.items():
            prefix = f"columns.{name}"
            lines.append(_line(2, name, None, comments.get(prefix)))
            for field, field_value in column.items():
                lines.append(_line(4, field, field_value, comments.get(f"{prefix}.{field}")))
    return "\n".join(lines) + "\n"


def _line(indent: int, key: str, value: Any, comment: str | None) -> str:
    text = f"{' ' * indent}{_flow(key)}:"
    if value is not None or indent == 0:
        text += f" {_flow(value)}"
    if comment:
        text += "  # " + " ".join(_printable(comment).split())
    return text


def _printable(text: str) -> str:
    # YAML rejects control characters even inside comments.
    return "".join(c if c.isprintable() else " " for c in text)


def _flow(value: Any) -> str:
    import yaml

    def dump(allow_unicode: bool) -> str:
        text = yaml.safe_dump(
            value,
            default_flow_style=True,
            allow_unicode=allow_unicode,
            width=float("inf"),
            sort_keys=False,
        )
        return text.removesuffix("\n...\n").strip()

    readable = dump(allow_unicode=True)
    # Unicode line separators (e.g. U+0085) are written raw and then read back as line breaks;
    # escaped output is always faithful.
    text = readable if yaml.safe_load(readable) == value else dump(allow_unicode=False)
    if "\n" not in text:
        return text
    # A value with line breaks must still fit on one line of this hand-laid document.
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return text


def _quoted(text: str) -> str:
    """A one-line YAML double-quoted scalar; every non-printable character escaped."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        else:
            out.append(f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'
