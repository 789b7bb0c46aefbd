"""Data-quality changes between a reference and a current profile (things drift tests cannot see).

Rules (each gives a QualityIssue); the thresholds are a `QualityThresholds`, per column if wanted
(mlops.yaml `monitor.quality`):
  missing_rate       the missing share rose by more than `missing_rise` (absolute, default 0.01)
                     AND by more than `missing_rise_relative` of the reference share (default
                     0.5, i.e. to 1.5x) AND a one-sided pooled two-proportion z-test gives
                     p < `missing_alpha` (default 0.001). The absolute and relative floors keep
                     negligible changes in big samples quiet; the test keeps noise in small
                     samples quiet. 1% -> 5% missing is caught from a few hundred rows on.
  infinite_values    +/-inf values appear where the reference had none, or their share rises by
                     the missing-rate rule.
  invalid_values     a numeric column holds present values that are not numbers.
  out_of_range       the share of current values outside the reference [min, max] exceeds
                     `out_of_range_share` (0.01) AND the exact exchangeability test
                     (`distances.out_of_range_p_value`) gives p < `alpha` (0.001).
  unseen_categories  the share of current values in categories the reference never held exceeds
                     `unseen_share` (0.01) AND, while either sample has at most 1,000 values, a
                     permutation test (`distances.unseen_p_value`) gives p < `alpha`; above
                     that, the share must also exceed 5 x the Good-Turing unseen-mass estimate
                     of the reference (singletons / values). When the reference held more
                     categories than the spec lists, a hashed set of all of them tells which
                     values are new (`hashed.HashedSet`; the test is then the floor rule).
                     Also fires when one new category alone holds more than `unseen_share` of
                     the values and `distances.new_category_p_value` < `alpha` (a category
                     new at 2% of a column with thousands of rare levels, whose many unseen
                     singletons keep the share rule quiet). Its union bound adds each
                     category's own chance of landing wholly in the batch, from the counts the
                     profiles hold, so large known categories cost almost nothing.
  no_values          the current column has rows but no present value while the reference had some.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlops.errors import InputError
from mlops.jsonable import fields_dict
from mlops.stats.distances import (
    new_category_p_value,
    out_of_range_p_value,
    two_proportion_z,
    unseen_p_value,
)
from mlops.stats.profile import CategoricalProfile, ColumnProfile, DatasetProfile, NumericProfile

NOISE_FACTOR = 5.0
SMALL_SAMPLE = 1000  # up to this many values the unseen-category rule is a permutation test


@dataclass(frozen=True)
class QualityThresholds:
    """The limits of the quality rules (module docstring); mlops.yaml `monitor.quality`."""

    missing_rise: float = 0.01
    missing_rise_relative: float = 0.5
    missing_alpha: float = 0.001
    out_of_range_share: float = 0.01
    unseen_share: float = 0.01
    alpha: float = 0.001  # level of the out-of-range and unseen-category tests

    def replace(self, **changes: float | None) -> QualityThresholds:
        from dataclasses import replace

        return replace(self, **{k: v for k, v in changes.items() if v is not None})


DEFAULT_THRESHOLDS = QualityThresholds()


@dataclass
class QualityIssue:
    column: str
    check: str
    message: str
    reference: float
    current: float
    threshold: float | None = None  # the limit the current figure exceeded, where there is one

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


@dataclass
class ColumnQuality:
    column: str
    kind: str
    ref_rows: int
    cur_rows: int
    ref_missing_rate: float
    cur_missing_rate: float
    missing_p_value: float
    ref_inf: int = 0
    cur_pos_inf: int = 0
    cur_neg_inf: int = 0
    cur_invalid: int = 0
    out_of_range_share: float | None = None
    unseen_share: float | None = None
    unseen_examples: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


@dataclass
class QualityResult:
    columns: list[ColumnQuality]
    issues: list[QualityIssue]

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict[str, Any]:
        # kept: a computed `ok` first and keys in their published order
        return {
            "ok": self.ok,
            "issues": [i.to_dict() for i in self.issues],
            "columns": [c.to_dict() for c in self.columns],
        }


def _rate(x: int, n: int) -> float:
    return x / n if n else 0.0


def _rose(x1: int, n1: int, x2: int, n2: int, t: QualityThresholds) -> tuple[bool, float]:
    """The share x2/n2 rose from x1/n1: by more than the absolute and the relative floor, and
    significantly (one-sided pooled two-proportion z-test)."""
    p = two_proportion_z(x1, n1, x2, n2)
    before, after = _rate(x1, n1), _rate(x2, n2)
    material = after - before > t.missing_rise and after > before * (1 + t.missing_rise_relative)
    return material and p < t.missing_alpha, p


def _missing_limit(ref_rate: float, t: QualityThresholds) -> float:
    return max(ref_rate + t.missing_rise, ref_rate * (1 + t.missing_rise_relative))


def _column(
    name: str,
    ref: ColumnProfile,
    cur: ColumnProfile,
    issues: list[QualityIssue],
    t: QualityThresholds,
) -> ColumnQuality:
    rose, p = _rose(ref.missing, ref.rows, cur.missing, cur.rows, t)
    q = ColumnQuality(
        name,
        ref.kind,
        ref.rows,
        cur.rows,
        _rate(ref.missing, ref.rows),
        _rate(cur.missing, cur.rows),
        p,
    )
    if rose:
        issues.append(
            QualityIssue(
                name,
                "missing_rate",
                f"missing values rose from {q.ref_missing_rate:.1%} to {q.cur_missing_rate:.1%}.",
                q.ref_missing_rate,
                q.cur_missing_rate,
                _missing_limit(q.ref_missing_rate, t),
            )
        )
    if cur.rows and cur.count == 0 and ref.count > 0:
        issues.append(
            QualityIssue(name, "no_values", "the column has no present value.", ref.count, 0)
        )
    if isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile):
        _numeric(name, ref, cur, q, issues, t)
    elif isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        _categorical(name, ref, cur, q, issues, t)
    return q


def _numeric(
    name: str,
    ref: NumericProfile,
    cur: NumericProfile,
    q: ColumnQuality,
    issues: list[QualityIssue],
    t: QualityThresholds,
) -> None:
    q.ref_inf = ref.pos_inf + ref.neg_inf
    q.cur_pos_inf, q.cur_neg_inf, q.cur_invalid = cur.pos_inf, cur.neg_inf, cur.invalid
    cur_inf = cur.pos_inf + cur.neg_inf
    rose, _ = _rose(q.ref_inf, ref.rows, cur_inf, cur.rows, t)
    if cur_inf and (q.ref_inf == 0 or rose):
        issues.append(
            QualityIssue(
                name,
                "infinite_values",
                f"{cur_inf} infinite values (+inf {cur.pos_inf}, -inf {cur.neg_inf}).",
                _rate(q.ref_inf, ref.rows),
                _rate(cur_inf, cur.rows),
            )
        )
    if cur.invalid:
        issues.append(
            QualityIssue(
                name,
                "invalid_values",
                f"{cur.invalid} values are not numbers.",
                _rate(ref.invalid, ref.rows),
                _rate(cur.invalid, cur.rows),
            )
        )
    if len(ref.spec.edges) and cur.count and ref.count:
        # bin 0 and the last bin hold exactly the values below the reference min / above its max
        outside = int(cur.counts[0] + cur.counts[-1])
        share = outside / cur.count
        q.out_of_range_share = share
        limit = t.out_of_range_share
        if share > limit and out_of_range_p_value(outside, ref.count, cur.count) < t.alpha:
            issues.append(
                QualityIssue(
                    name,
                    "out_of_range",
                    f"{share:.1%} of values lie outside the reference range "
                    f"[{ref.spec.edges[0]:.6g}, {ref.max:.6g}].",
                    float(ref.counts[0] + ref.counts[-1]) / ref.count,
                    share,
                    limit,
                )
            )


def _categorical(
    name: str,
    ref: CategoricalProfile,
    cur: CategoricalProfile,
    q: ColumnQuality,
    issues: list[QualityIssue],
    t: QualityThresholds,
) -> None:
    if not ref.spec.knows_unseen or not cur.count:
        return
    share = cur.novel / cur.count
    q.unseen_share = share
    q.unseen_examples = dict(cur.unseen)
    if ref.spec.complete and min(ref.count, cur.count) <= SMALL_SAMPLE:
        limit = t.unseen_share
        fired = share > limit and _unseen_p(ref, cur) < t.alpha
    else:
        limit = max(t.unseen_share, NOISE_FACTOR * ref.spec.unseen_mass)
        fired = share > limit
    top = max(cur.unseen.values(), default=0)
    if not fired and top / cur.count > t.unseen_share:
        totals, unknown = _category_totals(ref, cur, top)
        fired = new_category_p_value(top, ref.count, cur.count, unknown, totals) < t.alpha
    if fired:
        examples = ", ".join(repr(k) for k in list(cur.unseen)[:5])
        issues.append(
            QualityIssue(
                name,
                "unseen_categories",
                f"{share:.1%} of values are categories the reference never held (e.g. {examples}).",
                _rate(ref.novel, ref.count),
                share,
                limit,
            )
        )


def _category_totals(
    ref: CategoricalProfile, cur: CategoricalProfile, size: int
) -> tuple[np.ndarray, float]:
    """Values in both samples together of every category known by count (the listed ones and
    the kept new ones), and how many other categories may hold `size` or more values (at most
    the rest of the values / size)."""
    kept = np.asarray(list(cur.unseen.values()), dtype=np.int64)
    totals = np.concatenate([ref.counts + cur.counts, kept])
    rest = ref.other + cur.other - int(kept.sum())
    return totals, max(rest, 0) / size


def _unseen_p(ref: CategoricalProfile, cur: CategoricalProfile) -> float:
    """The permutation p-value of the current sample's unseen values; unseen values beyond the
    kept examples count as categories of one value each (which can only raise p)."""
    examples = np.asarray(list(cur.unseen.values()), dtype=np.int64)
    rest = max(cur.novel - int(examples.sum()), 0)
    unseen = np.concatenate([examples, np.ones(rest, dtype=np.int64)])
    return unseen_p_value(ref.counts + cur.counts, unseen, cur.count)


def compute_quality(
    reference: DatasetProfile,
    current: DatasetProfile,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
    columns: Mapping[str, QualityThresholds] | None = None,
) -> QualityResult:
    """Missing, infinite, invalid, out-of-range and unseen values: current vs reference.

    `thresholds` apply to every column but those named in `columns`."""
    if reference.spec.fingerprint != current.spec.fingerprint:
        raise InputError("the reference and current profiles were built on different specs.")
    issues: list[QualityIssue] = []
    per = columns or {}
    results = [
        _column(name, ref, current.columns[name], issues, per.get(name, thresholds))
        for name, ref in reference.columns.items()
    ]
    columns_out = results
    return QualityResult(columns_out, issues)
