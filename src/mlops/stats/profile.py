"""Mergeable one-pass dataset profiles on a fixed `ProfileSpec`.

A profile's memory depends on the spec (bins, categories), never on the number of rows, and two
profiles on one spec merge exactly: every count adds. Float sums (bin offsets, moments) add up to
rounding.

Numeric column: rows, missing (None/NaN), +inf and -inf counts (kept out of bins and moments),
invalid (present values that are not numbers), finite count, bin counts, per-bin sums of
(value - bin anchor), min, max, mean and M2 (merged with Chan et al.'s parallel formula). The
per-bin sums make Wasserstein distances from profiles exact unless the two CDFs cross inside a
bin (see `distances.wasserstein_binned`).

Categorical column: rows, missing, counts per spec category, count of other values, the count of
values in categories the reference never held ("novel") and up to `MAX_UNSEEN` examples of them,
with counts (only when the spec can tell: it lists every reference category, or it holds a hashed
set of them, whose rare false matches can only lower the novel count). The examples are exact
until more than `MAX_UNSEEN` distinct unseen values have been merged; the counts are exact. When
the spec lists only the top categories, every value is also counted in one of `HASH_BUCKETS`
buckets picked by a hash of its key: cells that do not depend on which sample a value came from,
for the chi-square test (`binning.test_counts`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlops.errors import InputError
from mlops.stats.columns import Chunk, Column, arrow_kind, as_series, column, has_column
from mlops.stats.hashed import bucket_of
from mlops.stats.spec import (
    CATEGORICAL,
    NUMERIC,
    CategoricalSpec,
    ColumnSpec,
    NumericSpec,
    ProfileSpec,
    build_spec,
    category_counts,
    infer_kind,
    numeric_values,
)

__all__ = [
    "CATEGORICAL",
    "NUMERIC",
    "CategoricalProfile",
    "ColumnProfile",
    "DatasetProfile",
    "NumericProfile",
    "ProfileSpec",
    "build_spec",
    "infer_kind",
    "profile_chunks",
]

PROFILE_VERSION = 1
MAX_UNSEEN = 20
HASH_BUCKETS = 256


def encode_float(x: float | None) -> float | str | None:
    """JSON has no inf/NaN: non-finite floats become the strings "inf", "-inf", "nan"."""
    if x is None:
        return None
    x = float(x)
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def decode_float(x: float | str | None) -> float | None:
    return None if x is None else float(x)


@dataclass
class NumericProfile:
    spec: NumericSpec
    counts: np.ndarray
    offsets: np.ndarray
    rows: int = 0
    missing: int = 0
    pos_inf: int = 0
    neg_inf: int = 0
    invalid: int = 0
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    min: float = math.inf
    max: float = -math.inf

    kind = NUMERIC

    @classmethod
    def empty(cls, spec: NumericSpec) -> NumericProfile:
        return cls(spec, np.zeros(spec.n_bins, np.int64), np.zeros(spec.n_bins, np.float64))

    @property
    def variance(self) -> float:
        """Population variance (ddof=0), as numpy's default."""
        return self.m2 / self.count if self.count else 0.0

    @property
    def std(self) -> float:
        return math.sqrt(self.variance)

    def quantile(self, q: float) -> float:
        """The q-quantile of the finite values from the bins: interpolated linearly inside a bin
        (exact on discrete specs, where each bin holds one value); NaN without values."""
        if self.count == 0:
            return math.nan
        target = q * self.count
        cum = np.cumsum(self.counts)
        b = int(np.searchsorted(cum, target, side="left"))
        edges = self.spec.edges
        if b == 0 or b >= len(self.counts) - 1 or self.spec.discrete:
            # the open end bins hold the exact min and max; a discrete bin one value
            return (
                self.min
                if b == 0
                else self.max
                if b >= len(self.counts) - 1
                else float(edges[b - 1])
            )
        before = cum[b] - self.counts[b]
        frac = (target - before) / self.counts[b]
        return float(edges[b - 1] + frac * (edges[b] - edges[b - 1]))

    def update(self, series: Column) -> None:
        values, invalid = numeric_values(series)
        finite_mask = np.isfinite(values)
        n_finite = int(np.count_nonzero(finite_mask))
        self.rows += len(values)
        self.invalid += invalid
        if n_finite < len(values):
            n_nan = int(np.count_nonzero(np.isnan(values)))
            n_pos = int(np.count_nonzero(values == np.inf))
            self.missing += n_nan - invalid
            self.pos_inf += n_pos
            self.neg_inf += len(values) - n_finite - n_nan - n_pos
            values = values[finite_mask]
        if n_finite == 0:
            return
        idx = self.spec.bin_index(values)
        self.counts += np.bincount(idx, minlength=self.spec.n_bins)
        # scratch arrays are written in place (values may be a read-only view of the chunk)
        offsets = self.spec.anchors[idx]
        np.subtract(values, offsets, out=offsets)
        self.offsets += np.bincount(idx, weights=offsets, minlength=self.spec.n_bins)
        # values near the float limits overflow the moments to inf (or nan), which to_dict
        # encodes; the bin counts stay exact
        with np.errstate(over="ignore", invalid="ignore"):
            mean = float(values.mean())
            centred = np.subtract(values, mean, out=offsets)
            centred *= centred
            # not np.dot: BLAS splits it across threads, so its last bits would depend on
            # the machine's core count; numpy's pairwise sum does not
            m2 = float(centred.sum())
        self._merge_moments(n_finite, mean, m2)
        self.min = min(self.min, float(values.min()))
        self.max = max(self.max, float(values.max()))

    def _merge_moments(self, n: int, mean: float, m2: float) -> None:
        total = self.count + n
        if total == 0:
            return
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.count * n / total
        self.count = total

    def merge(self, other: NumericProfile) -> NumericProfile:
        out = NumericProfile(
            self.spec,
            self.counts + other.counts,
            self.offsets + other.offsets,
            rows=self.rows + other.rows,
            missing=self.missing + other.missing,
            pos_inf=self.pos_inf + other.pos_inf,
            neg_inf=self.neg_inf + other.neg_inf,
            invalid=self.invalid + other.invalid,
            count=self.count,
            mean=self.mean,
            m2=self.m2,
            min=min(self.min, other.min),
            max=max(self.max, other.max),
        )
        out._merge_moments(other.count, other.mean, other.m2)
        return out

    def to_dict(self) -> dict[str, Any]:
        # kept: the stored, mergeable profile format (encode_float keeps NaN/inf)
        has = self.count > 0
        return {
            "kind": NUMERIC,
            "rows": self.rows,
            "missing": self.missing,
            "pos_inf": self.pos_inf,
            "neg_inf": self.neg_inf,
            "invalid": self.invalid,
            "count": self.count,
            "mean": encode_float(self.mean),
            "m2": encode_float(self.m2),
            "min": encode_float(self.min) if has else None,
            "max": encode_float(self.max) if has else None,
            "counts": self.counts.tolist(),
            "offsets": [encode_float(v) for v in self.offsets.tolist()],
        }

    @classmethod
    def from_dict(cls, spec: NumericSpec, data: Mapping[str, Any]) -> NumericProfile:
        counts = np.asarray(data["counts"], dtype=np.int64)
        offsets = np.asarray([decode_float(v) for v in data["offsets"]], dtype=np.float64)
        if len(counts) != spec.n_bins or len(offsets) != spec.n_bins:
            raise ValueError("bin arrays do not match the spec")
        lo, hi = decode_float(data["min"]), decode_float(data["max"])
        return cls(
            spec,
            counts,
            offsets,
            rows=int(data["rows"]),
            missing=int(data["missing"]),
            pos_inf=int(data["pos_inf"]),
            neg_inf=int(data["neg_inf"]),
            invalid=int(data["invalid"]),
            count=int(data["count"]),
            mean=float(decode_float(data["mean"]) or 0.0),
            m2=float(decode_float(data["m2"]) or 0.0),
            min=math.inf if lo is None else lo,
            max=-math.inf if hi is None else hi,
        )


@dataclass
class CategoricalProfile:
    spec: CategoricalSpec
    counts: np.ndarray
    rows: int = 0
    missing: int = 0
    other: int = 0
    unseen: dict[str, int] = field(default_factory=dict)
    novel: int = 0  # values in categories the reference never held (see the module docstring)
    buckets: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    kind = CATEGORICAL

    @classmethod
    def empty(cls, spec: CategoricalSpec) -> CategoricalProfile:
        n_buckets = 0 if spec.complete else HASH_BUCKETS
        return cls(
            spec, np.zeros(len(spec.categories), np.int64), buckets=np.zeros(n_buckets, np.int64)
        )

    @property
    def count(self) -> int:
        """Present (non-missing) values."""
        return int(self.counts.sum()) + self.other

    def update(self, series: Column) -> None:
        self.rows += len(series)
        counts, missing = category_counts(series)
        self.missing += missing
        if counts.empty:
            return
        pos = self.spec.positions(counts.index)
        known = pos >= 0
        values = counts.to_numpy()
        if len(self.buckets):
            where = bucket_of(counts.index, len(self.buckets))
            self.buckets += np.bincount(where, weights=values, minlength=len(self.buckets)).astype(
                np.int64
            )
        self.counts += np.bincount(
            pos[known], weights=values[known], minlength=len(self.counts)
        ).astype(np.int64)
        self.other += int(values[~known].sum())
        if self.spec.knows_unseen and not known.all():
            rest = counts[~known]
            new = rest[self.spec.novel(rest.index)]
            self.novel += int(new.sum())
            self.unseen = _top_unseen(self.unseen, dict(zip(new.index, new.tolist(), strict=True)))

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        return CategoricalProfile(
            self.spec,
            self.counts + other.counts,
            rows=self.rows + other.rows,
            missing=self.missing + other.missing,
            other=self.other + other.other,
            unseen=_top_unseen(self.unseen, other.unseen),
            novel=self.novel + other.novel,
            buckets=self.buckets + other.buckets,
        )

    def to_dict(self) -> dict[str, Any]:
        # kept: the stored, mergeable profile format (encode_float keeps NaN/inf)
        return {
            "kind": CATEGORICAL,
            "rows": self.rows,
            "missing": self.missing,
            "counts": self.counts.tolist(),
            "other": self.other,
            "unseen": dict(self.unseen),
            "novel": self.novel,
            **({"buckets": self.buckets.tolist()} if len(self.buckets) else {}),
        }

    @classmethod
    def from_dict(cls, spec: CategoricalSpec, data: Mapping[str, Any]) -> CategoricalProfile:
        counts = np.asarray(data["counts"], dtype=np.int64)
        if len(counts) != len(spec.categories):
            raise ValueError("category counts do not match the spec")
        # profiles stored before buckets were counted have none: their tests use the categories
        buckets = np.asarray(data.get("buckets", []), dtype=np.int64)
        return cls(
            spec,
            counts,
            rows=int(data["rows"]),
            missing=int(data["missing"]),
            other=int(data["other"]),
            unseen={str(k): int(v) for k, v in data["unseen"].items()},
            # profiles stored before "novel" was counted: with a complete spec it is "other"
            novel=int(data.get("novel", data["other"] if spec.complete else 0)),
            buckets=buckets,
        )


def _top_unseen(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    merged = dict(a)
    for key, n in b.items():
        merged[key] = merged.get(key, 0) + int(n)
    top = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_UNSEEN]
    return dict(top)


ColumnProfile = NumericProfile | CategoricalProfile


def _empty_column(spec: ColumnSpec) -> ColumnProfile:
    if isinstance(spec, NumericSpec):
        return NumericProfile.empty(spec)
    return CategoricalProfile.empty(spec)


@dataclass
class DatasetProfile:
    spec: ProfileSpec
    columns: dict[str, ColumnProfile]
    rows: int = 0

    @classmethod
    def empty(cls, spec: ProfileSpec) -> DatasetProfile:
        return cls(spec, {name: _empty_column(col) for name, col in spec.columns.items()})

    def update(self, chunk: Chunk) -> None:
        """Add one chunk of rows (a DataFrame, or an Arrow record batch or table) to this
        profile, in place."""
        absent = [name for name in self.columns if not has_column(chunk, name)]
        if absent:
            raise InputError(
                f"the data has no column {absent[0]!r}, which the profile spec requires."
            )
        self.rows += len(chunk)
        for name, col in self.columns.items():
            values = column(chunk, name)
            col.update(values if arrow_kind(values) else as_series(values, name))

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """The profile of both datasets together; counts add exactly."""
        if other.spec.fingerprint != self.spec.fingerprint:
            raise InputError("the two profiles were built on different specs and cannot be merged.")
        merged = {name: col.merge(other.columns[name]) for name, col in self.columns.items()}  # type: ignore[arg-type]
        return DatasetProfile(self.spec, merged, self.rows + other.rows)

    def to_dict(self) -> dict[str, Any]:
        # kept: the stored, mergeable profile format (encode_float keeps NaN/inf)
        return {
            "version": PROFILE_VERSION,
            "rows": self.rows,
            "spec": self.spec.to_dict(),
            "columns": {name: col.to_dict() for name, col in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        if not isinstance(data, Mapping) or data.get("version") != PROFILE_VERSION:
            raise InputError("this is not a profile this version of mlops can read.")
        spec = ProfileSpec.from_dict(data["spec"])
        try:
            columns: dict[str, ColumnProfile] = {}
            for name, col_spec in spec.columns.items():
                raw = data["columns"][name]
                if isinstance(col_spec, NumericSpec):
                    columns[name] = NumericProfile.from_dict(col_spec, raw)
                else:
                    columns[name] = CategoricalProfile.from_dict(col_spec, raw)
            rows = int(data["rows"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"the profile is malformed ({exc!r}).") from exc
        return cls(spec, columns, rows)


def profile_chunks(chunks: Iterable[Chunk] | pd.DataFrame, spec: ProfileSpec) -> DatasetProfile:
    """Profile data in one pass; memory is independent of the number of rows.

    Args:
        chunks: a DataFrame, or DataFrames or Arrow record batches (`data.readers.iter_batches`).
        spec: the bins and categories, from `build_spec` on the reference data.

    Returns:
        The profile of every column the spec names.

    Raises:
        InputError: a chunk lacks a column the spec names.
    """
    profile = DatasetProfile.empty(spec)
    if isinstance(chunks, pd.DataFrame):
        chunks = [chunks]
    for chunk in chunks:
        profile.update(chunk)
    return profile
