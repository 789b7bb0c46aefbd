"""Per-column and dataset drift between a reference and a current profile on one spec.

Methods (score, drift rule, default threshold):
  wasserstein    W1 / reference std (floored relative to the column's size)  score >= 0.1
  jensenshannon  JS distance, base 2 so in [0, 1]                         score >= 0.1
  psi            population stability index                               score >= 0.1
  kl             KL(current || reference), nats                           score >= 0.1
  ks             KS statistic; asymptotic p-value                         adjusted p < 0.05
  ks_distance    KS statistic as an effect size, with its limiting       score >= 0.04 and
                 (Kolmogorov) p-value                                      p < 0.001
  chisquare      chi-square test of homogeneity (2 x k contingency) after  adjusted p < 0.05
                 pooling cells that expect fewer than 5 values

PSI, KL, JS and chi-square see a continuous numeric column through at most 20 bins of about equal
reference mass; KS and Wasserstein use the spec's fine grid. Categorical columns are compared over
the spec's categories plus one "other" cell that holds every unseen value. Missing values are not
part of any distribution: a change in the missing rate is a data-quality finding
(`compute_quality`).

Default method per column (overridable per column with {"method": ..., "threshold": ...}):
  * p-value tests while a sample is small: with n = min(reference, current) present values,
    n <= 1000 uses KS (numeric) or chi-square (categorical). A distance with a fixed threshold is
    unreliable there because its sampling noise (about 1/sqrt(n)) approaches the threshold.
  * distances above that, because every p-value test flags negligible shifts at large n:
    Wasserstein normalised by the reference std (threshold 0.1) for numeric columns and
    JS distance (threshold 0.1) for categorical ones. A heavy-tailed numeric column (reference
    std above `HEAVY_TAIL_RATIO` (5) times the normal-equivalent IQR/1.349) gets `ks_distance`
    instead: there a few extreme values dominate both W1 and the std, so the normed W1 is
    mostly noise (it both misses a half-scale location shift of a Cauchy column and fires on
    unchanged ones), while the KS distance does not depend on the scale at all. Numeric columns
    with at most 5 distinct reference values count as categorical here (a W1 on a 0/1 column
    depends on the base rate).
  * a second effect size next to each default distance, so shape changes that barely move the
    distance are seen (heavy tails, where a few extreme values dominate the std; a point mass
    such as zeros growing): the share of values that moved, `SHIFT_THRESHOLD` (0.04) or more,
    AND significant at `SHIFT_ALPHA` (0.001). For numeric columns the share is the KS distance
    on the spec's bins (with its limiting Kolmogorov p-value, cheap at any n and accurate above
    1,000 values); for categorical ones the largest change of one category's share (with the
    pooled chi-square p-value). The test keeps the small shifts that sampling noise makes at
    moderate n quiet; the share keeps negligible shifts on huge samples quiet. It applies to
    default methods only (a per-column method is used alone).
  * a categorical column above 1,000 values drifts only when the change is material (JS
    distance >= 0.1, or a category's share moved by 0.04 or more) AND significant (pooled
    chi-square p < `SHIFT_ALPHA`). The JS distance of two samples is biased upwards by their
    noise, about sqrt((k - 1)(1/n_ref + 1/n_cur) / (8 ln 2)) for k categories
    (`distances.expected_js_no_change`): 0.06 for 100 categories at 10,000 values each, so a
    distance alone fired on unchanged many-level columns; the test keeps that quiet at any n.
These follow Evidently's split at 1000 reference rows (KS/chi-square p-values below, normalised
Wasserstein 0.1 / JS 0.1 above), using the smaller of the two samples, JS in base 2 (Evidently
uses base e, bounded by 0.833) and a correction for multiple testing, which Evidently lacks.

p-values of the columns tested with p-values are adjusted together: Benjamini-Hochberg ("bh",
default, controls the false discovery rate), "bonferroni" (family-wise error) or "none".
Dataset drift: share of drifted columns (among those with a score) >= drift_share (0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from mlops.errors import InputError
from mlops.stats import distances as dist
from mlops.stats.binning import Histogram, histogram, pair_counts, test_counts
from mlops.stats.profile import CATEGORICAL, ColumnProfile, DatasetProfile, NumericProfile
from mlops.stats.quality import ColumnQuality, QualityIssue, QualityResult, compute_quality

__all__ = [
    "ColumnDrift",
    "ColumnQuality",
    "DriftResult",
    "Histogram",
    "QualityIssue",
    "QualityResult",
    "compute_drift",
    "compute_quality",
    "histograms",
]

METHODS = ("wasserstein", "jensenshannon", "psi", "kl", "ks", "chisquare", "ks_distance")
P_VALUE_METHODS = ("ks", "chisquare")
NUMERIC_ONLY = ("wasserstein", "ks", "ks_distance")
DEFAULT_THRESHOLDS: dict[str, float] = {
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "psi": 0.1,
    "kl": 0.1,
    "ks": 0.05,
    "chisquare": 0.05,
    "ks_distance": 0.04,
}
CORRECTIONS = ("bh", "bonferroni", "none")
SMALL_SAMPLE = 1000
LOW_CARDINALITY = 5
# the Wasserstein score divides by the reference std, floored at this share of the column's
# largest absolute value (a constant column), so the floor follows the column's units
RELATIVE_SCALE_FLOOR = 1e-9
SHIFT_THRESHOLD = 0.04
SHIFT_ALPHA = 0.001
HEAVY_TAIL_RATIO = 5.0


@dataclass
class ColumnDrift:
    column: str
    kind: str
    method: str
    score: float | None  # None when either sample has no present value
    threshold: float
    p_value: float | None
    drifted: bool
    ref_count: int
    cur_count: int
    p_adjusted: float | None = None
    shift: float | None = None  # the second effect size (see the module docstring), if used
    shift_p_value: float | None = None
    shift_threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        # kept: infinities are clamped to the largest float here, not nulled
        return {
            "column": self.column,
            "kind": self.kind,
            "method": self.method,
            "score": _finite(self.score),
            "threshold": self.threshold,
            "p_value": _finite(self.p_value),
            "p_adjusted": _finite(self.p_adjusted),
            "drifted": self.drifted,
            "ref_count": self.ref_count,
            "cur_count": self.cur_count,
            "shift": _finite(self.shift),
            "shift_p_value": _finite(self.shift_p_value),
            "shift_threshold": self.shift_threshold,
        }

    @property
    def shifted(self) -> bool:
        """The second effect size alone says drift (material and significant)."""
        return (
            self.shift is not None
            and self.shift_p_value is not None
            and self.shift_threshold is not None
            and self.shift >= self.shift_threshold
            and self.shift_p_value < SHIFT_ALPHA
        )


@dataclass
class DriftResult:
    columns: list[ColumnDrift]
    n_drifted: int
    share_drifted: float
    drift_share: float
    dataset_drift: bool
    correction: str = "bh"
    n_tested: int = 0
    drifted_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # kept: keys in their published order, not field order
        return {
            "dataset_drift": self.dataset_drift,
            "n_drifted": self.n_drifted,
            "n_tested": self.n_tested,
            "share_drifted": self.share_drifted,
            "drift_share": self.drift_share,
            "correction": self.correction,
            "drifted_columns": list(self.drifted_columns),
            "columns": [c.to_dict() for c in self.columns],
        }

    def as_reported(self) -> DriftResult:
        """A copy whose scores and p-values are as reports carry them (to_dict's values: NaN as
        None, infinities clamped to the largest float), for renderers and alert rules."""
        columns = [
            replace(
                c,
                score=_finite(c.score),
                p_value=_finite(c.p_value),
                p_adjusted=_finite(c.p_adjusted),
                shift=_finite(c.shift),
                shift_p_value=_finite(c.shift_p_value),
            )
            for c in self.columns
        ]
        return replace(self, columns=columns, drifted_columns=list(self.drifted_columns))


def _finite(x: float | None) -> float | None:
    """JSON-safe: None stays None, infinities are clamped to the largest float, NaN becomes None."""
    if x is None or math.isnan(x):
        return None
    return max(-1.7976931348623157e308, min(1.7976931348623157e308, x))


def _categorical_like(col: ColumnProfile) -> bool:
    return col.kind == CATEGORICAL or (
        isinstance(col, NumericProfile) and col.spec.n_distinct <= LOW_CARDINALITY
    )


def default_method(ref: ColumnProfile, cur: ColumnProfile) -> str:
    """The method a column gets without an override (see the module docstring)."""
    n_small = min(ref.count, cur.count)
    if not _categorical_like(ref):
        if n_small <= SMALL_SAMPLE:
            return "ks"
        assert isinstance(ref, NumericProfile)
        return "ks_distance" if heavy_tailed(ref) else "wasserstein"
    return "chisquare" if n_small <= SMALL_SAMPLE else "jensenshannon"


def _score(method: str, ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float | None]:
    if method == "wasserstein":
        assert isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile)
        w = dist.wasserstein_binned(
            ref.spec.edges, ref.counts, ref.offsets, cur.counts, cur.offsets
        )
        return w / scale(ref), None
    if method == "ks_distance":
        return dist.ks_binned(ref.counts, cur.counts), None
    if method == "ks":
        d = dist.ks_binned(ref.counts, cur.counts)
        return d, dist.ks_pvalue(d, ref.count, cur.count)
    if method == "chisquare":
        stat, p, _ = dist.chi2_pooled_test(*test_counts(ref, cur))
        return stat, p
    ref_counts, cur_counts = pair_counts(ref, cur, coarse=True)
    fn = {"jensenshannon": dist.jensenshannon, "psi": dist.psi, "kl": dist.kl}[method]
    return fn(ref_counts, cur_counts), None


def scale(ref: NumericProfile) -> float:
    """The Wasserstein score's denominator: the reference std, floored relative to the column's
    magnitude so that a column measured in tiny units is judged like any other."""
    size = max(abs(ref.min), abs(ref.max)) if ref.count else 0.0
    floor = RELATIVE_SCALE_FLOOR * size if math.isfinite(size) else 0.0
    return max(ref.std, floor, math.ulp(0.0))


def heavy_tailed(ref: NumericProfile) -> bool:
    """The reference std exceeds `HEAVY_TAIL_RATIO` normal-equivalent IQRs (IQR / 1.349); a
    column whose quartiles coincide (mostly one value) is not called heavy-tailed."""
    iqr = ref.quantile(0.75) - ref.quantile(0.25)
    return bool(iqr > 0 and ref.std > HEAVY_TAIL_RATIO * iqr / 1.349)


def second_effect(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float]:
    """(share of values that moved, its p-value): KS distance on the fine bins for ordered
    columns, the largest change of a category's share (pooled chi-square) otherwise."""
    if isinstance(ref, NumericProfile) and not _categorical_like(ref):
        d = dist.ks_binned(ref.counts, cur.counts)
        return d, dist.ks_pvalue_limit(d, ref.count, cur.count)
    ref_counts, cur_counts = (
        test_counts(ref, cur) if ref.kind == CATEGORICAL else pair_counts(ref, cur, coarse=False)
    )
    _, p, _ = dist.chi2_pooled_test(ref_counts, cur_counts)
    return dist.largest_share_change(ref_counts, cur_counts), p


def _check_options(
    reference: DatasetProfile,
    current: DatasetProfile,
    overrides: dict[str, dict] | None,
    correction: str,
    drift_share: float,
) -> dict[str, dict]:
    if reference.spec.fingerprint != current.spec.fingerprint:
        raise InputError("the reference and current profiles were built on different specs.")
    if correction not in CORRECTIONS:
        raise InputError(f"correction {correction!r} is not one of {', '.join(CORRECTIONS)}.")
    if not (isinstance(drift_share, int | float) and 0 < drift_share <= 1):
        raise InputError(f"drift_share must be a number in (0, 1], not {drift_share!r}.")
    overrides = dict(overrides or {})
    for name, opt in overrides.items():
        if name not in reference.columns:
            raise InputError(
                f"the drift settings name column {name!r}, which the profile does not have."
            )
        if not isinstance(opt, dict) or set(opt) - {"method", "threshold"}:
            raise InputError(
                f"drift settings for column {name!r} accept only 'method' and 'threshold'."
            )
        method = opt.get("method")
        if method is not None and method not in METHODS:
            raise InputError(
                f"drift method {method!r} for column {name!r} is not one of {', '.join(METHODS)}."
            )
        if method in NUMERIC_ONLY and reference.columns[name].kind == CATEGORICAL:
            raise InputError(
                f"drift method {method!r} needs ordered values; column {name!r} is categorical."
            )
        threshold = opt.get("threshold")
        if threshold is not None and (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not math.isfinite(threshold)
            or threshold <= 0
        ):
            raise InputError(f"the drift threshold for column {name!r} must be a positive number.")
    return overrides


def _column_drift(
    name: str, ref: ColumnProfile, cur: ColumnProfile, opt: dict, significant: bool
) -> ColumnDrift:
    """One column's figures and verdict (p-value tests are judged later, after correction)."""
    method = opt.get("method") or default_method(ref, cur)
    threshold = float(opt.get("threshold") or DEFAULT_THRESHOLDS[method])
    if method in P_VALUE_METHODS and threshold >= 1:
        raise InputError(
            f"the {method} threshold for column {name!r} is a p-value and must be below 1."
        )
    score: float | None = None
    p_value: float | None = None
    if ref.count > 0 and cur.count > 0:
        score, p_value = _score(method, ref, cur)
    over = method not in P_VALUE_METHODS and score is not None and score >= threshold
    col = ColumnDrift(name, ref.kind, method, score, threshold, p_value, over, ref.count, cur.count)
    if score is None or method in P_VALUE_METHODS or (opt and method != "ks_distance"):
        return col
    col.shift, col.shift_p_value = second_effect(ref, cur)
    if method == "ks_distance":  # one figure: material and significant
        col.shift_threshold = threshold
        col.drifted = col.shifted
        return col
    col.shift_threshold = SHIFT_THRESHOLD
    col.drifted = col.drifted or col.shifted
    if significant or method == "jensenshannon":  # the distance counts only when not noise
        p = 1.0 if col.shift_p_value is None else col.shift_p_value  # p 0.0 is significant
        col.drifted = col.drifted and p < SHIFT_ALPHA
    return col


def compute_drift(
    reference: DatasetProfile,
    current: DatasetProfile,
    overrides: dict[str, dict] | None = None,
    correction: str = "bh",
    drift_share: float = 0.5,
    significant: bool = False,
) -> DriftResult:
    """Drift of every profiled column, and whether the dataset drifted as a whole.

    Args:
        reference: the reference profile.
        current: the current profile, on the same spec.
        overrides: per column {"method": ..., "threshold": ...}.
        correction: "bh", "bonferroni" or "none", for the p-value tests.
        drift_share: dataset drift when at least this share of the scored columns drifted.
        significant: a default numeric distance above its threshold also needs its test (the
            second effect size's p-value) below `SHIFT_ALPHA` (used for target drift); default
            categorical distances always need it.

    Returns:
        The per-column figures and the dataset verdict.

    Raises:
        InputError: the profiles' specs differ, or an option is invalid.
    """
    overrides = _check_options(reference, current, overrides, correction, drift_share)
    results = [
        _column_drift(name, ref, current.columns[name], overrides.get(name, {}), significant)
        for name, ref in reference.columns.items()
    ]
    tested = [(r, r.p_value) for r in results if r.p_value is not None]
    for (r, _), adj in zip(
        tested, dist.adjust_pvalues([p for _, p in tested], correction), strict=True
    ):
        r.p_adjusted = adj
        r.drifted = adj < r.threshold
    scored = [r for r in results if r.score is not None]
    drifted = [r.column for r in scored if r.drifted]
    share = len(drifted) / len(scored) if scored else 0.0
    return DriftResult(
        columns=results,
        n_drifted=len(drifted),
        share_drifted=share,
        drift_share=float(drift_share),
        dataset_drift=bool(scored) and share >= drift_share,
        correction=correction,
        n_tested=len(scored),
        drifted_columns=drifted,
    )


def histograms(reference: DatasetProfile, current: DatasetProfile) -> dict[str, Histogram]:
    """Reference vs current frequencies per column (numeric: <= 20 bins of ~equal reference mass)."""
    if reference.spec.fingerprint != current.spec.fingerprint:
        raise InputError("the reference and current profiles were built on different specs.")
    return {
        name: histogram(name, ref, current.columns[name]) for name, ref in reference.columns.items()
    }
