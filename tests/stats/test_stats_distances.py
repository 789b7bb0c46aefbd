"""Statistics from profiles against scipy's exact results on the raw data.

Tolerances (quoted in the README):
  JS distance, KL, PSI, chi-square     same as scipy on the same binning to 1e-12 (absolute; chi-square
                                       statistic relative 1e-9).
  KS statistic D                       D_profile <= D_exact and D_exact - D_profile <= the largest bin
                                       frequency of either sample (<= ~0.5-1.5% with 200 quantile
                                       bins); exact (1e-12) for discrete columns, whose p-value then
                                       equals ks_2samp(method="asymp") to 1e-12.
  Wasserstein / reference std          W_profile <= W_exact (1e-9 relative slack) and
                                       |W_profile - W_exact| / std <= 0.005 (WASSERSTEIN_TOL) for
                                       1,000-100,000 rows of normal, lognormal, uniform, exponential data
                                       with and without shifts; exact (1e-9 relative) for discrete columns.
  Benjamini-Hochberg                   equals scipy.stats.false_discovery_control to 1e-12.
"""

from __future__ import annotations

import math

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from scipy import stats
from scipy.spatial.distance import jensenshannon as scipy_js

from mlops.stats import distances as dist
from mlops.stats.binning import coarse_groups, grouped
from mlops.stats.profile import NumericProfile, build_spec, profile_chunks

EXACT_TOL = 1e-12
WASSERSTEIN_TOL = 0.005

GENERATORS = {
    "normal": lambda rng, n: rng.normal(size=n),
    "lognormal": lambda rng, n: rng.lognormal(size=n),
    "uniform": lambda rng, n: rng.uniform(size=n),
    "exponential": lambda rng, n: rng.exponential(size=n),
}


def profiles(a: np.ndarray, b: np.ndarray) -> tuple[NumericProfile, NumericProfile]:
    spec = build_spec(pd.DataFrame({"x": a}))
    pa = profile_chunks(pd.DataFrame({"x": a}), spec).columns["x"]
    pb = profile_chunks(pd.DataFrame({"x": b}), spec).columns["x"]
    assert isinstance(pa, NumericProfile) and isinstance(pb, NumericProfile)
    return pa, pb


def raw_hist(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Histogram of raw values on the profile's bins, computed independently of the profile code."""
    bounds = np.concatenate([[-np.inf], edges, [np.inf]])
    return np.array(
        [
            np.sum((values >= lo) & (values < hi))
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ]
    )


CASES = [(g, n, shift) for g in GENERATORS for n in (1000, 100_000) for shift in (0.0, 0.05, 0.3)]


@pytest.mark.parametrize(("gen", "n", "shift"), CASES)
def test_wasserstein_and_ks_match_scipy_on_raw_data(gen: str, n: int, shift: float) -> None:
    rng = np.random.default_rng([list(GENERATORS).index(gen), n, int(shift * 100)])
    a = GENERATORS[gen](rng, n)
    b = GENERATORS[gen](rng, n // 2) + shift * a.std()
    pa, pb = profiles(a, b)
    w = dist.wasserstein_binned(pa.spec.edges, pa.counts, pa.offsets, pb.counts, pb.offsets)
    w_exact = stats.wasserstein_distance(a, b)
    assert w <= w_exact * (1 + 1e-9) + 1e-12
    assert abs(w - w_exact) / a.std() <= WASSERSTEIN_TOL
    d = dist.ks_binned(pa.counts, pb.counts)
    d_exact = stats.ks_2samp(a, b).statistic
    max_bin = max(pa.counts.max() / pa.count, pb.counts.max() / pb.count)
    assert d <= d_exact + EXACT_TOL
    assert d_exact - d <= max_bin + EXACT_TOL
    assert pa.std == pytest.approx(a.std(), rel=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_discrete_columns_are_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.poisson(4, 5000).astype(float)
    b = rng.poisson(4.3, 3000).astype(float)
    pa, pb = profiles(a, b)
    assert pa.spec.discrete
    w = dist.wasserstein_binned(pa.spec.edges, pa.counts, pa.offsets, pb.counts, pb.offsets)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)
    d = dist.ks_binned(pa.counts, pb.counts)
    exact = stats.ks_2samp(a, b, method="asymp")
    assert abs(d - exact.statistic) <= EXACT_TOL
    assert abs(dist.ks_pvalue(d, pa.count, pb.count) - exact.pvalue) <= EXACT_TOL


def test_histogram_distances_match_scipy_on_same_binning() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(size=20_000), rng.lognormal(0.1, 1.1, size=15_000)
    pa, pb = profiles(a, b)
    ref_h, cur_h = raw_hist(a, pa.spec.edges), raw_hist(b, pa.spec.edges)
    assert np.array_equal(ref_h, pa.counts) and np.array_equal(cur_h, pb.counts)
    groups = coarse_groups(pa.counts)
    r, c = grouped(ref_h, groups), grouped(cur_h, groups)
    assert len(r) == 20
    assert abs(dist.jensenshannon(r, c) - scipy_js(r / r.sum(), c / c.sum(), base=2)) <= EXACT_TOL
    p, q = np.maximum(r / r.sum(), dist.EPSILON), np.maximum(c / c.sum(), dist.EPSILON)
    p, q = p / p.sum(), q / q.sum()
    assert abs(dist.kl(r, c) - stats.entropy(q, p)) <= EXACT_TOL
    assert abs(dist.psi(r, c) - float(np.sum((q - p) * np.log(q / p)))) <= EXACT_TOL


@pytest.mark.parametrize("k", [2, 3, 10])
def test_chisquare_matches_scipy_contingency(k: int) -> None:
    rng = np.random.default_rng(k)
    ref = rng.integers(1, 500, k)
    cur = rng.integers(1, 500, k)
    stat, p, dof = dist.chi2_contingency_test(
        np.append(ref, 0), np.append(cur, 0)
    )  # empty cell dropped
    expected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert stat == pytest.approx(expected.statistic, rel=1e-9)
    assert abs(p - expected.pvalue) <= EXACT_TOL
    assert dof == expected.dof == k - 1


def test_two_proportion_z_matches_chi_square_on_2x2() -> None:
    x1, n1, x2, n2 = 40, 1000, 70, 1200
    p_one_sided = dist.two_proportion_z(x1, n1, x2, n2)
    two_sided = stats.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False).pvalue
    assert abs(p_one_sided - two_sided / 2) <= EXACT_TOL


def test_benjamini_hochberg_and_bonferroni_match_scipy() -> None:
    p = np.random.default_rng(0).uniform(0, 0.2, 30).tolist()
    bh = dist.adjust_pvalues(p, "bh")
    assert np.max(np.abs(np.array(bh) - stats.false_discovery_control(p, method="bh"))) <= EXACT_TOL
    assert dist.adjust_pvalues(p, "bonferroni") == [min(1.0, v * 30) for v in p]
    assert dist.adjust_pvalues(p, "none") == p


counts = st.lists(st.integers(0, 10_000), min_size=1, max_size=40)


@settings(max_examples=300)
@given(counts, counts)
def test_jensenshannon_is_a_bounded_distance(a: list[int], b: list[int]) -> None:
    n = min(len(a), len(b))
    ra, rb = np.array(a[:n]), np.array(b[:n])
    js = dist.jensenshannon(ra, rb)
    assert 0.0 <= js <= 1.0
    assert js == pytest.approx(dist.jensenshannon(rb, ra), abs=1e-12)
    if ra.sum() and rb.sum():
        assert js == pytest.approx(scipy_js(ra / ra.sum(), rb / rb.sum(), base=2), abs=1e-7)


@settings(max_examples=200)
@given(counts)
def test_identical_distributions_have_zero_distance(a: list[int]) -> None:
    r = np.array(a)
    if r.sum() == 0:
        return
    assert dist.jensenshannon(r, 3 * r) == pytest.approx(0.0, abs=1e-7)
    assert dist.psi(r, r) == 0.0 and dist.kl(r, r) == 0.0
    assert dist.ks_binned(r, r) == 0.0
    stat, p, _ = dist.chi2_contingency_test(r, r)
    assert stat == pytest.approx(0.0, abs=1e-9) and p == pytest.approx(1.0)
    edges = np.arange(len(r) - 1, dtype=float)
    offsets = np.zeros(len(r))
    assert dist.wasserstein_binned(edges, r, offsets, r, offsets) == 0.0


def test_expected_js_noise_matches_simulation() -> None:
    rng = np.random.default_rng(0)
    k, n = 50, 5000
    probs = np.full(k, 1 / k)
    sims = [
        dist.jensenshannon(rng.multinomial(n, probs), rng.multinomial(n, probs)) for _ in range(200)
    ]
    predicted = dist.expected_js_no_change(k, n, n)
    assert math.isclose(float(np.sqrt(np.mean(np.square(sims)))), predicted, rel_tol=0.1)
