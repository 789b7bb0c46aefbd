"""Comparing result documents of two runs (e.g. the local and the Dask engine)."""

from __future__ import annotations

import math
from typing import Any

IGNORED = {"report_id", "run_id", "dataset_id", "duration_s", "created_at"}


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """Equal documents: every count and string identical, floats within 1e-12."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b), path
        for key in a:
            if key not in IGNORED:
                assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) or (
            math.isnan(a) and math.isnan(b)
        ), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"
