"""Sparse tables, heavy tails, tiny units and many categories: the statistics against scipy or an
exact enumeration, and the rules' behaviour on the cases that used to go wrong."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, chi2_contingency, hypergeom

from mlops.stats import build_spec, compute_drift, compute_quality, profile_chunks
from mlops.stats import distances as dist
from mlops.stats.hashed import HashedSet
from mlops.stats.profile import DatasetProfile


@pytest.mark.parametrize("seed", range(5))
def test_pooled_chi_square_matches_scipy_on_the_pooled_table(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(60, 0.5))
    ref, cur = rng.multinomial(80, p), rng.multinomial(50, p)
    r, c = dist.pool_sparse_cells(ref, cur)
    assert r.sum() == ref.sum() and c.sum() == cur.sum()
    table = np.vstack([r, c])
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    assert expected.min() >= dist.MIN_EXPECTED or table.shape[1] <= 2
    stat, pval, dof = dist.chi2_pooled_test(ref, cur)
    if table.shape[1] >= 2:
        want = chi2_contingency(table, correction=False)
        assert stat == pytest.approx(want.statistic, rel=1e-9)
        assert pval == pytest.approx(want.pvalue, abs=1e-12)
        assert dof == want.dof


def test_pooling_leaves_well_filled_tables_alone() -> None:
    ref, cur = np.array([100, 200, 300]), np.array([90, 210, 310])
    r, c = dist.pool_sparse_cells(ref, cur)
    assert r.tolist() == ref.tolist() and c.tolist() == cur.tolist()


def _sparse_alarm_rate(n_ref: int, n_cur: int, reps: int, seed: int) -> float:
    levels = np.array([f"l{i}" for i in range(60)], dtype=object)
    rng = np.random.default_rng(seed)
    alarms = 0
    for _ in range(reps):
        ref = pd.DataFrame({"c": levels[rng.integers(0, 60, n_ref)]})
        spec = build_spec(ref)
        cur = profile_chunks(pd.DataFrame({"c": levels[rng.integers(0, 60, n_cur)]}), spec)
        alarms += compute_drift(profile_chunks(ref, spec), cur).columns[0].drifted
    return alarms / reps


@pytest.mark.parametrize(("n_ref", "n_cur"), [(50, 50), (10_000, 50), (200, 200)])
def test_chi_square_holds_its_level_on_60_sparse_levels(n_ref: int, n_cur: int) -> None:
    """Was 13% at n = 50 (nominal 5%) with one 'other' cell that the reference leaves empty."""
    reps = 300
    rate = _sparse_alarm_rate(n_ref, n_cur, reps, seed=n_ref + n_cur)
    assert rate <= binom.ppf(0.999, reps, 0.05) / reps, rate


def test_chi_square_still_sees_a_real_change_on_sparse_levels() -> None:
    levels = np.array([f"l{i}" for i in range(60)], dtype=object)
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"c": levels[rng.integers(0, 60, 2000)]})
    spec = build_spec(ref)
    cur = pd.DataFrame({"c": levels[rng.integers(0, 15, 200)]})  # a quarter of the levels
    result = compute_drift(profile_chunks(ref, spec), profile_chunks(cur, spec))
    assert result.columns[0].method == "chisquare" and result.columns[0].drifted


def _enumerated_out_of_range(n: int, m: int) -> dict[int, float]:
    """P(K = k) over every order of n reference and m current values (ranks only)."""
    counts: Counter[int] = Counter()
    for ref_pos in itertools.combinations(range(n + m), n):
        counts[ref_pos[0] + (n + m - 1 - ref_pos[-1])] += 1
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()}


@pytest.mark.parametrize(("n", "m"), [(2, 3), (3, 5), (5, 5), (6, 4)])
def test_out_of_range_p_value_matches_exact_enumeration(n: int, m: int) -> None:
    pmf = _enumerated_out_of_range(n, m)
    for k in range(m + 1):
        exact = sum(v for kk, v in pmf.items() if kk >= k)
        assert dist.out_of_range_p_value(k, n, m) == pytest.approx(exact, abs=1e-12)


def test_new_category_p_value_is_the_hypergeometric_bound() -> None:
    for count, n_ref, n_cur in [(3, 50, 50), (20, 1000, 1000), (200, 10_000, 10_000)]:
        total = n_ref + n_cur
        want = min(1.0, total / count * hypergeom.pmf(count, total, count, n_cur))
        assert dist.new_category_p_value(count, n_ref, n_cur) == pytest.approx(
            want, rel=1e-9, abs=1e-300
        )


def test_new_category_p_value_sums_each_known_category() -> None:
    """With the totals known, the bound is the sum of each category's own chance of landing
    wholly in the batch: far below the count of categories times the smallest one's chance."""
    n_ref = n_cur = 200
    totals = np.array([10, 9, 38, 40, 41])  # the new one (10), a smaller one, three large ones
    want = sum(hypergeom.pmf(t, n_ref + n_cur, t, n_cur) for t in (10, 38, 40, 41))
    got = dist.new_category_p_value(10, n_ref, n_cur, 0.0, totals)
    assert got == pytest.approx(want, rel=1e-9)
    assert got < 0.001 < dist.new_category_p_value(10, n_ref, n_cur, 4.0)
    rest = dist.new_category_p_value(10, n_ref, n_cur, 2.0, totals)
    assert rest == pytest.approx(want + 2 * hypergeom.pmf(10, 400, 10, n_cur), rel=1e-9)


def test_new_category_p_value_bounds_the_permutation_p_value() -> None:
    """Shuffling nine categories of 4 to 30 values between two samples of 60: the chance that
    one of at least 4 values lands wholly in the batch never exceeds the bound."""
    rng = np.random.default_rng(12)
    totals = np.array([4, 5, 6, 8, 10, 12, 20, 25, 30])
    pooled = np.repeat(np.arange(len(totals)), totals)
    hits, reps = 0, 4000
    for _ in range(reps):
        perm = rng.permutation(pooled)
        ref, cur = set(perm[:60].tolist()), perm[60:]
        hits += any(np.sum(cur == v) >= 4 for v in set(cur.tolist()) - ref)
    bound = dist.new_category_p_value(4, 60, 60, 0.0, totals)
    assert hits / reps <= bound + 3 * np.sqrt(bound / reps)


def test_unseen_p_value_bounds_the_permutation_p_value() -> None:
    """The bound is never below the p-value of shuffling the raw values (beyond its own noise)."""
    rng = np.random.default_rng(11)
    ref = rng.integers(0, 30, 60)
    cur = np.concatenate([rng.integers(0, 30, 50), [100, 101, 102, 103, 104, 105]])
    seen = set(ref.tolist())
    observed = sum(v not in seen for v in cur)
    pooled = np.concatenate([ref, cur])
    hits = 0
    for _ in range(2000):
        perm = rng.permutation(pooled)
        held = set(perm[: len(ref)].tolist())
        hits += sum(v not in held for v in perm[len(ref) :]) >= observed
    shuffled = (1 + hits) / 2001
    seen_totals = np.array([np.sum(pooled == v) for v in sorted(seen)])
    unseen = np.array([np.sum(cur == v) for v in sorted(set(cur.tolist()) - seen)])
    assert dist.unseen_p_value(seen_totals, unseen, len(cur)) >= shuffled - 0.01


def test_unseen_p_value_sees_many_new_values() -> None:
    """30 new values in 1,000 (3%) against a 1,000-value reference of 100 categories."""
    assert dist.unseen_p_value(np.full(100, 20), np.ones(30, dtype=np.int64), 1000) < 0.001
    assert dist.unseen_p_value(np.full(100, 20), np.ones(3, dtype=np.int64), 1000) > 0.05


def test_profile_quantiles_match_numpy() -> None:
    rng = np.random.default_rng(2)
    for x in (rng.standard_normal(50_000), rng.standard_cauchy(5000), rng.poisson(3, 5000)):
        frame = pd.DataFrame({"x": x.astype(float)})
        col = profile_chunks(frame, build_spec(frame)).columns["x"]
        for q in (0.25, 0.5, 0.75):
            assert col.quantile(q) == pytest.approx(np.quantile(x, q), abs=0.02)  # type: ignore[union-attr]


def test_heavy_tailed_columns_use_the_ks_distance() -> None:
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"cauchy": rng.standard_cauchy(5000), "normal": rng.standard_normal(5000)})
    spec = build_spec(ref)
    cur = pd.DataFrame(
        {"cauchy": rng.standard_cauchy(5000) + 0.5, "normal": rng.standard_normal(5000)}
    )
    result = compute_drift(profile_chunks(ref, spec), profile_chunks(cur, spec))
    by = {c.column: c for c in result.columns}
    assert by["cauchy"].method == "ks_distance" and by["cauchy"].drifted
    assert by["cauchy"].score == pytest.approx(by["cauchy"].shift)
    assert by["normal"].method == "wasserstein" and not by["normal"].drifted


def test_wasserstein_floor_follows_the_column_units() -> None:
    """A 5-sigma shift on a column with std 1e-5 used to score 0.05 (floor 1e-3 absolute)."""
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"tiny": 1e-5 * rng.standard_normal(5000)})
    spec = build_spec(ref)
    cur = pd.DataFrame({"tiny": 1e-5 * (rng.standard_normal(5000) + 5)})
    col = compute_drift(profile_chunks(ref, spec), profile_chunks(cur, spec)).columns[0]
    assert col.method == "wasserstein" and col.score == pytest.approx(5, rel=0.05)
    assert col.drifted


def test_hashed_set_finds_every_key_and_rarely_a_new_one() -> None:
    keys = [f"k{i}" for i in range(5000)]
    hashed = HashedSet.from_keys(keys)
    assert hashed.contains(keys).all()
    assert hashed.contains([f"new{i}" for i in range(100_000)]).mean() < 0.001
    again = HashedSet.from_dict(hashed.to_dict())
    assert again.contains(keys).all() and (again.bits == hashed.bits).all()


def _many_levels(rng: np.random.Generator, n: int, new_share: float) -> pd.DataFrame:
    levels = np.array([f"v{i}" for i in range(5000)], dtype=object)
    p = 1 / np.arange(1, 5001)
    values = levels[rng.choice(5000, n, p=p / p.sum())]
    values[rng.random(n) < new_share] = "brand-new"
    return pd.DataFrame({"c": values})


@pytest.mark.parametrize(("n", "at_least"), [(10_000, 1.0), (100_000, 1.0)])
def test_new_category_at_2_percent_of_5000_levels(n: int, at_least: float) -> None:
    rng = np.random.default_rng(n)
    caught = quiet = 0
    reps = 10
    for _ in range(reps):
        ref = _many_levels(rng, n, 0.0)
        spec = build_spec(ref)
        assert not spec.columns["c"].complete  # top 100 of 5000 levels listed
        ref_p = profile_chunks(ref, spec)
        new = compute_quality(ref_p, profile_chunks(_many_levels(rng, n, 0.02), spec))
        same = compute_quality(ref_p, profile_chunks(_many_levels(rng, n, 0.0), spec))
        caught += any(i.check == "unseen_categories" for i in new.issues)
        quiet += not same.issues
    assert caught / reps >= at_least and quiet == reps


def test_novel_counts_merge_and_survive_a_round_trip() -> None:
    rng = np.random.default_rng(6)
    ref = _many_levels(rng, 20_000, 0.0)
    spec = build_spec(ref)
    cur = _many_levels(rng, 20_000, 0.02)
    whole = profile_chunks(cur, spec)
    parts = profile_chunks(cur.iloc[:7000], spec).merge(profile_chunks(cur.iloc[7000:], spec))
    col, merged = whole.columns["c"], parts.columns["c"]
    assert col.novel == merged.novel >= (cur["c"] == "brand-new").sum()  # type: ignore[union-attr]
    assert (col.buckets == merged.buckets).all()  # type: ignore[union-attr]
    back = DatasetProfile.from_dict(whole.to_dict()).columns["c"]
    assert back.novel == col.novel and (back.buckets == col.buckets).all()  # type: ignore[union-attr]


def test_ks_limit_p_value_matches_scipy_kstwobign() -> None:
    from scipy.stats import ks_2samp, kstwobign

    rng = np.random.default_rng(8)
    for n, m, d in [(2000, 3000, 0.05), (100_000, 50_000, 0.01), (1001, 1001, 0.08)]:
        en = n * m / (n + m)
        want = kstwobign.sf(np.sqrt(en) * d)
        assert dist.ks_pvalue_limit(d, n, m) == pytest.approx(want, rel=1e-9, abs=1e-15)
    a, b = rng.standard_normal(5000), rng.standard_normal(4000) + 0.05
    exact = ks_2samp(a, b, method="asymp")
    approx = dist.ks_pvalue_limit(exact.statistic, len(a), len(b))
    assert approx == pytest.approx(exact.pvalue, abs=0.01)
