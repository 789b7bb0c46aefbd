from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops.data.infer import SchemaInferrer
from mlops.data.readers import iter_chunks_with_offset
from mlops.data.results import ReasonCode
from mlops.data.schema import Dtype, dump_schema, load_schema
from mlops.data.validate import validate_chunks


def sample(seed: int, n: int = 3000) -> pd.DataFrame:
    """A healthy batch from one source; different seeds give different batches."""
    rng = np.random.default_rng(seed)
    score = rng.normal(50, 10, n)
    score[rng.random(n) < 0.03] = np.nan
    return pd.DataFrame(
        {
            "customer_id": np.arange(seed * n, (seed + 1) * n),
            "age": rng.integers(18, 90, n),
            "score": score,
            "ratio": rng.uniform(0, 1, n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]),
            "country": rng.choice(["FR", "DE", "ES", "IT"], n),
            "comment": [f"note {i}" for i in rng.integers(0, 10**9, n)],
            "signup": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h"),
            "churned": rng.random(n) < 0.2,
        }
    )


def to_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def infer_from(path: Path, **params: object) -> SchemaInferrer:
    return SchemaInferrer(**params).fit(iter_chunks_with_offset([path], chunk_rows=700))


def test_inferred_schema_accepts_next_healthy_batches(tmp_path: Path) -> None:
    inferrer = infer_from(to_csv(sample(0), tmp_path / "ref.csv"))
    schema = inferrer.schema_
    assert schema.columns["customer_id"].unique
    assert schema.columns["plan"].dtype is Dtype.CATEGORY
    assert schema.columns["plan"].allowed == ["basic", "plus", "pro"]
    assert schema.columns["comment"].dtype is Dtype.STRING
    assert schema.columns["comment"].allowed is None
    assert schema.columns["signup"].dtype is Dtype.DATETIME
    assert schema.columns["churned"].dtype is Dtype.BOOL
    assert schema.columns["ratio"].min == 0
    assert 0 < (schema.columns["score"].max_missing or 0) < 0.1
    for seed in range(1, 6):
        path = to_csv(sample(seed), tmp_path / f"batch{seed}.csv")
        chunks = iter_chunks_with_offset([path], chunk_rows=1000, dtypes=schema.reader_dtypes())
        report = validate_chunks(chunks, schema)
        assert report.passed, [c.message for c in report.failures]


@pytest.mark.parametrize(
    ("column", "fault", "expected"),
    [
        ("age", -5, ("age.min", ReasonCode.BELOW_MIN)),
        ("age", 400, ("age.max", ReasonCode.ABOVE_MAX)),
        ("plan", "enterprise", ("plan.allowed", ReasonCode.NOT_ALLOWED)),
        ("customer_id", "duplicate", ("customer_id.unique", ReasonCode.NOT_UNIQUE)),
        ("age", None, ("age.nullable", ReasonCode.NULL_VALUES)),
        ("age", "forty", ("age.dtype", ReasonCode.DTYPE_MISMATCH)),
        ("signup", "2001-01-01", ("signup.min", ReasonCode.BELOW_MIN)),
        ("score", float("inf"), ("score.allow_nan_inf", ReasonCode.NAN_OR_INF)),
    ],
)
def test_one_injected_fault_fails_exactly_one_check(
    tmp_path: Path, column: str, fault: object, expected: tuple[str, ReasonCode]
) -> None:
    schema = infer_from(to_csv(sample(0), tmp_path / "ref.csv")).schema_
    batch = sample(7)
    if column in ("age", "customer_id") or isinstance(fault, str):
        batch[column] = batch[column].astype(object)
    if fault == "duplicate":
        batch.loc[10, column] = batch.loc[3, column]
    else:
        batch.loc[10, column] = fault
    path = to_csv(batch, tmp_path / "faulty.csv")
    report = validate_chunks(
        iter_chunks_with_offset([path], chunk_rows=1000, dtypes=schema.reader_dtypes()), schema
    )
    assert [(c.name, c.reason) for c in report.failures] == [expected]
    assert report.failures[0].samples[0].row == 10


def test_bounds_are_widened_not_copied() -> None:
    frame = pd.DataFrame({"x": [10.0, 20.0], "n": [-5, 5], "neg": [-3.0, -1.0], "c": [7, 7]})
    # two values per column: the tail estimate (spacing of extremes) equals the span, so use
    # a tail risk loose enough for the range margin to decide.
    schema = SchemaInferrer(range_margin=0.1, tail_risk=0.99).fit(frame).schema_
    assert (schema.columns["x"].min, schema.columns["x"].max) == (9.0, 21.0)
    assert (schema.columns["n"].min, schema.columns["n"].max) == (-6, 6)
    assert schema.columns["neg"].max == pytest.approx(-0.8)
    assert schema.columns["c"].min == 6 and schema.columns["c"].max == 8


def test_non_negative_columns_stay_non_negative() -> None:
    schema = SchemaInferrer().fit(pd.DataFrame({"count": [0, 1, 2, 50]})).schema_
    assert schema.columns["count"].min == 0


def test_comments_written_as_yaml_comments(tmp_path: Path) -> None:
    inferrer = SchemaInferrer().fit(sample(0, n=500))
    path = tmp_path / "schema.yaml"
    dump_schema(inferrer.schema_, path, inferrer.comments_)
    text = path.read_text(encoding="utf-8")
    assert "# Inferred by mlops from 500 rows" in text
    assert "widened by 10% of the observed range" in text
    assert load_schema(path) == inferrer.schema_


def test_all_missing_column_and_nullable_mode() -> None:
    frame = pd.DataFrame({"empty": [np.nan] * 4, "some": [1.0, np.nan, 2.0, 3.0]})
    schema = SchemaInferrer(missing_margin=None).fit(frame).schema_
    assert schema.columns["empty"].nullable
    assert schema.columns["some"].nullable and schema.columns["some"].max_missing is None


def test_high_cardinality_text_gets_no_allowed_set() -> None:
    frame = pd.DataFrame({"name": [f"n{i % 40}" for i in range(45)]})
    schema = SchemaInferrer(max_categories=50).fit(frame).schema_
    assert schema.columns["name"].dtype is Dtype.STRING and schema.columns["name"].allowed is None
