"""Vectorised per-chunk checks, value coercion to declared dtypes, and custom-check registry.

Every function here looks at one chunk and returns a boolean numpy mask of *failing* rows;
`validate.py` accumulates the masks across chunks.

Custom checks live in a user module named in mlops.yaml (`checks_module: my_checks`):

    from mlops.data.checks import register_check

    @register_check("positive_ratio")
    def positive_ratio(series, low=0.0):
        return series < low          # True marks a failing row

A column check receives the column as a Series, a dataset check the chunk's DataFrame; both
receive the `kwargs` from the schema and must be row-wise (they see one chunk at a time).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.data.schema import Dtype
from mlops.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CheckFunction = Callable[..., Any]
_REGISTRY: dict[str, CheckFunction] = {}
_TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
_FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})


def register_check(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """A decorator that registers a custom validation check under `name`.

    Args:
        name: the name a schema's `checks:` entry uses.

    Returns:
        The decorator; it returns the function unchanged. The function is called as
        `fn(series_or_frame, **kwargs)` and returns a boolean mask of the failing rows.

    Raises:
        ConfigError: another function is already registered under `name`.
    """

    def decorator(fn: CheckFunction) -> CheckFunction:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not fn and _qualname(existing) != _qualname(fn):
            raise ConfigError(
                f"The custom check name '{name}' is registered twice "
                f"({_qualname(existing)} and {_qualname(fn)}).",
                hint="Give each custom check a unique name.",
            )
        _REGISTRY[name] = fn
        return fn

    return decorator


def get_check(name: str) -> CheckFunction:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ConfigError(
            f"The schema uses the custom check '{name}', which is not registered "
            f"(registered: {known}).",
            hint="Set `checks_module` in mlops.yaml to the module that defines it with "
            "@register_check.",
        ) from None


def load_checks_module(module: str, search_path: Path | None = None) -> None:
    """Import the user's module of custom checks (running its @register_check decorators)."""
    with _on_sys_path(search_path):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(
                f"The checks module '{module}' cannot be imported: {exc}.",
                hint="Use a dotted module name importable from the project directory.",
            ) from exc


@contextmanager
def _on_sys_path(directory: Path | None) -> Iterator[None]:
    if directory is None:
        yield
        return
    entry = str(directory.resolve())
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)


def _qualname(fn: CheckFunction) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def run_custom(fn: CheckFunction, name: str, data: Any, kwargs: dict[str, Any]) -> np.ndarray:
    import numpy as np

    try:
        result = fn(data, **kwargs)
    except Exception as exc:
        raise ConfigError(
            f"The custom check '{name}' raised {type(exc).__name__}: {exc}.",
            hint="Fix the check function in your checks module.",
        ) from exc
    mask = np.asarray(getattr(result, "to_numpy", lambda: result)())
    if mask.dtype != bool or mask.shape != (len(data),):
        raise ConfigError(
            f"The custom check '{name}' returned {mask.dtype}{list(mask.shape)}, "
            f"not a boolean mask of {len(data)} rows.",
            hint="Return a boolean Series or array with True for each failing row.",
        )
    return mask


def coerce(series: pd.Series, dtype: Dtype) -> tuple[pd.Series, np.ndarray | None]:
    """Return (values as the declared dtype, mask of present values that do not fit it).

    Failing values become missing in the returned series, so later checks skip them. When the
    column already has the declared type, the series is returned as is (no copy) and the mask
    is None.
    """
    # long: one short branch per declared dtype; the cases read best side by side
    import numpy as np
    import pandas as pd

    kind = dtype_kind(series)
    present = None

    def mismatch(typed_ok: pd.Series | np.ndarray) -> np.ndarray:
        nonlocal present
        present = series.notna().to_numpy() if present is None else present
        return present & ~np.asarray(typed_ok, dtype=bool)

    if dtype is Dtype.FLOAT:
        if kind in ("int", "float"):
            return series, None
        if kind in ("string", "object", "category"):
            typed = pd.to_numeric(_as_object(series), errors="coerce")
            return typed, mismatch(typed.notna())
        return _all_fail(series, mismatch)

    if dtype is Dtype.INT:
        if kind == "int":
            return series, None
        if kind in ("float", "string", "object", "category"):
            typed = (
                series if kind == "float" else pd.to_numeric(_as_object(series), errors="coerce")
            )
            values = typed.to_numpy(dtype="float64", na_value=np.nan)
            with np.errstate(invalid="ignore"):
                integral = np.isfinite(values) & (np.floor(values) == values)
            bad = mismatch(integral)
            if kind != "float" and typed.dtype.kind == "f":
                typed = _exact_long_ints(series, typed, values, bad)
            return typed.where(~bad), (bad if bad.any() or kind != "float" else None)
        return _all_fail(series, mismatch)

    if dtype is Dtype.BOOL:
        if kind == "bool":
            return series, None
        if kind in ("int", "float"):
            ok = series.isin([0, 1])
            return series.where(ok).astype("boolean"), mismatch(ok)
        if kind in ("string", "object", "category"):
            words = _as_object(series).map(lambda v: str(v).strip().lower(), na_action="ignore")
            truth = words.map(
                lambda w: True if w in _TRUE_WORDS else (False if w in _FALSE_WORDS else None),
                na_action="ignore",
            )
            return truth.astype("boolean"), mismatch(truth.notna())
        return _all_fail(series, mismatch)

    if dtype in (Dtype.STRING, Dtype.CATEGORY):
        if kind == "string" or (kind == "category" and _categories_are_text(series)):
            return series, None
        if kind == "object":
            is_text = series.map(lambda v: isinstance(v, str), na_action="ignore")
            ok = is_text.fillna(False).astype(bool)
            return series.where(ok), mismatch(ok)
        return _all_fail(series, mismatch)

    if dtype is Dtype.DATETIME:
        if kind == "datetime":
            return series, None
        if kind in ("string", "object", "category"):
            typed = _parse_datetimes(_as_object(series))
            return typed, mismatch(typed.notna())
        return _all_fail(series, mismatch)

    raise AssertionError(f"unhandled dtype {dtype}")


def _exact_long_ints(
    raw: pd.Series, typed: pd.Series, values: np.ndarray, bad: np.ndarray
) -> pd.Series:
    """Text parsed as float64 loses the last digits of integers beyond 2**53: re-read those
    (rare) from the text, into a nullable Int64 column."""
    import numpy as np
    import pandas as pd

    with np.errstate(invalid="ignore"):
        long = np.flatnonzero(~bad & (np.abs(values) >= 2.0**53))
    if not len(long):
        return typed
    exact = pd.array(np.where(bad | np.isnan(values), 0, values).astype(np.int64), dtype="Int64")
    exact[bad | np.isnan(values)] = pd.NA
    for i in long:
        # "1e20" is a float in the text too, and beyond int64 stays as the float read
        with suppress(ValueError, OverflowError, TypeError):
            exact[i] = int(str(raw.iloc[i]).strip())
    return pd.Series(exact, index=typed.index)


def dtype_kind(series: pd.Series) -> str:
    """Classify a pandas dtype as int, float, bool, string, category, datetime or object."""
    import pandas as pd
    from pandas.api import types

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if types.is_bool_dtype(dtype):
        return "bool"
    if types.is_integer_dtype(dtype):
        return "int"
    if types.is_float_dtype(dtype):
        return "float"
    if types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    return "object"


def _all_fail(
    series: pd.Series, mismatch: Callable[[Any], np.ndarray]
) -> tuple[pd.Series, np.ndarray]:
    import numpy as np
    import pandas as pd

    bad = mismatch(np.zeros(len(series), dtype=bool))
    return pd.Series(np.nan, index=series.index), bad


def _as_object(series: pd.Series) -> pd.Series:
    if dtype_kind(series) == "category":
        return series.astype(object)
    return series


def _categories_are_text(series: pd.Series) -> bool:
    return all(isinstance(c, str) for c in series.cat.categories)


def _parse_datetimes(values: pd.Series) -> pd.Series:
    import pandas as pd

    try:
        return pd.to_datetime(values, errors="coerce", format="ISO8601")
    except (ValueError, TypeError):
        # Mixed UTC offsets cannot share one naive dtype; compare them in UTC instead.
        return pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True)


def missing_mask(series: pd.Series) -> np.ndarray | None:
    """Mask of missing values, or None when the dtype cannot hold any (numpy int/bool)."""
    import numpy as np

    values = _numpy_numbers(series)
    if values is None:
        return series.isna().to_numpy()
    return np.isnan(values) if values.dtype.kind == "f" else None


def inf_mask(series: pd.Series) -> np.ndarray:
    import numpy as np

    values = _numpy_numbers(series)
    if values is None:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    return np.isinf(values) if values.dtype.kind == "f" else np.zeros(len(values), dtype=bool)


def _numpy_numbers(series: pd.Series) -> np.ndarray | None:
    """The column's own numpy array (no copy) when it is a plain numpy int/uint/float/bool."""
    import numpy as np

    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iufb":
        return series.to_numpy()
    return None


def below_mask(typed: pd.Series, bound: Any) -> np.ndarray:
    return _compare(typed, bound, "lt")


def above_mask(typed: pd.Series, bound: Any) -> np.ndarray:
    return _compare(typed, bound, "gt")


def _compare(typed: pd.Series, bound: Any, op: str) -> np.ndarray:
    import numpy as np

    values = _numpy_numbers(typed)
    if values is not None:
        mask = np.less(values, bound) if op == "lt" else np.greater(values, bound)
        if values.dtype.kind == "f" and mask.any():
            # +/-inf is reported by the allow_nan_inf check alone, not as out of range too.
            mask &= np.isfinite(values)
        return mask
    bound = _align_timezone(typed, bound)
    result = getattr(typed, op)(bound)
    mask = np.asarray(result.fillna(False) if result.dtype != bool else result, dtype=bool)
    if dtype_kind(typed) == "float":
        mask = mask & np.isfinite(typed.to_numpy(dtype="float64", na_value=np.nan))
    return mask


def _align_timezone(typed: pd.Series, bound: Any) -> Any:
    tz = getattr(typed.dtype, "tz", None)
    if tz is not None and getattr(bound, "tzinfo", "n/a") is None:
        return bound.tz_localize(tz)
    if tz is None and getattr(bound, "tzinfo", None) is not None:
        return bound.tz_convert(None)
    return bound


def not_allowed_mask(typed: pd.Series, allowed: list[Any], dtype: Dtype) -> np.ndarray | None:
    """Mask of present values outside `allowed`, or None when every value is allowed.

    The distinct values of the chunk are checked first: on clean data that one hashing pass
    is all the work, and the per-row membership test runs only when something is wrong.
    """
    import pandas as pd

    if dtype in (Dtype.STRING, Dtype.CATEGORY):
        allowed = [str(v) for v in allowed]
        arrow = _arrow_strings(typed)
        if arrow is not None:
            return _arrow_not_allowed(arrow, allowed)
    distinct = pd.Series(typed.unique()).dropna()
    offending = distinct[~distinct.isin(allowed)]
    if not len(offending):
        return None
    if len(offending) > len(allowed):
        ok = typed.isin(allowed).to_numpy(dtype=bool, na_value=False)
        return typed.notna().to_numpy() & ~ok
    return typed.isin(offending).to_numpy(dtype=bool, na_value=False)


def _arrow_strings(typed: pd.Series) -> Any:
    """The column's pyarrow string array when it has one (pandas' default str dtype), else None."""
    array = getattr(typed.array, "_pa_array", None)
    if array is None:
        return None
    import pyarrow as pa

    return array if pa.types.is_string(array.type) or pa.types.is_large_string(array.type) else None


def _arrow_not_allowed(array: Any, allowed: list[str]) -> np.ndarray | None:
    # One membership pass in Arrow (a hash probe per row against the small allowed set): as
    # cheap as finding the distinct values, and it gives the failing rows at once.
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    inside = pc.is_in(array, value_set=pa.array(allowed, type=array.type))
    if (pc.sum(inside).as_py() or 0) == len(array) - array.null_count:
        return None
    failing = pc.and_kleene(pc.invert(inside), pc.is_valid(array))
    return np.asarray(failing.to_numpy(zero_copy_only=False), dtype=bool)


def regex_mismatch_mask(typed: pd.Series, pattern: str) -> np.ndarray:
    import numpy as np

    strings = typed.astype(object) if dtype_kind(typed) == "category" else typed
    try:
        matched = strings.str.fullmatch(pattern)
    except Exception:
        # pyarrow's RE2 rejects some Python regex features; Python's re handles them.
        compiled = re.compile(pattern)
        matched = strings.astype(object).map(
            lambda v: compiled.fullmatch(v) is not None, na_action="ignore"
        )
    ok = np.asarray(matched.fillna(False), dtype=bool)
    return typed.notna().to_numpy() & ~ok
