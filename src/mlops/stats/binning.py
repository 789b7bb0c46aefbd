"""Count vectors of two column profiles on shared bins, fine or coarsened, plus their labels."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlops.stats.profile import CategoricalProfile, ColumnProfile, NumericProfile

# PSI, KL, JS and chi-square on continuous numeric columns use at most this many bins of about
# equal reference mass (the fine grid is too sparse for them at small samples); also the plots.
COARSE_BINS = 20
OTHER_LABEL = "(other)"


def category_counts(col: CategoricalProfile) -> np.ndarray:
    """Counts per spec category, then the "other" bucket (all unseen values land there)."""
    return np.append(col.counts, col.other)


def coarse_groups(ref_counts: np.ndarray, max_bins: int = COARSE_BINS) -> np.ndarray:
    """Group id per fine bin: consecutive bins merged into <= max_bins of ~equal reference mass.

    When the reference fills at most `max_bins` fine bins (discrete columns), each fine bin stays
    on its own. The open end bins join their neighbours.
    """
    nb = len(ref_counts)
    total = ref_counts.sum()
    if total == 0 or np.count_nonzero(ref_counts) <= max_bins:
        return np.arange(nb)
    before = (np.cumsum(ref_counts) - ref_counts) / total
    raw = np.minimum((before * max_bins).astype(np.int64), max_bins - 1)
    return np.unique(raw, return_inverse=True)[1]


def grouped(counts: np.ndarray, groups: np.ndarray) -> np.ndarray:
    return np.bincount(groups, weights=counts, minlength=int(groups.max()) + 1).astype(np.int64)


def pair_counts(
    ref: ColumnProfile, cur: ColumnProfile, coarse: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(reference counts, current counts) on the same bins."""
    if isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        return category_counts(ref), category_counts(cur)
    assert isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile)
    if not coarse:
        return ref.counts, cur.counts
    groups = coarse_groups(ref.counts)
    return grouped(ref.counts, groups), grouped(cur.counts, groups)


def test_counts(ref: ColumnProfile, cur: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """(reference counts, current counts) for a test of homogeneity.

    Numeric columns: the coarse bins. Categorical columns: the spec's categories, then each
    category only the current sample holds as a cell of its own (its kept example count; the
    rest of the novel values as cells of one value each), then the other values the reference
    held. Lumping the novel values into one cell would compare a cell that is empty in the
    reference by construction (the spec lists what the reference held) and flag most small
    samples of a many-level column. When the spec lists only the top categories, the cells are
    the hash buckets of all values instead: the top categories were picked by their reference
    counts, which biases those counts upwards (the same selection effect) and makes the test
    fire on unchanged data.
    """
    if not (isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile)):
        return pair_counts(ref, cur, coarse=True)
    if len(ref.buckets) and len(cur.buckets) == len(ref.buckets) and ref.buckets.sum():
        return ref.buckets, cur.buckets
    examples = np.asarray(list(cur.unseen.values()), dtype=np.int64)
    rest = max(cur.novel - int(examples.sum()), 0)
    novel = np.concatenate([examples, np.ones(rest, dtype=np.int64)])
    ref_cells = np.concatenate([ref.counts, np.zeros(len(novel), np.int64), [ref.other]])
    cur_cells = np.concatenate([cur.counts, novel, [cur.other - int(novel.sum())]])
    return ref_cells, cur_cells


@dataclass
class Histogram:
    """Reference vs current frequencies of one column, for plots.

    Numeric: `edges` has len(reference) + 1 entries; the open ends are closed at the smallest and
    largest finite value either sample holds. Categorical: `categories` names each bar, the last
    one is "(other)". Frequencies are shares of the present (finite, non-missing) values.
    """

    column: str
    kind: str
    reference: list[float]
    current: list[float]
    edges: list[float] | None = None
    categories: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        # kept: keys in their published order (edges/categories first)
        return {
            "column": self.column,
            "kind": self.kind,
            "edges": self.edges,
            "categories": self.categories,
            "reference": self.reference,
            "current": self.current,
        }


def _shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * len(counts)


def histogram(
    name: str, ref: ColumnProfile, cur: ColumnProfile, max_bins: int = COARSE_BINS
) -> Histogram:
    if isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        labels = [*ref.spec.categories, OTHER_LABEL]
        return Histogram(
            name,
            ref.kind,
            _shares(category_counts(ref)),
            _shares(category_counts(cur)),
            categories=labels,
        )
    assert isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile)
    groups = coarse_groups(ref.counts, max_bins)
    edges = ref.spec.edges
    bounds = np.concatenate([[-math.inf], edges, [math.inf]])
    starts = np.flatnonzero(np.diff(np.concatenate([[-1], groups])))
    group_edges = np.append(bounds[starts], math.inf)
    lows = [v for v in (ref.min, cur.min) if math.isfinite(v)]
    highs = [v for v in (ref.max, cur.max) if math.isfinite(v)]
    lo = min(lows) if lows else (edges[0] if len(edges) else 0.0)
    hi = max(highs) if highs else (edges[-1] if len(edges) else 1.0)
    group_edges[0] = min(lo, group_edges[1]) if len(group_edges) > 2 else lo
    group_edges[-1] = max(hi, group_edges[-2]) if len(group_edges) > 2 else max(hi, lo)
    return Histogram(
        name,
        ref.kind,
        _shares(grouped(ref.counts, groups)),
        _shares(grouped(cur.counts, groups)),
        edges=[float(e) for e in group_edges],
    )
