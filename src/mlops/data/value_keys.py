"""64-bit keys of values for the `unique` and `no_duplicate_rows` checks, equal for equal values
whatever dtype a chunk happened to be read as.

A reader infers each chunk's dtypes on its own: one chunk of an int column may arrive as int64,
another as float64 (it has a missing value) or as text (it has a stray word), and a timestamp
column may arrive in seconds in one chunk and nanoseconds in another. Keys are therefore taken
from the values, not from their representation:

- numbers by value: 5, 5.0 and the text "5" share a key (as a CSV reader would read them);
  integers are exact over the whole 64-bit range, whether they came as numbers or text;
- timestamps by instant, whatever their unit (naive timestamps are read as UTC);
- booleans, and the texts True/TRUE/true and False/FALSE/false, by truth value;
- other text by its characters; missing values share one key.

A value that fails its column's declared dtype is keyed by what it is, apart from every valid
value, so two rows that differ only in such a value are never taken for duplicates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops.data.checks import coerce, dtype_kind
from mlops.data.schema import Dtype

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Salts keep keys of different kinds of value apart (an int's key never equals a text's).
_FLOAT, _TEXT, _BAD, _TIME = (
    0x9E3779B97F4A7C15,
    0xC2B2AE3D27D4EB4F,
    0x165667B19E3779F9,
    0xD6E8FEB86659FD93,
)
_MISSING, _TRUE, _FALSE = 0x27D4EB2F165667C5, 0x85EBCA77C2B2AE63, 0x94D049BB133111EB
_TRUE_TEXT = ["True", "TRUE", "true"]
_FALSE_TEXT = ["False", "FALSE", "false"]
_EXACT = 2.0**53  # floats at or beyond this may have lost an integer's last digits


def column_keys(
    column: pd.Series,
    dtype: Dtype | None,
    typed: pd.Series | None = None,
    bad: np.ndarray | None = None,
) -> np.ndarray:
    """One uint64 key per row of `column` (missing values included).

    Args:
        column: the chunk's column as read.
        dtype: the declared dtype, or None for an undeclared column.
        typed, bad: `checks.coerce(column, dtype)`, when the caller already has it.

    Returns:
        The keys; rows with equal values (in the sense of the module docstring) get equal keys.
    """
    import numpy as np

    if dtype is None:
        return untyped_keys(column)
    if typed is None:
        typed, bad = coerce(column, dtype)
    out = np.full(len(column), _MISSING, dtype=np.uint64)
    present = np.flatnonzero(typed.notna().to_numpy())
    if len(present):
        out[present] = typed_keys(column.iloc[present], typed.iloc[present], dtype)
    if bad is not None and bad.any():
        failing = np.flatnonzero(bad)
        out[failing] = untyped_keys(column.iloc[failing]) ^ np.uint64(_BAD)
    return out


def typed_keys(column: pd.Series, typed: pd.Series, dtype: Dtype) -> np.ndarray:
    """Keys of values present and valid for `dtype` (`typed` is the coerced `column`)."""
    import numpy as np
    import pandas as pd

    if not len(column):
        return np.empty(0, dtype=np.uint64)
    if dtype in (Dtype.INT, Dtype.FLOAT):
        if dtype_kind(column) in ("string", "object", "category"):
            return _text_keys(column.astype(object).to_numpy())  # exact for long integers
        return _number_keys(typed.to_numpy())
    if dtype is Dtype.BOOL:
        truth = typed.to_numpy(dtype=bool)
        return np.where(truth, np.uint64(_TRUE), np.uint64(_FALSE)).astype(np.uint64)
    if dtype is Dtype.DATETIME:
        return _time_keys(typed)
    return pd.util.hash_array(typed.astype(object).to_numpy(dtype=object)) ^ np.uint64(_TEXT)


def untyped_keys(column: pd.Series) -> np.ndarray:
    """Keys of a column with no declared dtype (or of values that failed it)."""
    import numpy as np

    out = np.full(len(column), _MISSING, dtype=np.uint64)
    present = np.flatnonzero(column.notna().to_numpy())
    if not len(present):
        return out
    values = column.iloc[present]
    kind = dtype_kind(values)
    if kind == "bool":
        truth = values.to_numpy(dtype=bool)
        out[present] = np.where(truth, np.uint64(_TRUE), np.uint64(_FALSE))
    elif kind in ("int", "float"):
        out[present] = _number_keys(values.to_numpy())
    elif kind == "datetime":
        out[present] = _time_keys(values)
    else:
        out[present] = _text_keys(values.astype(object).to_numpy())
    return out


def _number_keys(values: np.ndarray) -> np.ndarray:
    """Integers (and integral floats) by their 64-bit pattern, other floats by their bits."""
    import numpy as np
    import pandas as pd

    if values.dtype.kind in "iub":
        return pd.util.hash_array(values.astype(np.int64, copy=False).view(np.uint64))
    floats = values.astype(np.float64, copy=False)
    with np.errstate(invalid="ignore"):
        integral = np.isfinite(floats) & (np.floor(floats) == floats)
    integral &= (floats >= -(2.0**63)) & (floats < 2.0**64)
    bits = np.where(integral, 0, floats).view(np.uint64)
    big = integral & (floats >= 2.0**63)
    ints = np.zeros(len(floats), dtype=np.uint64)
    ints[integral & ~big] = floats[integral & ~big].astype(np.int64).view(np.uint64)
    ints[big] = floats[big].astype(np.uint64)
    keys = pd.util.hash_array(ints)
    others = ~integral
    if others.any():
        keys[others] = pd.util.hash_array(bits[others]) ^ np.uint64(_FLOAT)
    return keys


def _text_keys(values: np.ndarray) -> np.ndarray:
    """Keys of an object array of present values: numbers and truth words by value."""
    import numpy as np
    import pandas as pd

    series = pd.Series(values, dtype=object)
    out = np.empty(len(values), dtype=np.uint64)
    # booleans as objects (a chunk read as True/NaN) by truth value, not as the numbers 1 and 0
    is_bool = np.fromiter((isinstance(v, bool | np.bool_) for v in values), bool, len(values))
    truth = np.zeros(len(values), dtype=bool)
    if is_bool.any():
        truth[is_bool] = [bool(v) for v in values[is_bool]]
    true = series.isin(_TRUE_TEXT).to_numpy() | (is_bool & truth)
    false = series.isin(_FALSE_TEXT).to_numpy() | (is_bool & ~truth)
    out[true], out[false] = _TRUE, _FALSE
    rest = np.flatnonzero(~(true | false))
    numbers = pd.to_numeric(series.iloc[rest], errors="coerce")
    parsed = numbers.notna().to_numpy()
    if parsed.any():
        out[rest[parsed]] = _parsed_number_keys(series.iloc[rest[parsed]], numbers[parsed])
    text = rest[~parsed]
    if len(text):
        strings = series.iloc[text].map(str).to_numpy(dtype=object)
        out[text] = pd.util.hash_array(strings) ^ np.uint64(_TEXT)
    return out


def _parsed_number_keys(raw: pd.Series, numbers: pd.Series) -> np.ndarray:
    """Number keys of text that parsed; integers too long for a float are re-read exactly."""
    import numpy as np

    values = numbers.to_numpy()
    if values.dtype.kind != "f":
        return _number_keys(values)
    keys = _number_keys(values)
    with np.errstate(invalid="ignore"):
        long = np.flatnonzero(np.abs(values) >= _EXACT)
    for i in long:
        try:
            exact = int(str(raw.iloc[i]).strip())
        except ValueError:
            continue  # e.g. "1e20": a float in the text too
        if -(2**63) <= exact < 2**64:
            keys[i] = _number_keys(np.array([exact % 2**64], dtype=np.uint64))[0]
    return keys


def _time_keys(values: pd.Series) -> np.ndarray:
    """Keys of timestamps by instant: (seconds, nanoseconds) in UTC, whatever the unit."""
    import numpy as np
    import pandas as pd

    if getattr(values.dtype, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    stamps = values.to_numpy()
    unit, _ = np.datetime_data(stamps.dtype)
    if unit not in ("s", "ms", "us", "ns"):  # days, hours, minutes: exact in seconds
        stamps, unit = stamps.astype("datetime64[s]"), "s"
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    ticks = stamps.view(np.int64)
    seconds, rest = np.divmod(ticks, per_second)
    nanos = rest * (1_000_000_000 // per_second)
    return (
        pd.util.hash_array(seconds.view(np.uint64)) * np.uint64(31)
        + pd.util.hash_array(nanos.view(np.uint64))
    ) ^ np.uint64(_TIME)


def combine(keys: np.ndarray | None, column: np.ndarray) -> np.ndarray:
    """Fold one column's keys into the row keys (order matters: columns are not swapped)."""
    import numpy as np

    if keys is None:
        return column.copy()
    with np.errstate(over="ignore"):
        return keys * np.uint64(0x100000001B3) ^ column
