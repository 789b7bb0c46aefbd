"""One JSON encoder for result objects: the values `--json`, stored reports and notifications
are made of.

    to_jsonable(result)    # dataclass -> dict of its fields, in field order, values encoded
    fields_dict(result)    # the same for one dataclass, for a to_dict that adds or replaces keys

The rules (those the hand-written to_dict methods applied):

- a dataclass: its fields in declaration order; a nested object with its own `to_dict()` is
  rendered by it (so a result looks the same wherever it is nested), any other dataclass field
  by field;
- an Enum: its value; a Path: its string;
- numpy scalars: the Python value (`.item()`); numpy arrays: lists;
- pandas Timestamps, datetimes, dates and times: ISO 8601; pandas Timedeltas and timedeltas:
  ISO 8601 durations as pandas writes them (`P1DT2H0M0S`);
- floats that are NaN or infinite: None (JSON has no such numbers);
- sets: sorted lists; tuples: lists; mapping keys that are not str/int/float/bool/None: str;
- anything else: left as it is (json.dumps' `default=str` renders it, as before).

The base layer: it imports nothing from mlops, and numpy/pandas only when a value is theirs (a
numpy value cannot exist unless numpy is imported), so every layer may use it cheaply.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from datetime import date, datetime, time, timedelta
from enum import Enum
from pathlib import PurePath
from typing import Any

__all__ = ["fields_dict", "to_jsonable"]

_KEY_TYPES = (str, int, float, bool, type(None))


def to_jsonable(obj: Any) -> Any:
    """obj as JSON-ready Python values (dict, list, str, int, float, bool, None)."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj.value if isinstance(obj, Enum) else obj
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, Enum):
        return to_jsonable(obj.value)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return fields_dict(obj)
    if isinstance(obj, dict):
        return {_key(k): _nested(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nested(v) for v in obj]
    if isinstance(obj, set | frozenset):
        return [_nested(v) for v in sorted(obj, key=_sort_key)]
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, timedelta):
        return _duration(obj)
    if isinstance(obj, datetime | date | time):
        return obj.isoformat()
    if "numpy" in sys.modules:
        import numpy as np

        if isinstance(obj, np.ndarray):
            return to_jsonable(obj.tolist())
        if isinstance(obj, np.datetime64 | np.timedelta64) and "pandas" in sys.modules:
            import pandas as pd

            return to_jsonable(
                pd.Timestamp(obj) if isinstance(obj, np.datetime64) else pd.Timedelta(obj)
            )
        if isinstance(obj, np.generic):
            return to_jsonable(obj.item())
    return obj


def fields_dict(obj: Any) -> dict[str, Any]:
    """A dataclass's fields, in declaration order, their values encoded by to_jsonable."""
    return {f.name: _nested(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def _nested(value: Any) -> Any:
    """A value inside a result: an object with its own to_dict renders itself."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type) and dataclasses.is_dataclass(value):
        return to_jsonable(to_dict())
    return to_jsonable(value)


def _key(k: Any) -> Any:
    if isinstance(k, Enum):
        k = k.value
    return k if isinstance(k, _KEY_TYPES) else str(to_jsonable(k))


def _sort_key(v: Any) -> tuple[str, str]:
    return (type(v).__name__, str(v))


def _duration(td: timedelta) -> str:
    import pandas as pd  # its ISO 8601 form (P1DT2H0M0S) is the one reports have always used

    return str(pd.Timedelta(td).isoformat())
