"""A model's input signature: which columns it reads, of which type, and what it predicts.

`signature.json` (written by `mlops train`) is read here, tolerantly: `columns` (or `inputs`,
or `features`) is a list of {name, dtype} or a mapping name -> dtype; dtypes use the schema's
words (int, float, bool, string, category, datetime) or pandas dtype names.
Checking a frame against the signature names the first missing or unusable column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError, StoreIntegrityError

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

_ALIASES = {
    "int": "int",
    "integer": "int",
    "long": "int",
    "bool": "bool",
    "boolean": "bool",
    "float": "float",
    "double": "float",
    "number": "float",
    "string": "string",
    "str": "string",
    "object": "string",
    "text": "string",
    "category": "category",
    "categorical": "category",
    "datetime": "datetime",
    "date": "datetime",
    "timestamp": "datetime",
}
# MLflow's column types (mlflow.types.DataType)
_MLFLOW_TYPE = {
    "int": "long",
    "float": "double",
    "bool": "boolean",
    "string": "string",
    "category": "string",
    "datetime": "datetime",
}


def normalize_dtype(dtype: str) -> str:
    d = str(dtype).strip().lower()
    if d in _ALIASES:
        return _ALIASES[d]
    if d.startswith(("int", "uint")):
        return "int"
    if d.startswith("float"):
        return "float"
    if d.startswith(("datetime", "timestamp")):
        return "datetime"
    if d.startswith(("string", "large_string")):
        return "string"
    raise ValueError(f"unknown dtype {dtype!r}")


class SchemaMismatch(InputError):
    """The input does not fit the model's signature; `field` names the column."""

    def __init__(self, message: str, field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.field = field


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str


@dataclass(frozen=True)
class Signature:
    columns: tuple[Column, ...]
    task: str = "classification"
    target: str | None = None
    classes: tuple[Any, ...] = ()
    id_column: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def is_classifier(self) -> bool:
        return self.task.startswith("classif") or bool(self.classes)

    @classmethod
    def from_dict(cls, data: Any, where: str = "signature.json") -> Signature:
        if not isinstance(data, dict):
            raise StoreIntegrityError(f"{where} is not a JSON object")
        spec = data.get("columns", data.get("inputs", data.get("features")))
        cols: list[Column] = []
        try:
            if isinstance(spec, dict):
                items = list(spec.items())
            elif isinstance(spec, list):
                items = [
                    (c["name"], c.get("dtype", c.get("type", "float")))
                    if isinstance(c, dict)
                    else (c, "float")
                    for c in spec
                ]
            else:
                raise ValueError("no `columns` list")
            for name, dtype in items:
                if not isinstance(name, str) or not name:
                    raise ValueError(f"bad column name {name!r}")
                cols.append(Column(name, normalize_dtype(dtype)))
        except (ValueError, KeyError, TypeError) as e:
            raise StoreIntegrityError(f"{where} cannot be read: {e}") from None
        if not cols:
            raise StoreIntegrityError(f"{where} lists no input columns")
        task = str(data.get("task") or ("classification" if data.get("classes") else "regression"))
        classes = tuple(data.get("classes") or ())
        return cls(
            columns=tuple(cols),
            task=task,
            target=data.get("target"),
            classes=classes,
            id_column=data.get("id_column"),
            raw=dict(data),
        )

    def to_dict(self) -> dict[str, Any]:
        # kept: the MLflow-style signature layout, a reshape
        out = dict(self.raw)
        out.update(
            {
                "columns": [{"name": c.name, "dtype": c.dtype} for c in self.columns],
                "task": self.task,
                "target": self.target,
                "classes": list(self.classes),
            }
        )
        if self.id_column:
            out["id_column"] = self.id_column
        return out

    def mlflow_inputs(self) -> list[dict[str, Any]]:
        return [
            {"type": _MLFLOW_TYPE[c.dtype], "name": c.name, "required": True} for c in self.columns
        ]

    def mlflow_outputs(self) -> list[dict[str, Any]]:
        if not self.is_classifier:
            return [{"type": "double", "required": True}]
        if self.classes and all(isinstance(c, bool) for c in self.classes):
            kind = "boolean"
        elif self.classes and all(isinstance(c, int) for c in self.classes):
            kind = "long"
        elif self.classes and all(isinstance(c, int | float) for c in self.classes):
            kind = "double"
        else:
            kind = "string"
        return [{"type": kind, "required": True}]

    # -- checking input --------------------------------------------------------------------
    def check_columns(self, present: list[str], source: str = "the input") -> None:
        have = set(present)
        missing = [c.name for c in self.columns if c.name not in have]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:10])
            more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
            raise SchemaMismatch(
                f"{source} is missing column{'s' if len(missing) > 1 else ''} {shown}{more} "
                "that the model needs",
                field=missing[0],
                hint=f"the model reads: {', '.join(self.names[:30])}",
            )

    def coerce(
        self, frame: pd.DataFrame, offset: int = 0, source: str = "the input"
    ) -> pd.DataFrame:
        """The model's columns, in order, converted to the signature's types.

        Raises SchemaMismatch naming the column (and the first bad row) when a value cannot be
        converted. Extra columns are dropped.
        """
        import pandas as pd

        self.check_columns([str(c) for c in frame.columns], source)
        out: dict[str, Any] = {}
        for col in self.columns:
            out[col.name] = _coerce_series(frame[col.name], col, offset, source)
        return pd.DataFrame(out, index=frame.index)


def _coerce_bool(s: pd.Series, bad: Callable[[Any, str], SchemaMismatch]) -> pd.Series:
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(s.dtype) and not s.isna().any():
        return s
    mapping = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
    mapped = s.astype("string").str.strip().str.lower().map(mapping)
    unknown = mapped.isna().to_numpy() & s.notna().to_numpy()
    if unknown.any():
        raise bad(unknown, "true/false values")
    if mapped.isna().any():
        # missing as NaN, as training read it: scikit-learn's imputers test object columns with
        # x != x, which pandas' NA cannot answer
        values = mapped.to_numpy(dtype=object, na_value=np.nan)
        return pd.Series(values, index=s.index, name=s.name, dtype=object)
    return mapped.astype("bool")


def _coerce_series(s: pd.Series, col: Column, offset: int, source: str) -> pd.Series:
    import numpy as np
    import pandas as pd

    def bad(mask: Any, what: str) -> SchemaMismatch:
        pos = int(np.flatnonzero(np.asarray(mask))[0])
        value = s.iloc[pos]
        return SchemaMismatch(
            f"column {col.name!r} of {source} must hold {what}, but row {offset + pos} "
            f"holds {value!r}",
            field=col.name,
            hint=f"the model was trained with {col.name!r} as {col.dtype}",
        )

    if col.dtype in ("int", "float"):
        kind = s.dtype.kind
        # already the type (as JSON and CSV integers and floats arrive): no round trip
        want = "int64" if col.dtype == "int" else "float64"
        if s.dtype == want:
            return s
        if col.dtype == "int" and (kind == "i" or (kind == "u" and s.dtype.itemsize < 8)):
            return s.astype("int64")
        if col.dtype == "float" and kind == "f":
            return s.astype("float64")
        if pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype("float64")
        if pd.api.types.is_numeric_dtype(s.dtype):
            num = s.astype("float64")
        else:
            num = pd.to_numeric(s, errors="coerce").astype("float64")
            newly_missing = num.isna().to_numpy() & s.notna().to_numpy()
            if newly_missing.any():
                raise bad(newly_missing, "numbers")
        if col.dtype == "int":
            values = num.to_numpy()
            finite = np.isfinite(values)
            if finite.all() and (np.floor(values) == values).all():
                return num.astype("int64")
        return num
    if col.dtype == "bool":
        return _coerce_bool(s, bad)
    if col.dtype == "datetime":
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            return s
        parsed = pd.to_datetime(s, errors="coerce", utc=True)
        unknown = parsed.isna().to_numpy() & s.notna().to_numpy()
        if unknown.any():
            raise bad(unknown, "dates or times")
        return parsed
    # string / category: keep missing values missing, turn everything else into text
    if pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
        return s
    values = [
        None
        if v is None or (isinstance(v, float) and math.isnan(v))
        else (str(v) if not isinstance(v, str) else v)
        for v in s.tolist()
    ]
    return pd.Series(values, index=s.index, dtype="str")
