"""Data-quality changes between a reference and a current profile (things drift tests cannot see).

Rules (each gives a QualityIssue):
  missing_rate       the missing share rose by more than 0.05 (absolute) AND a one-sided pooled
                     two-proportion z-test gives p < 0.05. The absolute floor keeps tiny changes in
                     big samples quiet; the test keeps noise in small samples quiet.
  infinite_values    +/-inf values appear where the reference had none, or their share rises by
                     the missing-rate rule.
  invalid_values     a numeric column holds present values that are not numbers.
  out_of_range       the share of current values outside the reference [min, max] exceeds
                     max(0.01, 5 x 2/(n_ref + 1)); 2/(n_ref + 1) is the expected share for a new
                     sample of the same continuous distribution.
  unseen_categories  the share of current values in categories the reference never held exceeds
                     max(0.01, 5 x the Good-Turing unseen-mass estimate of the reference
                     (singletons / values)). Only when the spec lists every reference category.
  no_values          the current column has rows but no present value while the reference had some.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops.errors import InputError
from mlops.jsonable import fields_dict
from mlops.stats.distances import two_proportion_z
from mlops.stats.profile import CategoricalProfile, ColumnProfile, DatasetProfile, NumericProfile

MISSING_RATE_DELTA = 0.05
ALPHA = 0.05
MIN_SHARE = 0.01
NOISE_FACTOR = 5.0


@dataclass
class QualityIssue:
    column: str
    check: str
    message: str
    reference: float
    current: float

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


def _rose(x1: int, n1: int, x2: int, n2: int) -> tuple[bool, float]:
    p = two_proportion_z(x1, n1, x2, n2)
    return _rate(x2, n2) - _rate(x1, n1) > MISSING_RATE_DELTA and p < ALPHA, p


def _column(
    name: str, ref: ColumnProfile, cur: ColumnProfile, issues: list[QualityIssue]
) -> ColumnQuality:
    rose, p = _rose(ref.missing, ref.rows, cur.missing, cur.rows)
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
            )
        )
    if cur.rows and cur.count == 0 and ref.count > 0:
        issues.append(
            QualityIssue(name, "no_values", "the column has no present value.", ref.count, 0)
        )
    if isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile):
        _numeric(name, ref, cur, q, issues)
    elif isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        _categorical(name, ref, cur, q, issues)
    return q


def _numeric(
    name: str,
    ref: NumericProfile,
    cur: NumericProfile,
    q: ColumnQuality,
    issues: list[QualityIssue],
) -> None:
    q.ref_inf = ref.pos_inf + ref.neg_inf
    q.cur_pos_inf, q.cur_neg_inf, q.cur_invalid = cur.pos_inf, cur.neg_inf, cur.invalid
    cur_inf = cur.pos_inf + cur.neg_inf
    rose, _ = _rose(q.ref_inf, ref.rows, cur_inf, cur.rows)
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
        share = float(cur.counts[0] + cur.counts[-1]) / cur.count
        q.out_of_range_share = share
        if share > max(MIN_SHARE, NOISE_FACTOR * 2 / (ref.count + 1)):
            issues.append(
                QualityIssue(
                    name,
                    "out_of_range",
                    f"{share:.1%} of values lie outside the reference range "
                    f"[{ref.spec.edges[0]:.6g}, {ref.max:.6g}].",
                    float(ref.counts[0] + ref.counts[-1]) / ref.count,
                    share,
                )
            )


def _categorical(
    name: str,
    ref: CategoricalProfile,
    cur: CategoricalProfile,
    q: ColumnQuality,
    issues: list[QualityIssue],
) -> None:
    if not ref.spec.complete or not cur.count:
        return
    share = cur.other / cur.count
    q.unseen_share = share
    q.unseen_examples = dict(cur.unseen)
    if share > max(MIN_SHARE, NOISE_FACTOR * ref.spec.unseen_mass):
        examples = ", ".join(repr(k) for k in list(cur.unseen)[:5])
        issues.append(
            QualityIssue(
                name,
                "unseen_categories",
                f"{share:.1%} of values are categories the reference never held (e.g. {examples}).",
                _rate(ref.other, ref.count),
                share,
            )
        )


def compute_quality(reference: DatasetProfile, current: DatasetProfile) -> QualityResult:
    """Missing, infinite, invalid, out-of-range and unseen values: current vs reference."""
    if reference.spec.fingerprint != current.spec.fingerprint:
        raise InputError("the reference and current profiles were built on different specs.")
    issues: list[QualityIssue] = []
    columns = [
        _column(name, ref, current.columns[name], issues) for name, ref in reference.columns.items()
    ]
    return QualityResult(columns, issues)
