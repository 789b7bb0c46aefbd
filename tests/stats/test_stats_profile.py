"""Profiles: spec building, one-pass counting, exact merges and the JSON round trip."""

from __future__ import annotations

import json

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from mlops.errors import InputError
from mlops.stats.profile import (
    MAX_UNSEEN,
    CategoricalProfile,
    DatasetProfile,
    NumericProfile,
    build_spec,
    infer_kind,
    profile_chunks,
)
from mlops.stats.spec import CategoricalSpec, NumericSpec


def frame(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[:5] = [np.nan, np.inf, -np.inf, np.inf, np.nan]
    return pd.DataFrame(
        {
            "x": x,
            "i": rng.integers(0, 7, n),
            "c": pd.Series(rng.choice(["a", "b", "c"], n), dtype="str"),
            "b": rng.random(n) < 0.3,
        }
    )


def test_kinds_are_inferred_from_dtypes() -> None:
    df = frame()
    assert [infer_kind(df[c]) for c in df] == ["numeric", "numeric", "categorical", "categorical"]
    assert infer_kind(pd.Series(["a", None], dtype=object)) == "categorical"
    assert infer_kind(pd.Series([1, None], dtype="Int64")) == "numeric"
    with pytest.raises(InputError, match="dates"):
        infer_kind(pd.Series(pd.to_datetime(["2024-01-01"]), name="t"))


def test_spec_numeric_edges_cover_reference_range_exactly() -> None:
    df = frame(50_000)
    spec = build_spec(df)
    x = spec.columns["x"]
    assert isinstance(x, NumericSpec) and not x.discrete
    finite = df["x"][np.isfinite(df["x"])]
    assert x.edges[0] == finite.min()
    assert x.edges[-1] == np.nextafter(finite.max(), np.inf)
    assert np.all(np.diff(x.edges) > 0)
    assert 150 <= x.n_bins <= 203


def test_spec_discrete_column_gets_one_bin_per_value() -> None:
    spec = build_spec(frame())
    i = spec.columns["i"]
    assert isinstance(i, NumericSpec) and i.discrete and i.n_distinct == 7
    assert list(i.edges[:-1]) == list(range(7))


def test_spec_categorical_top_k_and_complete_flag() -> None:
    df = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c", "d"]})
    full = build_spec(df).columns["c"]
    assert isinstance(full, CategoricalSpec)
    assert full.categories == ("a", "b", "c", "d") and full.complete and full.singletons == 2
    top = build_spec(df, top_k=2).columns["c"]
    assert isinstance(top, CategoricalSpec)
    assert top.categories == ("a", "b") and not top.complete
    bools = build_spec(frame()).columns["b"]
    assert isinstance(bools, CategoricalSpec) and set(bools.categories) == {"True", "False"}


def test_spec_from_chunks_equals_spec_from_whole_when_it_fits() -> None:
    df = frame(10_000)
    whole = build_spec(df)
    chunked = build_spec(df.iloc[i : i + 999] for i in range(0, len(df), 999))
    assert chunked.fingerprint == whole.fingerprint


def test_spec_from_chunks_samples_beyond_sample_size_reproducibly() -> None:
    df = frame(20_000)
    chunks = [df.iloc[i : i + 1000] for i in range(0, len(df), 1000)]
    a = build_spec(iter(chunks), sample_size=3000, seed=7)
    b = build_spec(iter(chunks), sample_size=3000, seed=7)
    assert a.fingerprint == b.fingerprint
    x = a.columns["x"]
    assert isinstance(x, NumericSpec)
    finite = df["x"][np.isfinite(df["x"])]
    assert x.edges[0] == finite.min()  # min and max stay exact when sampling
    assert x.edges[-1] == np.nextafter(finite.max(), np.inf)
    # quantiles of a 3000-value sample still split the whole reference into ~equal-mass bins
    counts = profile_chunks(df, a).columns["x"].counts
    assert counts.max() / counts.sum() < 3 / 200


def test_spec_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="no rows"):
        build_spec(pd.DataFrame({"x": []}))
    with pytest.raises(InputError, match="no column 'z'"):
        build_spec(frame(), columns=["z"])
    with pytest.raises(InputError, match="kind 'text'"):
        build_spec(frame(), kinds={"x": "text"})


def test_kinds_override_makes_numeric_text_column_numeric() -> None:
    df = pd.DataFrame({"v": ["1.5", "2", None, "abc", "3"]})
    spec = build_spec(df, kinds={"v": "numeric"})
    prof = profile_chunks(df, spec).columns["v"]
    assert isinstance(prof, NumericProfile)
    assert (prof.rows, prof.count, prof.missing, prof.invalid) == (5, 3, 1, 1)


def test_numeric_profile_counts_missing_and_infinities() -> None:
    df = frame()
    prof = profile_chunks(df, build_spec(df))
    x = prof.columns["x"]
    assert isinstance(x, NumericProfile)
    assert (x.rows, x.missing, x.pos_inf, x.neg_inf, x.count) == (2000, 2, 2, 1, 1995)
    finite = df["x"].to_numpy()[5:]
    assert int(x.counts.sum()) == 1995
    assert x.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert x.variance == pytest.approx(finite.var(), rel=1e-10)
    assert (x.min, x.max) == (finite.min(), finite.max())
    assert x.counts[0] == 0 and x.counts[-1] == 0  # nothing outside the reference's own range


def test_categorical_profile_counts_other_and_unseen_examples() -> None:
    ref = pd.DataFrame({"c": ["a", "b", "b", None]})
    spec = build_spec(ref)
    cur = pd.DataFrame({"c": ["a", "z", "z", "y", None, None]})
    c = profile_chunks(cur, spec).columns["c"]
    assert isinstance(c, CategoricalProfile)
    assert c.counts.tolist() == [0, 1] or c.counts.tolist() == [1, 0]
    assert (c.rows, c.missing, c.other, c.count) == (6, 2, 3, 4)
    assert c.unseen == {"z": 2, "y": 1}


def test_unseen_examples_are_bounded() -> None:
    spec = build_spec(pd.DataFrame({"c": ["a"]}))
    cur = pd.DataFrame({"c": [f"v{i}" for i in range(100)]})
    c = profile_chunks(cur, spec).columns["c"]
    assert isinstance(c, CategoricalProfile)
    assert c.other == 100 and len(c.unseen) == MAX_UNSEEN


def test_profile_requires_spec_columns() -> None:
    spec = build_spec(frame())
    with pytest.raises(InputError, match="no column 'x'"):
        profile_chunks(frame().drop(columns=["x"]), spec)


def _assert_same(a: DatasetProfile, b: DatasetProfile) -> None:
    """Counts equal exactly; float sums and moments equal up to rounding (rel 1e-9 of the
    result, or of the largest term when terms cancel)."""
    assert a.rows == b.rows
    for name, ca in a.columns.items():
        cb = b.columns[name]
        assert np.array_equal(ca.counts, cb.counts)
        assert (ca.rows, ca.missing) == (cb.rows, cb.missing)
        if isinstance(ca, NumericProfile) and isinstance(cb, NumericProfile):
            assert (ca.count, ca.pos_inf, ca.neg_inf, ca.invalid) == (
                cb.count,
                cb.pos_inf,
                cb.neg_inf,
                cb.invalid,
            )
            assert (ca.min, ca.max) == (cb.min, cb.max)
            np.testing.assert_allclose(ca.offsets, cb.offsets, rtol=1e-9, atol=1e-9)
            # summing in another order rounds differently: the error bound scales with the
            # largest term, not with the result (a mean near 0 of terms near 1e141 is only
            # known to about 1e141 * 1e-16 * n)
            scale = max(abs(ca.min), abs(ca.max), 1.0) if ca.count else 1.0
            assert ca.mean == pytest.approx(cb.mean, rel=1e-9, abs=1e-12 * scale)
            assert ca.m2 == pytest.approx(cb.m2, rel=1e-9, abs=1e-9 * scale**2 * max(ca.count, 1))
        else:
            assert isinstance(ca, CategoricalProfile) and isinstance(cb, CategoricalProfile)
            assert ca.other == cb.other and ca.unseen == cb.unseen


# |x| <= 1e150 keeps sums of squares finite, so moments can be compared; see the huge-values test
values = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6),
    st.floats(min_value=-1e150, max_value=1e150),
    st.sampled_from([np.nan, np.inf, -np.inf]),
    st.integers(-5, 5).map(float),
)


@st.composite
def frames(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, list[int]]:
    n_ref = draw(st.integers(1, 60))
    n = draw(st.integers(0, 120))
    cats = st.sampled_from(["a", "b", "c", "d", "e", None])

    def make(k: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "x": pd.Series(draw(st.lists(values, min_size=k, max_size=k)), dtype="float64"),
                "c": pd.Series(draw(st.lists(cats, min_size=k, max_size=k)), dtype=object),
            }
        )

    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=5)))
    return make(n_ref), make(n), cuts


@settings(max_examples=60, deadline=None)
@given(frames())
def test_merge_of_chunk_profiles_equals_profile_of_whole(data: tuple) -> None:
    ref, cur, cuts = data
    spec = build_spec(ref, kinds={"x": "numeric", "c": "categorical"}, n_bins=8, top_k=3)
    whole = profile_chunks(cur, spec)
    bounds = [0, *cuts, len(cur)]
    parts = [profile_chunks(cur.iloc[a:b], spec) for a, b in zip(bounds, bounds[1:], strict=False)]
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    _assert_same(merged, whole)
    # one pass over the chunks gives the same profile too
    _assert_same(
        profile_chunks((cur.iloc[a:b] for a, b in zip(bounds, bounds[1:], strict=False)), spec),
        whole,
    )


@settings(max_examples=40, deadline=None)
@given(frames())
def test_to_dict_from_dict_round_trip_is_strict_json(data: tuple) -> None:
    ref, cur, _ = data
    spec = build_spec(ref, kinds={"x": "numeric", "c": "categorical"}, n_bins=8, top_k=3)
    prof = profile_chunks(cur, spec)
    text = json.dumps(prof.to_dict(), allow_nan=False)
    back = DatasetProfile.from_dict(json.loads(text))
    assert back.spec.fingerprint == spec.fingerprint
    _assert_same(back, prof)
    assert back.to_dict() == prof.to_dict()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50),
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=200),
)
def test_bin_index_equals_searchsorted(ref: list[float], probe: list[float]) -> None:
    spec = build_spec(pd.DataFrame({"x": ref}), n_bins=16).columns["x"]
    assert isinstance(spec, NumericSpec)
    points = np.asarray(probe + list(spec.edges), dtype=np.float64)
    points = np.resize(points, max(len(points), 5000))  # long enough to use the grid lookup
    assert np.array_equal(spec.bin_index(points), np.searchsorted(spec.edges, points, side="right"))


def test_huge_values_do_not_break_profiling_or_json() -> None:
    df = pd.DataFrame({"x": [-1.7e308, 1.7e308, 0.0, 1.0, np.nan]})
    prof = profile_chunks(df, build_spec(df))
    x = prof.columns["x"]
    assert isinstance(x, NumericProfile) and x.count == 4 and int(x.counts.sum()) == 4
    back = DatasetProfile.from_dict(json.loads(json.dumps(prof.to_dict(), allow_nan=False)))
    assert np.array_equal(back.columns["x"].counts, x.counts)


def test_from_dict_rejects_malformed_profiles() -> None:
    prof = profile_chunks(frame(), build_spec(frame()))
    data = prof.to_dict()
    with pytest.raises(InputError):
        DatasetProfile.from_dict({"version": 99})
    data["columns"]["x"]["counts"] = [1, 2]
    with pytest.raises(InputError, match="malformed"):
        DatasetProfile.from_dict(data)


def test_merge_refuses_profiles_on_different_specs() -> None:
    a = profile_chunks(frame(), build_spec(frame()))
    b = profile_chunks(frame(), build_spec(frame(seed=1)))
    with pytest.raises(InputError, match="different specs"):
        a.merge(b)


_PROFILE_BITS = """
import json
import numpy as np
import pandas as pd
from mlops.stats.profile import profile_chunks
from mlops.stats.spec import build_spec
x = pd.DataFrame({"x": np.random.default_rng(3).lognormal(0, 2, 200_000)})
spec = build_spec(x)
print(json.dumps(profile_chunks(x, spec).to_dict(), sort_keys=True))
"""


def test_profile_bits_do_not_depend_on_blas_threads(tmp_path) -> None:
    """A BLAS dot product splits its sum across threads, so its last bits follow the core count;
    the stored variance must not (a value that differs by machine changes stored hashes)."""
    import subprocess
    import sys

    from helpers.cli import child_env

    out = []
    for threads in ("1", "2"):
        env = {**child_env(), "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        done = subprocess.run(
            [sys.executable, "-c", _PROFILE_BITS], env=env, capture_output=True, text=True,
            check=True, cwd=tmp_path,
        )  # fmt: skip
        out.append(done.stdout)
    assert out[0] == out[1]
