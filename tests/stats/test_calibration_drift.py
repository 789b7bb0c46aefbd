"""Drift rules: false-alarm rate on unchanged data and power on the named shifts.

Each repetition draws a reference and a current sample of one distribution (both of n rows; the
spec comes from the reference, as at training time) and runs `compute_drift` with the defaults.
Column kinds: smooth (normal), integers with heavy ties, zero-inflated, heavy-tailed (Cauchy),
lognormal, rounded floats, constant, 30% missing, boolean, a Zipf categorical over 200 levels with
rare levels, and 60 sparse levels. Seeded, so the figures are deterministic; a rate is accepted
when the count of alarms is at most the binomial 99.9% quantile at the nominal level.

Nominal levels: up to 1,000 values the defaults are p-value tests with Benjamini-Hochberg at 0.05,
which bounds the chance of any drifted column on unchanged data by 0.05 (all nulls true); above,
the numeric distances have fixed thresholds far above their noise, the second effect size is a
test at 0.001 per column and a categorical distance also needs its test at 0.001 (11 columns: at
most 0.011).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from mlops.stats import build_spec, compute_drift, profile_chunks

LEVELS = np.array([f"z{i}" for i in range(200)], dtype=object)
ZIPF = 1 / np.arange(1, 201) ** 1.1
ZIPF /= ZIPF.sum()
ZIPF_0_9 = 1 / np.arange(1, 201) ** 0.9
ZIPF_0_9 /= ZIPF_0_9.sum()
SPARSE = np.array([f"s{i}" for i in range(60)], dtype=object)


def _with_missing(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    values = values.astype(float)
    values[rng.random(len(values)) < rate] = np.nan
    return values


def draw(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "smooth": rng.standard_normal(n),
            "integer_ties": rng.poisson(2.0, n),
            "zero_inflated": np.where(rng.random(n) < 0.6, 0.0, rng.exponential(1.0, n)),
            "heavy_tailed": rng.standard_cauchy(n),
            "lognormal": np.exp(rng.standard_normal(n)),
            "rounded": np.round(rng.standard_normal(n), 1),
            "constant": np.full(n, 3.0),
            "missing_30pct": _with_missing(rng, rng.standard_normal(n), 0.30),
            "boolean": rng.random(n) < 0.3,
            "zipf_200": LEVELS[rng.choice(200, n, p=ZIPF)],
            "sparse_60": SPARSE[rng.integers(0, 60, n)],
        }
    )


def alarm_rate(n: int, reps: int, seed: int) -> tuple[float, dict[str, int]]:
    """Share of repetitions with any drifted column, and the count per column."""
    rng = np.random.default_rng(seed)
    per_column: dict[str, int] = {}
    any_alarm = 0
    for _ in range(reps):
        ref = draw(rng, n)
        spec = build_spec(ref)
        result = compute_drift(profile_chunks(ref, spec), profile_chunks(draw(rng, n), spec))
        any_alarm += bool(result.drifted_columns)
        for name in result.drifted_columns:
            per_column[name] = per_column.get(name, 0) + 1
    return any_alarm / reps, per_column


def _bound(reps: int, level: float) -> float:
    return float(binom.ppf(0.999, reps, level)) / reps


@pytest.mark.parametrize(
    ("n", "reps", "level"),
    [(50, 200, 0.05), (200, 200, 0.05), (1000, 100, 0.05), (10_000, 60, 0.011)],
)
def test_no_more_false_alarms_than_nominal(n: int, reps: int, level: float) -> None:
    rate, per_column = alarm_rate(n, reps, seed=n)
    assert rate <= _bound(reps, level), (rate, per_column)


@pytest.mark.parametrize("n", [2000, 10_000])
def test_many_level_categorical_holds_its_level(n: int) -> None:
    """Zipf over 200 levels (top 100 listed): the JS distance's noise is near its threshold
    here, so the column drifts only when the pooled chi-square agrees at 0.001 (a chi-square
    at 0.05 alone fired on 6% of unchanged batches, 5 of 40 in one seeded run)."""
    rng = np.random.default_rng(n)
    alarms = 0
    reps = 200
    for _ in range(reps):
        ref = pd.DataFrame({"z": LEVELS[rng.choice(200, n, p=ZIPF)]})
        spec = build_spec(ref)
        cur = profile_chunks(pd.DataFrame({"z": LEVELS[rng.choice(200, n, p=ZIPF)]}), spec)
        alarms += compute_drift(profile_chunks(ref, spec), cur).columns[0].drifted
    assert alarms / reps <= _bound(reps, 0.001), alarms


@pytest.mark.slow
def test_no_false_alarms_at_one_million_rows() -> None:
    rate, per_column = alarm_rate(1_000_000, 20, seed=7)
    assert rate == 0, per_column


def shifted(kind: str, rng: np.random.Generator, n: int, after: bool) -> pd.DataFrame:
    """One column of the named kind, with its named shift when `after`."""
    if kind == "cauchy_location_half_scale":
        x = rng.standard_cauchy(n) + (0.5 if after else 0.0)
    elif kind == "lognormal_scale_1_5":
        x = np.exp(rng.standard_normal(n)) * (1.5 if after else 1.0)
    elif kind == "zeros_plus_5_points":
        x = np.where(rng.random(n) < (0.65 if after else 0.6), 0.0, rng.exponential(1.0, n))
    elif kind == "normal_mean_0_1_sd":
        x = rng.standard_normal(n) + (0.1 if after else 0.0)
    elif kind == "normal_scale_1_5":
        x = rng.standard_normal(n) * (1.5 if after else 1.0)
    elif kind == "zipf_200_exponent_1_1_to_0_9":
        x = LEVELS[rng.choice(200, n, p=ZIPF_0_9 if after else ZIPF)]
    else:  # boolean 30% -> 40%
        x = rng.random(n) < (0.4 if after else 0.3)
    return pd.DataFrame({"x": x})


def power(kind: str, n: int, reps: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    caught = 0
    for _ in range(reps):
        ref = shifted(kind, rng, n, after=False)
        spec = build_spec(ref)
        cur = profile_chunks(shifted(kind, rng, n, after=True), spec)
        caught += compute_drift(profile_chunks(ref, spec), cur).columns[0].drifted
    return caught / reps


@pytest.mark.parametrize(
    ("kind", "n", "at_least"),
    [
        ("cauchy_location_half_scale", 1000, 0.9),
        ("cauchy_location_half_scale", 10_000, 1.0),
        ("lognormal_scale_1_5", 1000, 0.95),
        ("lognormal_scale_1_5", 10_000, 1.0),
        ("zeros_plus_5_points", 20_000, 0.9),
        # a true effect at the threshold: caught about half the time or more at any size
        ("normal_mean_0_1_sd", 100_000, 0.4),
        ("normal_scale_1_5", 1000, 0.95),
        ("boolean_30_to_40", 100_000, 1.0),
        ("zipf_200_exponent_1_1_to_0_9", 2000, 0.95),
        ("zipf_200_exponent_1_1_to_0_9", 100_000, 1.0),
    ],
)
def test_named_shifts_are_caught(kind: str, n: int, at_least: float) -> None:
    assert power(kind, n, reps=20, seed=len(kind) + n) >= at_least
