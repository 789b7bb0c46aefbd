"""Request bodies of `mlops serve`: JSON parsed strictly (no NaN or infinities reach a model)
and turned into a DataFrame, with a 4xx RequestError naming the field when they cannot be."""

import json
import math
from typing import Any

MAX_ROWS = 100_000


class RequestError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class _BadNumber:
    """What the body parser puts in place of NaN or ±Infinity (JSON extensions Python reads);
    frame_from_body turns it into a 422 naming the column."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_constant(text: str) -> _BadNumber:
    return _BadNumber(text)


_DECODER = json.JSONDecoder(parse_constant=_parse_constant)  # made once: json.loads with an
# argument builds a decoder per call, which doubles the time to parse a 1000-row body


def parse_body(raw: bytes) -> Any:
    """A request body -> JSON value. NaN and ±Infinity are parsed into markers that
    frame_from_body rejects (422, naming the column), as it rejects numbers beyond the float
    range (which Python reads as infinite floats or as integers of any size).

    Raises:
        RequestError: 400 for invalid or too deeply nested JSON.
    """
    try:
        return _DECODER.decode(raw.decode(json.detect_encoding(raw)))
    except RecursionError:
        raise RequestError(400, "the body is nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, int digit limit
        raise RequestError(400, f"the body is not valid JSON: {e}") from None


def _bad_number(col: Any, text: str) -> RequestError:
    return RequestError(
        422, f"column {col!r}: {text} is not a finite number in the float range", field=str(col)
    )


def _check_cells(frame: Any) -> Any:
    """Every cell must be a scalar, and a finite number when a number: RequestError(422) naming
    the first offending column otherwise. Integers beyond int64 become the float they stand
    for. Returns the frame, so changed."""
    import numpy as np

    for col in frame.columns:
        s = frame[col]
        if s.dtype.kind == "f":
            if np.isinf(s.to_numpy()).any():
                raise _bad_number(col, "a number")
        elif s.dtype.kind == "u" and s.dtype.itemsize == 8:  # JSON integers in [2**63, 2**64)
            frame[col] = s.astype("float64")
        elif s.dtype == object:
            frame[col] = _check_objects(col, s)
    return frame


def _check_objects(col: Any, s: Any) -> Any:
    """An object column's cells checked (see _check_cells); huge integers as floats."""
    changed = False
    values = s.tolist()
    for i, value in enumerate(values):
        kind = type(value)
        if kind is str or value is None:
            continue
        if kind is _BadNumber:
            raise _bad_number(col, value.text)
        if kind is list or kind is dict:
            raise RequestError(
                422, f"column {col!r}: a value must be a scalar, not a {kind.__name__}", field=col
            )
        if kind is float and not math.isfinite(value):
            raise _bad_number(col, "a number")
        if kind is int and not -(2**63) <= value < 2**63:
            try:  # beyond int64: the float it stands for, unless it overflows that too
                values[i] = float(value)
            except OverflowError:
                text = str(value)
                text = text if len(text) <= 24 else f"{text[:20]}... ({len(text)} digits)"
                raise _bad_number(col, text) from None
            changed = True
    return s if not changed else type(s)(values, index=s.index, name=s.name, dtype=object)


def frame_from_body(body: Any, columns: list[str]) -> Any:
    """A JSON body (or a DataFrame already read) -> DataFrame; raises RequestError(422) with
    the offending field."""
    import pandas as pd

    frame = body if isinstance(body, pd.DataFrame) else _frame(body, columns)
    if len(frame) > MAX_ROWS:
        raise RequestError(413, f"at most {MAX_ROWS} rows per request")
    if not all(isinstance(c, str) for c in frame.columns):
        raise RequestError(422, "column names must be strings")
    if frame.columns.has_duplicates:
        dup = str(frame.columns[frame.columns.duplicated()][0])
        raise RequestError(422, f"column {dup!r} appears more than once", field=dup)
    return _check_cells(frame)


def _frame(body: Any, columns: list[str]) -> Any:
    import pandas as pd

    if isinstance(body, list):
        body = {"records": body}
    if not isinstance(body, dict):
        raise RequestError(422, "the body must be a JSON object with `records` or `columns`")
    if "dataframe_records" in body:
        body = {"records": body["dataframe_records"]}
    if "dataframe_split" in body:
        return split_frame(body["dataframe_split"])
    if "records" in body:
        records = body["records"]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise RequestError(422, "`records` must be a list of objects", field="records")
        if len(records) > MAX_ROWS:
            raise RequestError(413, f"at most {MAX_ROWS} rows per request")
        return pd.DataFrame.from_records(records)
    if "columns" in body:
        cols = body["columns"]
        if not isinstance(cols, dict) or not all(isinstance(v, list) for v in cols.values()):
            raise RequestError(422, "`columns` must map each column to a list", field="columns")
        lengths = {len(v) for v in cols.values()}
        if len(lengths) > 1:
            raise RequestError(422, "the lists in `columns` differ in length", field="columns")
        if lengths and max(lengths) > MAX_ROWS:
            raise RequestError(413, f"at most {MAX_ROWS} rows per request")
        return pd.DataFrame(cols)
    raise RequestError(422, "the body must hold `records` or `columns`")


def split_frame(split: Any) -> Any:
    """MLflow's {"columns": [...], "data": [[...], ...]}; both keys are required."""
    field = "dataframe_split"
    if not isinstance(split, dict) or "columns" not in split or "data" not in split:
        raise RequestError(422, "`dataframe_split` must hold `columns` and `data`", field=field)
    cols = split["columns"]
    if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
        raise RequestError(
            422, "`dataframe_split.columns` must be a list of names", field=f"{field}.columns"
        )
    return rows_frame(split["data"], cols, f"{field}.data")


def rows_frame(data: Any, columns: list[str], field: str) -> Any:
    """Rows as lists of values, in `columns` order -> DataFrame; `field` names them in errors."""
    import pandas as pd

    if not isinstance(data, list) or not all(isinstance(r, list) for r in data):
        raise RequestError(422, f"`{field}` must be a list of rows (lists)", field=field)
    if len(data) > MAX_ROWS:
        raise RequestError(413, f"at most {MAX_ROWS} rows per request")
    for i, row in enumerate(data):
        if len(row) != len(columns):
            raise RequestError(
                422,
                f"row {i} of `{field}` has {len(row)} values for {len(columns)} columns",
                field=field,
            )
    if not data:
        return pd.DataFrame(data, columns=columns)
    # column by column: pandas infers each column's type from its own values, much faster
    # than from rows of mixed types (duplicate names are refused later, so keep them apart)
    frame = pd.DataFrame(dict(enumerate(map(list, zip(*data, strict=True)))))
    frame.columns = pd.Index(columns)
    return frame
