"""MLflow's scoring protocol (`POST /invocations`): request bodies -> the forms /predict reads.

Accepted, as MLflow's scoring server accepts them for a model with named columns:

    application/json   exactly one of
                         {"dataframe_split": {"columns": [...], "data": [[...], ...]}}
                         {"dataframe_records": [{col: value, ...}, ...]}
                         {"instances": [{col: value, ...}, ...]}     (or rows as lists)
                         {"inputs": {col: [values, ...], ...}}       (or records, or rows)
                       beside an optional "params" object (ignored: a scikit-learn model
                       takes no inference parameters)
    text/csv           a header line and rows, as pandas.DataFrame.to_csv writes them

Rows given as lists carry no names: their values are taken in the signature's column order.
The answer is MLflow's `{"predictions": [...]}` (one label or value per row).
"""

from __future__ import annotations

import io
from typing import Any

from mlops.lifecycle.deploy.serve_body import RequestError, parse_body, rows_frame

INPUT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
JSON = "application/json"
CSV = "text/csv"


def media_type(header: str | None) -> str:
    """The media type of a Content-Type header (lower case, no parameters).

    Raises:
        RequestError: 415 for a charset other than UTF-8.
    """
    parts = [p.strip() for p in (header or "").split(";")]
    for param in parts[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            raise RequestError(415, f"only UTF-8 bodies are read, not {value.strip()!r}")
    return parts[0].lower()


def invocation_body(
    raw: bytes, content_type: str | None, columns: list[str], text_columns: list[str]
) -> Any:
    """An /invocations request -> a body for frame_from_body (`records`, `columns` or
    `dataframe_split`); CSV comes back as a DataFrame already.

    Args:
        raw: the request body.
        content_type: its Content-Type header.
        columns: the model's input columns, in signature order (for rows given as lists).
        text_columns: the columns read from CSV as text (the others as pandas infers them).

    Returns:
        A dict frame_from_body reads, or a pandas DataFrame (CSV, rows given as lists).

    Raises:
        RequestError: 415 for another content type, 400 for a body that is not one of the
            formats above, 422 for a malformed one (naming the field).
    """
    mime = media_type(content_type)
    if mime == CSV:
        return _csv_frame(raw, text_columns)
    if mime != JSON:
        raise RequestError(415, f"send the body as {JSON} or {CSV}, not {mime or 'untyped'}")
    body = parse_body(raw)
    if not isinstance(body, dict):
        raise RequestError(400, f"the body must be a JSON object with one of {_keys()}")
    present = [k for k in INPUT_KEYS if k in body]
    extra = sorted(k for k in body if k not in INPUT_KEYS and k != "params")
    if len(present) != 1 or extra:
        found = ", ".join(repr(k) for k in body) or "no keys"
        raise RequestError(400, f"the body must hold exactly one of {_keys()}; it has {found}")
    key = present[0]
    value = body[key]
    if key == "dataframe_split":
        return {"dataframe_split": value}
    if key == "inputs" and isinstance(value, dict):
        return {"columns": value}
    return _rows(key, value, columns)


def _keys() -> str:
    return ", ".join(f"`{k}`" for k in INPUT_KEYS)


def _rows(key: str, value: Any, columns: list[str]) -> Any:
    """A list of records (objects) or of rows (lists, in signature order)."""
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        return rows_frame(value, columns, key)
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise RequestError(422, f"`{key}` must be a list of objects or of rows", field=key)
    return {"records": value}


def _csv_frame(raw: bytes, text_columns: list[str]) -> Any:
    import pandas as pd

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(400, "the CSV body is not UTF-8") from None
    if not text.strip():
        raise RequestError(400, "the CSV body is empty: send a header line and rows")
    try:
        return pd.read_csv(io.StringIO(text), dtype=dict.fromkeys(text_columns, "str"))
    except (ValueError, pd.errors.ParserError) as e:
        raise RequestError(400, f"the CSV body cannot be read: {e}") from None
