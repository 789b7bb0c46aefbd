"""Drift and data-quality results from profiles: method choice, overrides, corrections, known shifts."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlops.errors import InputError
from mlops.stats import build_spec, compute_drift, compute_quality, histograms, profile_chunks
from mlops.stats.drift import DEFAULT_THRESHOLDS, ColumnDrift, DriftResult, default_method
from mlops.stats.profile import DatasetProfile, ProfileSpec
from mlops.stats.quality import QualityResult

Ref = tuple[ProfileSpec, DatasetProfile]

CATS = np.array([f"k{i}" for i in range(10)])


def sample(
    n: int,
    seed: int,
    shift: float = 0.0,
    missing: float = 0.0,
    new_category: float = 0.0,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) + shift
    x[rng.random(n) < missing] = np.nan
    cat = CATS[rng.integers(0, 10, n)].astype(object)
    cat[rng.random(n) < new_category] = "brand-new"
    return pd.DataFrame(
        {
            "normal": x,
            "lognormal": rng.lognormal(size=n),
            "integer": rng.poisson(3, n),
            "category": cat,
            "flag": rng.random(n) < 0.3,
        }
    )


@pytest.fixture(scope="module")
def reference() -> Ref:
    ref = sample(200_000, seed=1)
    spec = build_spec(ref)
    return spec, profile_chunks(ref, spec)


def drift_of(reference: Ref, cur: pd.DataFrame, **kw: Any) -> tuple[DriftResult, QualityResult]:
    spec, ref = reference
    cur_prof = profile_chunks(cur, spec)
    return compute_drift(ref, cur_prof, **kw), compute_quality(ref, cur_prof)


def by_column(result: DriftResult) -> dict[str, ColumnDrift]:
    return {c.column: c for c in result.columns}


def test_default_methods_for_large_samples(reference: Ref) -> None:
    drift, quality = drift_of(reference, sample(50_000, seed=2))
    methods = {c.column: c.method for c in drift.columns}
    assert methods == {
        "normal": "wasserstein",
        "lognormal": "wasserstein",
        "integer": "wasserstein",
        "category": "jensenshannon",
        "flag": "jensenshannon",
    }
    assert not drift.dataset_drift and drift.n_drifted == 0 and quality.ok


def test_default_methods_for_small_samples_are_corrected_p_value_tests(reference: Ref) -> None:
    drift, _ = drift_of(reference, sample(800, seed=3))
    cols = by_column(drift)
    assert cols["normal"].method == "ks" and cols["category"].method == "chisquare"
    assert cols["flag"].method == "chisquare"
    for c in drift.columns:
        assert c.p_value is not None and c.p_adjusted is not None and c.p_adjusted >= c.p_value
        assert c.threshold == 0.05


def test_low_cardinality_numeric_counts_as_categorical() -> None:
    df = pd.DataFrame({"binary": np.random.default_rng(0).integers(0, 2, 5000)})
    spec = build_spec(df)
    prof = profile_chunks(df, spec)
    assert default_method(prof.columns["binary"], prof.columns["binary"]) == "jensenshannon"


def test_many_categories_need_a_material_and_significant_change() -> None:
    """300 levels at 5,000 values: the JS distance of unchanged data sits near its threshold
    (sampling noise), so it alone does not decide; the pooled chi-square must agree."""
    rng = np.random.default_rng(0)
    values = np.array([f"c{i}" for i in range(300)])
    ref = pd.DataFrame({"c": values[rng.integers(0, 300, 5000)]})
    spec = build_spec(ref, top_k=500)
    ref_p = profile_chunks(ref, spec)
    same = profile_chunks(pd.DataFrame({"c": values[rng.integers(0, 300, 5000)]}), spec)
    (col,) = compute_drift(ref_p, same).columns
    assert col.method == "jensenshannon" and col.score > 0.1 and not col.drifted
    assert col.shift_p_value is not None and col.shift_p_value > 0.001
    moved = profile_chunks(pd.DataFrame({"c": values[rng.integers(0, 200, 5000)]}), spec)
    (col,) = compute_drift(ref_p, moved).columns
    assert col.drifted and col.shift_p_value is not None and col.shift_p_value < 0.001


@pytest.mark.parametrize("significant", [False, True])
def test_a_p_value_that_underflows_to_zero_is_significant(significant: bool) -> None:
    """A 30% -> 60% share on 100,000 rows: the chi-square p-value is 0.0 in floating point."""
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"y": rng.random(100_000) < 0.3})
    spec = build_spec(ref)
    cur = profile_chunks(pd.DataFrame({"y": rng.random(100_000) < 0.6}), spec)
    (col,) = compute_drift(profile_chunks(ref, spec), cur, significant=significant).columns
    assert col.shift_p_value == 0.0 and col.drifted


def test_mean_shift_of_0_2_std_is_caught(reference: Ref) -> None:
    drift, _ = drift_of(reference, sample(200_000, seed=4, shift=0.2))
    assert by_column(drift)["normal"].drifted
    assert drift.drifted_columns == ["normal"]


def test_new_category_at_5_percent_is_caught(reference: Ref) -> None:
    drift, quality = drift_of(reference, sample(200_000, seed=5, new_category=0.05))
    assert by_column(drift)["category"].drifted
    (issue,) = quality.issues
    assert issue.check == "unseen_categories" and issue.column == "category"
    assert "brand-new" in issue.message


def test_ten_points_more_missing_values_is_caught_by_quality(reference: Ref) -> None:
    drift, quality = drift_of(reference, sample(200_000, seed=6, missing=0.10))
    assert drift.n_drifted == 0  # missing values are not part of any distribution
    (issue,) = quality.issues
    assert (issue.column, issue.check) == ("normal", "missing_rate")
    assert issue.current == pytest.approx(0.10, abs=0.01)


def test_missing_rate_rule_needs_both_size_and_significance() -> None:
    ref = pd.DataFrame({"x": [np.nan] * 50 + [1.0] * 950})  # 5% missing
    spec = build_spec(ref)
    ref_prof = profile_chunks(ref, spec)

    def issues(n_missing: int, n: int) -> list[str]:
        cur = pd.DataFrame({"x": [np.nan] * n_missing + [1.0] * (n - n_missing)})
        return [i.check for i in compute_quality(ref_prof, profile_chunks(cur, spec)).issues]

    assert issues(3, 25) == []  # +7 points, but 25 rows: p = 0.06
    assert issues(9, 100) == []  # +4 points: below the 5-point floor
    assert issues(1100, 10_000) == ["missing_rate"]  # +6 points and significant


def test_quality_reports_out_of_range_infinite_and_invalid_values() -> None:
    ref = pd.DataFrame({"x": np.linspace(0, 1, 1000), "v": np.linspace(0, 1, 1000)})
    spec = build_spec(ref)
    x = np.linspace(0.5, 1.5, 1000)
    x[:3] = [np.inf, -np.inf, np.inf]
    v = pd.Series(["0.5"] * 990 + ["oops"] * 10, dtype=object)
    cur = profile_chunks(pd.DataFrame({"x": x, "v": v}), spec)
    quality = compute_quality(profile_chunks(ref, spec), cur)
    checks = {(i.column, i.check) for i in quality.issues}
    assert checks == {("x", "out_of_range"), ("x", "infinite_values"), ("v", "invalid_values")}
    cols = {c.column: c for c in quality.columns}
    assert cols["x"].out_of_range_share == pytest.approx(500 / 997, abs=1e-12)
    assert (cols["x"].cur_pos_inf, cols["x"].cur_neg_inf) == (2, 1)
    json.dumps(quality.to_dict(), allow_nan=False)


def test_overrides_change_method_and_threshold(reference: Ref) -> None:
    overrides = {
        "normal": {"method": "psi", "threshold": 0.2},
        "lognormal": {"method": "ks"},
        "category": {"method": "chisquare", "threshold": 0.01},
        "integer": {"threshold": 1e-6},
    }
    drift, _ = drift_of(reference, sample(50_000, seed=8), overrides=overrides)
    cols = by_column(drift)
    assert (cols["normal"].method, cols["normal"].threshold) == ("psi", 0.2)
    assert cols["lognormal"].method == "ks" and cols["lognormal"].p_value is not None
    assert cols["category"].threshold == 0.01
    assert (
        cols["integer"].method == "wasserstein" and cols["integer"].drifted
    )  # absurdly low threshold
    assert cols["flag"].threshold == DEFAULT_THRESHOLDS["jensenshannon"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nope": {"method": "psi"}}, "column 'nope'"),
        ({"normal": {"method": "magic"}}, "'magic'"),
        ({"category": {"method": "wasserstein"}}, "ordered values"),
        ({"normal": {"threshold": -1}}, "positive number"),
        ({"normal": {"threshold": "high"}}, "positive number"),
        ({"normal": {"method": "ks", "threshold": 5}}, "below 1"),
        ({"normal": {"metod": "ks"}}, "only 'method' and 'threshold'"),
    ],
)
def test_bad_overrides_are_input_errors(reference: Ref, overrides: dict, message: str) -> None:
    spec, ref = reference
    with pytest.raises(InputError, match=message):
        compute_drift(ref, ref, overrides=overrides)


def test_bad_options_and_mismatched_specs_are_input_errors(reference: Ref) -> None:
    spec, ref = reference
    with pytest.raises(InputError, match="correction"):
        compute_drift(ref, ref, correction="holm")
    with pytest.raises(InputError, match="drift_share"):
        compute_drift(ref, ref, drift_share=0)
    other_spec = build_spec(sample(1000, seed=9))
    other = profile_chunks(sample(1000, seed=9), other_spec)
    for fn in (compute_drift, compute_quality, histograms):
        with pytest.raises(InputError, match="different specs"):
            fn(ref, other)


def test_corrections_and_dataset_drift_share(reference: Ref) -> None:
    cur = sample(900, seed=10, shift=0.25, new_category=0.08)
    none, _ = drift_of(reference, cur, correction="none")
    bh, _ = drift_of(reference, cur)
    bonf, _ = drift_of(reference, cur, correction="bonferroni")
    for a, b, c in zip(none.columns, bh.columns, bonf.columns, strict=True):
        assert a.p_value == b.p_value == c.p_value
        assert a.p_adjusted == a.p_value <= b.p_adjusted <= c.p_adjusted  # type: ignore[operator]
    assert {"normal", "category"} <= set(bh.drifted_columns)
    assert bh.share_drifted == bh.n_drifted / 5
    assert bh.dataset_drift == (bh.share_drifted >= 0.5)
    strict, _ = drift_of(reference, cur, drift_share=0.4)
    assert strict.dataset_drift


def test_identical_profiles_show_no_drift(reference: Ref) -> None:
    _, ref = reference
    for overrides in ({}, {c: {"method": "jensenshannon"} for c in ref.columns}):
        drift = compute_drift(ref, ref, overrides=overrides)
        assert all(c.score == pytest.approx(0.0, abs=1e-7) for c in drift.columns)
        assert not drift.dataset_drift


def test_empty_current_column_gets_no_score(reference: Ref) -> None:
    cur = sample(1000, seed=11)
    cur["normal"] = np.nan
    drift, quality = drift_of(reference, cur)
    col = by_column(drift)["normal"]
    assert col.score is None and not col.drifted and col.cur_count == 0
    assert drift.n_tested == 4
    assert {"missing_rate", "no_values"} <= {
        i.check for i in quality.issues if i.column == "normal"
    }


def test_results_and_histograms_serialise_to_strict_json(reference: Ref) -> None:
    spec, ref = reference
    cur = profile_chunks(sample(5000, seed=12, shift=3.0), spec)
    drift = compute_drift(ref, cur)
    text = json.dumps(drift.to_dict(), allow_nan=False)
    assert json.loads(text)["columns"][0]["column"] == "normal"
    hists = histograms(ref, cur)
    normal = hists["normal"]
    assert normal.edges is not None and len(normal.edges) == len(normal.reference) + 1 == 21
    assert normal.edges[-1] == pytest.approx(cur.columns["normal"].max)
    assert sum(normal.reference) == pytest.approx(1.0) and sum(normal.current) == pytest.approx(1.0)
    cat = hists["category"]
    assert cat.categories is not None and cat.categories[-1] == "(other)"
    assert len(cat.categories) == len(cat.reference) == 11
    json.dumps({k: h.to_dict() for k, h in hists.items()}, allow_nan=False)


def test_as_reported_carries_the_values_to_dict_writes() -> None:
    odd = [float("inf"), float("-inf"), float("nan"), None, 0.25]
    columns = [
        ColumnDrift(f"c{i}", "numeric", "psi", v, 0.1, v, bool(i % 2), 10, 10, p_adjusted=v)
        for i, v in enumerate(odd)
    ]
    result = DriftResult(columns, 2, 0.4, 0.5, False, n_tested=5, drifted_columns=["c1", "c3"])
    reported = result.as_reported()
    assert reported.to_dict() == result.to_dict()
    for c, d in zip(reported.columns, result.to_dict()["columns"], strict=True):
        assert (c.score, c.p_value, c.p_adjusted) == (d["score"], d["p_value"], d["p_adjusted"])
    assert result.columns[0].score == float("inf")  # the original is left as computed
