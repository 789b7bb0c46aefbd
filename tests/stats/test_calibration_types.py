"""Profiles are invariant to the dtype that carries the same values.

A column of integers may arrive as int64, as float64 (one missing value is enough), as the strings
"1" or "1.0" (a file written by another tool), as a nullable Int64 or as a pandas categorical. Each
form gives the same profile, so the same drift and quality figures, for categorical and numeric
columns and for a bool column read back as 0/1 or "true"/"false".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops.stats import build_spec, compute_drift, compute_quality, profile_chunks
from mlops.stats.spec import canonical_key


def _forms(values: list[int | None]) -> dict[str, pd.Series]:
    present = [v for v in values if v is not None]
    floats = pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    forms = {
        "float64": floats,
        "Int64": pd.Series(values, dtype="Int64"),
        "str": pd.Series([None if v is None else str(v) for v in values], dtype=object),
        "str_float": pd.Series([None if v is None else f"{v}.0" for v in values], dtype=object),
        "category": pd.Series(values, dtype="Int64").astype("category"),
        "object_mixed": pd.Series(
            [None if v is None else (float(v) if i % 2 else v) for i, v in enumerate(values)],
            dtype=object,
        ),
    }
    if len(present) == len(values):
        forms["int64"] = pd.Series(values, dtype="int64")
    return forms


def _figures(ref: pd.DataFrame, cur: pd.DataFrame, kind: str) -> tuple[dict, dict, dict]:
    spec = build_spec(ref, kinds={"x": kind})
    ref_p = profile_chunks(ref, spec)
    cur_p = profile_chunks(cur, spec)
    return (
        cur_p.to_dict(),
        compute_drift(ref_p, cur_p).to_dict(),
        compute_quality(ref_p, cur_p).to_dict(),
    )


values_strategy = st.lists(
    st.one_of(st.integers(-5, 30), st.none()), min_size=1, max_size=60
).filter(lambda v: any(x is not None for x in v))


@settings(max_examples=60, deadline=None)
@given(ref_values=values_strategy, cur_values=values_strategy)
def test_profile_and_figures_do_not_depend_on_the_dtype(
    ref_values: list[int | None], cur_values: list[int | None]
) -> None:
    for kind in ("categorical", "numeric"):
        ref_forms = _forms(ref_values)
        cur_forms = _forms(cur_values)
        if kind == "numeric":  # a pandas categorical is a categorical kind
            ref_forms.pop("category")
            cur_forms.pop("category")
        expected = None
        for ref_name, ref_s in ref_forms.items():
            for cur_name, cur_s in cur_forms.items():
                got = _figures(ref_s.to_frame("x"), cur_s.to_frame("x"), kind)
                if expected is None:
                    expected = got
                assert got == expected, (kind, ref_name, cur_name)


def test_int_reference_and_float_batch_give_no_unseen_categories_and_no_drift() -> None:
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"plan": rng.integers(0, 4, 5000)})
    cur = ref.astype(float)
    cur.loc[0, "plan"] = np.nan  # one NaN makes pandas read the column as float64
    spec = build_spec(ref, kinds={"plan": "categorical"})
    ref_p, cur_p = profile_chunks(ref, spec), profile_chunks(cur, spec)
    quality = compute_quality(ref_p, cur_p)
    assert quality.columns[0].unseen_share == 0.0
    assert quality.ok
    drift = compute_drift(ref_p, cur_p).columns[0]
    assert drift.score is not None and drift.score < 1e-3
    assert not drift.drifted


def test_bool_column_read_back_as_numbers_or_words() -> None:
    flags = pd.Series([True, False, True, True] * 50)
    spec = build_spec(flags.to_frame("f"))
    expected = profile_chunks(flags.to_frame("f"), spec).to_dict()
    for form in (
        flags.astype(int),
        flags.astype(float),
        flags.map({True: "true", False: "false"}),
        flags.map({True: "TRUE", False: "FALSE"}),
        flags.astype(str),
    ):
        assert profile_chunks(form.to_frame("f"), spec).to_dict() == expected


def test_canonical_key_forms() -> None:
    for v in (1, 1.0, "1", "1.0", np.int16(1), np.float32(1.0)):
        assert canonical_key(v) == "1"
    assert canonical_key(-0.0) == canonical_key("-0") == canonical_key(0) == "0"
    assert canonical_key("01") == "01"  # codes keep their leading zeros
    assert canonical_key(1.5) == "1.5"
    assert canonical_key(True) == canonical_key("true") == "True"


def test_specs_stored_with_float_keys_still_match() -> None:
    """A spec stored before keys were canonical ("1.0") still counts 1, 1.0 and "1" there."""
    from mlops.stats.profile import DatasetProfile
    from mlops.stats.spec import CategoricalSpec, ProfileSpec

    spec = ProfileSpec(
        {"x": CategoricalSpec(("1.0", "2.0"), complete=True, n_values=4, singletons=0)}
    )
    prof = DatasetProfile.empty(spec)
    prof.update(pd.DataFrame({"x": pd.Series([1, 2, 2, "1.0", 1.0], dtype=object)}))
    col = prof.columns["x"]
    assert col.counts.tolist() == [3, 2] and col.other == 0
