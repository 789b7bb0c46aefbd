"""The figure a drift alert names: the method's, or the second effect size when that alone fired."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlops.lifecycle.monitor.alerts import column_drift_figure
from mlops.stats import build_spec, compute_drift, profile_chunks
from mlops.stats.drift import ColumnDrift


def _drift(ref: pd.DataFrame, cur: pd.DataFrame) -> ColumnDrift:
    spec = build_spec(ref)
    result = compute_drift(profile_chunks(ref, spec), profile_chunks(cur, spec))
    return result.as_reported().columns[0]


def test_zero_inflation_alert_names_the_ks_distance() -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    ref = pd.DataFrame({"x": np.where(rng.random(n) < 0.6, 0.0, rng.exponential(1.0, n))})
    cur = pd.DataFrame({"x": np.where(rng.random(n) < 0.68, 0.0, rng.exponential(1.0, n))})
    col = _drift(ref, cur)
    assert col.drifted and col.method == "wasserstein" and col.score < col.threshold
    assert column_drift_figure(col).startswith("KS distance 0.0")


def test_boolean_alert_names_the_share_change() -> None:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"b": rng.random(100_000) < 0.3})
    cur = pd.DataFrame({"b": rng.random(100_000) < 0.4})
    col = _drift(ref, cur)
    assert col.drifted and col.method == "jensenshannon"
    assert column_drift_figure(col).startswith("largest category share change 0.1")


def test_distance_alert_keeps_its_own_figure() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.standard_normal(20_000)})
    cur = pd.DataFrame({"x": rng.standard_normal(20_000) + 1.0})
    col = _drift(ref, cur)
    assert column_drift_figure(col).startswith("Wasserstein (normed) 1.0")


def test_categorical_distance_alert_names_its_test() -> None:
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"c": rng.integers(0, 4, 20_000).astype(str)})
    cur = pd.DataFrame({"c": rng.integers(0, 2, 20_000).astype(str)})
    col = _drift(ref, cur)
    assert col.drifted and col.method == "jensenshannon" and col.score >= col.threshold
    assert column_drift_figure(col).startswith("Jensen-Shannon 0.")
    assert column_drift_figure(col).endswith("(p 0)")
