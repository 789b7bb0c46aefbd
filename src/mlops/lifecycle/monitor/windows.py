"""Monitoring windows: which window each row of a batch falls in.

A window is a calendar period of the time column (hour, day, week starting Monday, month; UTC
for zone-aware times) or a block of N consecutive rows. Keys sort in time order; rows whose time
is missing or unreadable go to the window `NO_TIME`, listed last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops.config.window import PERIODS, Window, parse_window
from mlops.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

NO_TIME = "(no time)"


def window_keys(
    window: Window | None, chunk: pd.DataFrame, offset: int, time_column: str | None
) -> np.ndarray:
    """One sortable key (str) per row of chunk; all "all" without a window."""
    import numpy as np
    import pandas as pd

    n = len(chunk)
    if window is None:
        return np.full(n, "all", dtype=object)
    if window.rows is not None:
        start = (offset + np.arange(n)) // window.rows * window.rows
        uniq, inverse = np.unique(start, return_inverse=True)
        labels = np.array([f"rows {s:012d}" for s in uniq.tolist()], dtype=object)
        return labels[inverse]
    if time_column is None:
        raise InputError(
            f"window {window.period!r} needs a time column.",
            hint="set data.time_column (or monitor.time_column), or use a window of N rows",
        )
    if time_column not in chunk.columns:
        raise InputError(f"the data has no time column {time_column!r} to split windows by.")
    times = _to_utc(chunk[time_column])
    if window.period == "hour":
        fmt = times.dt.strftime("%Y-%m-%dT%H:00")
    elif window.period == "day":
        fmt = times.dt.strftime("%Y-%m-%d")
    elif window.period == "week":
        monday = (times - pd.to_timedelta(times.dt.day_of_week, unit="D")).dt.normalize()
        fmt = monday.dt.strftime("week of %Y-%m-%d")
    else:
        fmt = times.dt.strftime("%Y-%m")
    return fmt.fillna(NO_TIME).to_numpy(dtype=object)


def _to_utc(series: pd.Series) -> pd.Series:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        s = series
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        return s
    if pd.api.types.is_numeric_dtype(series.dtype):
        raise InputError(
            f"time column {series.name!r} holds numbers; use dates or ISO timestamps "
            "(or a window of N rows)."
        )
    parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_localize(None)


def display_key(key: str) -> str:
    """Row windows are keyed with zero padding for sorting; show them without it."""
    if key.startswith("rows "):
        return f"rows from {int(key[5:])}"
    return key


def sort_keys(keys: list[str]) -> list[str]:
    return sorted(keys, key=lambda k: (k == NO_TIME, k))


__all__ = [
    "NO_TIME",
    "PERIODS",
    "Window",
    "display_key",
    "parse_window",
    "sort_keys",
    "window_keys",
]
