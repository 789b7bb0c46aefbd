"""The fixed bins every profile of one dataset family shares, built once from reference data.

Column kinds:
  numeric      int/uint/float dtypes (not bool). Bins are reference quantiles, or one bin per
               distinct value when the reference has at most `n_bins` distinct finite values
               ("discrete"; integer-valued codes, counts, ratings). Binning discrete columns on their
               own values makes KS and Wasserstein from profiles exact for them while every
               current value is one of the reference's values (a value in between shares
               the lower one's bin).
  categorical  bool, object, string and category dtypes. Values are compared by their string form
               (`str(value)`), so 1 and "1" are one category. The top-K reference categories get
               their own counts; every other value goes to an "other" bucket. When the reference
               holds more than K categories, a hashed set of all of them (`hashed.HashedSet`)
               tells a rare reference category from one the reference never held.
  A numeric column with very few distinct values stays numeric here (its bins already are a
  frequency table, and range checks keep working); `drift` treats numeric columns with at most
  `LOW_CARDINALITY` distinct reference values like categoricals when it picks a default method.
  `kinds=` overrides the inferred kind per column.

Numeric edges: `edges` are finite, strictly increasing, and the bins are
  bin 0 = (-inf, e0), bin j = [e(j-1), e(j)), last bin = [e(m-1), +inf),
where e0 is the exact reference minimum and the last edge is the float just above the exact
reference maximum, so bin 0 and the last bin hold exactly the values outside the reference range.
Quantiles are exact when the reference arrives as one chunk or has at most `sample_size` finite
values in a column; otherwise they come from a uniform random sample of `sample_size` values
(seeded, so the spec is reproducible), while min and max stay exact.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from mlops.errors import InputError
from mlops.stats.columns import (
    Chunk,
    Column,
    arrow_floats,
    arrow_kind,
    arrow_text_counts,
    as_series,
    column,
    column_names,
    has_column,
)
from mlops.stats.hashed import HashedSet

NUMERIC = "numeric"
CATEGORICAL = "categorical"
KINDS = (NUMERIC, CATEGORICAL)

DEFAULT_BINS = 200
DEFAULT_TOP_K = 100
DEFAULT_SAMPLE_SIZE = 1_000_000
SPEC_VERSION = 1
_MAX_CELLS = 1 << 18
_LOOKUP_MIN_VALUES = 4096  # below this, building the grid costs more than it saves


@dataclass(frozen=True, eq=False)
class NumericSpec:
    edges: np.ndarray
    n_distinct: int  # distinct finite reference values (counted in the sample when sampled)
    discrete: bool  # one bin per distinct reference value

    kind = NUMERIC

    @property
    def n_bins(self) -> int:
        return len(self.edges) + 1

    @cached_property
    def anchors(self) -> np.ndarray:
        """Per bin, the point offsets are measured from: e0 for bin 0, the left edge otherwise."""
        return np.concatenate([self.edges[:1], self.edges]) if len(self.edges) else np.zeros(1)

    @cached_property
    def _lookup(self) -> tuple[float, float, np.ndarray, np.ndarray, int] | None:
        edges = self.edges
        if len(edges) < 2:
            return None
        lo, span = float(edges[0]), float(edges[-1]) - float(edges[0])
        if not np.isfinite(span):  # then no gap below can overflow either
            return None
        # the last gap is the one-ulp bin holding the reference maximum: two edges in one cell
        gaps = np.diff(edges[:-1]) if len(edges) > 2 else np.diff(edges)
        ratio = span / float(gaps.min())
        if not np.isfinite(ratio):
            return None
        cells = min(_MAX_CELLS, int(np.ceil(ratio)))
        scale = cells / span
        if not np.isfinite(scale):
            return None
        edge_cell = np.clip((edges - lo) * scale, 0, cells + 1).astype(np.intp)
        steps = int(np.bincount(edge_cell).max())
        if steps > 4:
            return None
        first = np.searchsorted(edge_cell, np.arange(cells + 2), side="left").astype(np.intp)
        return lo, scale, first, np.append(edges, np.inf), steps

    def bin_index(self, values: np.ndarray) -> np.ndarray:
        """Bin of each finite value; equals `np.searchsorted(edges, values, side="right")`.

        A uniform grid with at most a few edges per cell replaces the binary search (about 3x
        faster on 1M values). The cell map x -> floor((x - e0) * scale) is monotone in floating
        point, so edges in earlier cells are <= x and edges in later cells are > x; only the
        edges inside x's own cell need a comparison.
        """
        lookup = self._lookup if len(values) >= _LOOKUP_MIN_VALUES else None
        if lookup is None:
            return np.searchsorted(self.edges, values, side="right")
        lo, scale, first, padded, steps = lookup
        with np.errstate(over="ignore", invalid="ignore"):  # the clip bounds huge positions
            pos = np.subtract(values, lo)
            pos *= scale
        np.clip(pos, 0, len(first) - 1, out=pos)
        idx = first[pos.astype(np.intp)]
        above = np.empty(len(values), dtype=bool)
        for _ in range(steps):
            np.greater_equal(values, padded[idx], out=above)
            idx += above
        return idx

    def to_dict(self) -> dict[str, Any]:
        # kept: the stored spec format (fixed kind tag, floats as stored), hashed
        return {
            "kind": NUMERIC,
            "edges": [float(e) for e in self.edges],
            "n_distinct": self.n_distinct,
            "discrete": self.discrete,
        }


@dataclass(frozen=True, eq=False)
class CategoricalSpec:
    categories: tuple[str, ...]
    complete: bool  # True when the categories are every category the reference holds
    n_values: int  # non-missing reference values
    singletons: int  # reference categories seen exactly once (Good-Turing unseen-mass estimate)
    seen: HashedSet | None = None  # every reference category, when they are more than listed

    kind = CATEGORICAL

    @property
    def n_bins(self) -> int:
        return len(self.categories) + 1

    @cached_property
    def _lookup(self) -> tuple[pd.Index, np.ndarray]:
        # specs stored before keys were canonical may hold "1.0" and "1": the first one wins
        keys = canonical_keys(pd.Index(list(self.categories), dtype=object))
        first = ~keys.duplicated()
        return keys[first], np.flatnonzero(first)

    def positions(self, keys: pd.Index) -> np.ndarray:
        """Position of each canonical key among the categories, -1 when it is not one.

        Keys "1"/"0" and "True"/"False" are one value in a column whose categories are exactly
        True and False (a bool column read back as 0/1)."""
        index, pos = self._lookup
        if not len(pos):
            return np.full(len(keys), -1, dtype=np.intp)
        if self.is_bool and len(keys):
            keys = pd.Index([_BOOL_NUMBER.get(k, k) for k in keys], dtype=object)
        found = index.get_indexer(keys)
        return np.where(found >= 0, pos[found], -1)

    @cached_property
    def is_bool(self) -> bool:
        return bool(self.categories) and set(self.categories) <= {"True", "False"}

    @property
    def knows_unseen(self) -> bool:
        """Whether a value outside the listed categories can be told new or seen."""
        return self.complete or self.seen is not None

    def novel(self, keys: pd.Index) -> np.ndarray:
        """Per key outside the listed categories: True when the reference never held it."""
        if self.complete or self.seen is None:
            return np.full(len(keys), self.complete, dtype=bool)
        return ~self.seen.contains(keys)

    @property
    def unseen_mass(self) -> float:
        """Good-Turing estimate of the share of new data in categories the reference never saw."""
        return self.singletons / self.n_values if self.n_values else 0.0

    def to_dict(self) -> dict[str, Any]:
        # kept: the stored spec format (fixed kind tag, floats as stored), hashed
        return {
            "kind": CATEGORICAL,
            "categories": list(self.categories),
            "complete": self.complete,
            "n_values": self.n_values,
            "singletons": self.singletons,
            **({"seen": self.seen.to_dict()} if self.seen is not None else {}),
        }


ColumnSpec = NumericSpec | CategoricalSpec


@dataclass(frozen=True, eq=False)
class ProfileSpec:
    columns: dict[str, ColumnSpec]
    _fingerprint: list[str] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        # kept: the stored spec format (fixed kind tag, floats as stored), hashed
        return {
            "version": SPEC_VERSION,
            "columns": {name: col.to_dict() for name, col in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProfileSpec:
        try:
            if data.get("version") != SPEC_VERSION:
                raise InputError(f"profile spec version {data.get('version')!r} is not supported.")
            columns: dict[str, ColumnSpec] = {}
            for name, col in data["columns"].items():
                if col["kind"] == NUMERIC:
                    columns[name] = NumericSpec(
                        edges=np.asarray(col["edges"], dtype=np.float64),
                        n_distinct=int(col["n_distinct"]),
                        discrete=bool(col["discrete"]),
                    )
                elif col["kind"] == CATEGORICAL:
                    columns[name] = CategoricalSpec(
                        categories=tuple(str(c) for c in col["categories"]),
                        complete=bool(col["complete"]),
                        n_values=int(col["n_values"]),
                        singletons=int(col["singletons"]),
                        seen=HashedSet.from_dict(col["seen"]) if "seen" in col else None,
                    )
                else:
                    raise InputError(
                        f"profile spec column {name!r} has unknown kind {col['kind']!r}."
                    )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise InputError(f"the profile spec is malformed ({exc!r}).") from exc
        return cls(columns)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON; two profiles are comparable only if these match."""
        if not self._fingerprint:
            blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
            self._fingerprint.append(hashlib.sha256(blob.encode()).hexdigest())
        return self._fingerprint[0]


def infer_kind(series: Column, name: str | None = None) -> str:
    """numeric for int/uint/float dtypes, categorical for bool/object/string/category.

    Args:
        series: a pandas Series, or an Arrow column (converted to pandas unless it holds
            numbers or strings).
        name: the column's name for messages, when `series` does not carry one.

    Returns:
        "numeric" or "categorical".

    Raises:
        InputError: the column holds complex numbers, dates or durations.
    """
    arrow = arrow_kind(series)
    if arrow is not None:
        return NUMERIC if arrow == "float" else CATEGORICAL
    series = as_series(series, name)
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return CATEGORICAL
    if pd.api.types.is_complex_dtype(dtype):
        raise InputError(f"column {series.name!r} holds complex numbers, which cannot be profiled.")
    if pd.api.types.is_numeric_dtype(dtype):
        return NUMERIC
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise InputError(
            f"column {series.name!r} holds dates or durations; convert it to a number or leave it out."
        )
    return CATEGORICAL


def numeric_values(series: Column) -> tuple[np.ndarray, int]:
    """float64 values (NaN for missing) and the number of present values that are not numbers.

    The values may be a view of the column's memory: callers must not write into them.
    """
    if arrow_kind(series) == "float":
        return arrow_floats(series), 0
    series = as_series(series)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_complex_dtype(
        series.dtype
    ):
        return series.to_numpy(dtype=np.float64, na_value=np.nan), 0
    converted = pd.to_numeric(series, errors="coerce")
    invalid = int(converted.isna().sum() - series.isna().sum())
    return converted.to_numpy(dtype=np.float64, na_value=np.nan), invalid


_INTEGRAL_TEXT = re.compile(r"-?[0-9]+\.0*")
_BOOL_TEXT = {"true": "True", "false": "False"}
_BOOL_NUMBER = {"1": "True", "0": "False"}
_EXACT_INT = 2.0**53  # integral floats below this are exactly one integer


def canonical_key(value: Any) -> str:
    """The string a category is counted under: one key per value, whatever dtype carries it.

    An integer and an integral float are one key, their integer form (1, 1.0, np.int8(1),
    "1.0", "1" -> "1"; -0.0 -> "0"); bools and the strings "true"/"false" in any case are
    "True"/"False"; any other value is `str(value)`. Strings keep leading zeros ("01" stays
    "01": codes such as postcodes are not numbers).
    """
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        x = float(value)
        if abs(x) < _EXACT_INT and x == int(x):  # NaN and inf fail the first test
            return str(int(x))
        return str(value)
    if isinstance(value, str):
        if _INTEGRAL_TEXT.fullmatch(value):
            head = value[: value.index(".")]
            return "0" if head == "-0" else head
        if value == "-0":
            return "0"
        return _BOOL_TEXT.get(value.lower(), value)
    return str(value)


def canonical_keys(values: pd.Index) -> pd.Index:
    """`canonical_key` of each value of an index (vectorised for int, float and bool indexes)."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return pd.Index(np.where(np.asarray(values, dtype=bool), "True", "False"), dtype=object)
    if pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return pd.Index(np.asarray(values, dtype=np.int64).astype(str), dtype=object)
    if pd.api.types.is_float_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        floats = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(floats) & (np.abs(floats) < _EXACT_INT)
            whole &= np.floor(floats) == floats
        keys = np.asarray(values.map(str), dtype=object)
        if whole.any():
            keys[whole] = floats[whole].astype(np.int64).astype(str)
        return pd.Index(keys, dtype=object)
    return pd.Index([canonical_key(v) for v in values], dtype=object)


def category_counts(series: Column) -> tuple[pd.Series, int]:
    """Counts of present values keyed by `canonical_key` (index: str, values: int64), and the
    number of missing values. Arrow string columns are counted on their dictionary indices."""
    counted = arrow_text_counts(series) if arrow_kind(series) == "text" else None
    if counted is not None:
        values, raw, missing = counted
        return _keyed(values, raw), missing
    series = as_series(series)
    counts = series.value_counts(dropna=True, sort=False)
    return _keyed(counts.index, counts.to_numpy(dtype=np.int64)), int(series.isna().sum())


def _keyed(values: pd.Index, counts: np.ndarray) -> pd.Series:
    present = counts > 0
    if not present.all():
        values, counts = values[present], counts[present]
    out = pd.Series(counts, index=canonical_keys(values))
    if not out.index.is_unique:
        out = out.groupby(level=0, sort=False).sum()
    return out


class _Sample:
    """Exact values while they fit, then a uniform sample without replacement of bounded size.

    Each value gets an independent uniform key; keeping the `size` smallest keys is a uniform
    sample of everything seen. A single chunk is kept whole whatever its length.
    """

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size = size
        self.rng = rng
        self.parts: list[np.ndarray] = []
        self.keys = np.empty(0)
        self.held = 0

    def add(self, values: np.ndarray) -> None:
        self.parts.append(values)
        self.held += len(values)
        if len(self.parts) > 1 and self.held > 2 * self.size:
            self._reduce()

    def _reduce(self) -> None:
        values = np.concatenate(self.parts)
        keys = np.concatenate([self.keys, self.rng.random(len(values) - len(self.keys))])
        if len(values) > self.size:
            keep = np.argpartition(keys, self.size - 1)[: self.size]
            values, keys = values[keep], keys[keep]
        self.parts, self.keys, self.held = [values], keys, len(values)

    def values(self) -> np.ndarray:
        """The sample, in an array the caller may change (the sample is spent)."""
        if len(self.parts) > 1 and self.held > self.size:
            self._reduce()
        values = (
            self.parts[0] if len(self.parts) == 1 else np.concatenate(self.parts or [np.empty(0)])
        )
        self.parts, self.keys, self.held = [], np.empty(0), 0
        return values


def _numeric_spec(sample: np.ndarray, lo: float, hi: float, n_bins: int) -> NumericSpec:
    """The bins of one column; sorts `sample` in place."""
    if lo > hi:  # no finite reference value
        return NumericSpec(edges=np.empty(0), n_distinct=0, discrete=True)
    ordered = sample
    ordered.sort()
    # the edge above the largest float is inf, dropped with the other non-finite edges below
    with np.errstate(over="ignore"):
        above = np.nextafter(hi, np.inf)
    # sorted finite values: a value starts a new run exactly when it differs from the last
    new_value = ordered[1:] != ordered[:-1]
    n_distinct = int(np.count_nonzero(new_value)) + 1 if len(ordered) else 0
    if n_distinct <= n_bins:
        inner = ordered[np.concatenate([[True], new_value])] if len(ordered) else ordered
        discrete = True
    else:
        pos = np.linspace(0.0, len(ordered) - 1, n_bins + 1)
        low = np.floor(pos).astype(np.int64)
        high = np.minimum(low + 1, len(ordered) - 1)
        inner = ordered[low] + (pos - low) * (ordered[high] - ordered[low])
        discrete = False
    edges = np.unique(np.concatenate([[lo], inner, [hi, above]]))
    return NumericSpec(edges=edges[np.isfinite(edges)], n_distinct=n_distinct, discrete=discrete)


def _categorical_spec(counts: pd.Series, top_k: int) -> CategoricalSpec:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    complete = len(ordered) <= top_k
    return CategoricalSpec(
        categories=tuple(k for k, _ in ordered[:top_k]),
        complete=complete,
        n_values=int(counts.sum()),
        singletons=int((counts == 1).sum()),
        seen=None if complete else HashedSet.from_keys(counts.index),
    )


def _checked_kinds(
    kinds: Mapping[str, str] | None, n_bins: int, top_k: int, sample_size: int
) -> dict[str, str]:
    """A copy of the declared kinds, after checking them and the sizes."""
    if n_bins < 1 or top_k < 1 or sample_size < 1:
        raise InputError("n_bins, top_k and sample_size must be positive integers.")
    checked = dict(kinds or {})
    for name, kind in checked.items():
        if kind not in KINDS:
            raise InputError(f"kind {kind!r} for column {name!r} is not one of {', '.join(KINDS)}.")
    return checked


def build_spec(
    chunks: Iterable[Chunk] | pd.DataFrame,
    columns: list[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    *,
    n_bins: int = DEFAULT_BINS,
    top_k: int = DEFAULT_TOP_K,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    seed: int = 0,
) -> ProfileSpec:
    """Fix the bins of every profiled column from reference data (a frame or chunks of one:
    DataFrames or Arrow record batches, as `data.readers.iter_batches` yields)."""
    kinds = _checked_kinds(kinds, n_bins, top_k, sample_size)
    if isinstance(chunks, pd.DataFrame):
        chunks = [chunks]
    rng = np.random.default_rng(seed)
    names: list[str] | None = list(columns) if columns is not None else None
    samples: dict[str, _Sample] = {}
    bounds: dict[str, list[float]] = {}
    cat_counts: dict[str, pd.Series] = {}
    seen_rows = 0
    for chunk in chunks:
        if names is None:
            names = column_names(chunk)
        missing = [n for n in names if not has_column(chunk, n)]
        if missing:
            raise InputError(f"the reference data has no column {missing[0]!r}.")
        seen_rows += len(chunk)
        for name in names:
            series = column(chunk, name)
            if arrow_kind(series) is None:
                series = as_series(series, name)
            kind = kinds.setdefault(name, infer_kind(series))
            if kind == NUMERIC:
                values, _ = numeric_values(series)
                finite_mask = np.isfinite(values)
                # a copy either way: the sample must not hold a view of the chunk
                finite = values.copy() if finite_mask.all() else values[finite_mask]
                samples.setdefault(name, _Sample(sample_size, rng)).add(finite)
                lo_hi = bounds.setdefault(name, [np.inf, -np.inf])
                if len(finite):
                    lo_hi[0] = min(lo_hi[0], float(finite.min()))
                    lo_hi[1] = max(lo_hi[1], float(finite.max()))
            else:
                counts, _ = category_counts(series)
                prev = cat_counts.get(name)
                cat_counts[name] = counts if prev is None else prev.add(counts, fill_value=0)
    if names is None or seen_rows == 0:
        raise InputError("the reference data has no rows, so no profile can be built from it.")
    specs: dict[str, ColumnSpec] = {}
    for name in names:
        if kinds[name] == NUMERIC:
            lo, hi = bounds[name]
            specs[name] = _numeric_spec(samples[name].values(), lo, hi, n_bins)
        else:
            counts = cat_counts[name].astype(np.int64)
            specs[name] = _categorical_spec(counts, top_k)
    return ProfileSpec(specs)
