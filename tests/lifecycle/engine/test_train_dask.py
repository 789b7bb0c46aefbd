"""`train.sample_rows` fits on a seeded uniform sample while the reference profile covers every
row; on the Dask engine the sample and the profile are made on the workers, with the same
result as the local engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.compare import assert_same
from helpers.engine_data import train_summary


def test_sampled_training_on_dask_matches_local(churn: Path, dask_engine: Any) -> None:
    text = (churn / "mlops.yaml").read_text()
    text = text.replace("train: data/train.csv", "train: data/lake")
    text = text.replace("  random_state: 7", "  random_state: 7\n  sample_rows: 1000")
    (churn / "mlops.yaml").write_text(text)
    local = train_summary(churn, None)
    dask = train_summary(churn, dask_engine)
    all_rows = local["rows"]["sampled_from"]
    assert local["rows"]["total"] == 1000 < all_rows
    assert local["profile"]["rows"]["data"] == all_rows  # the profile covers every row
    assert local["profile"]["data"]["rows"] == all_rows
    assert_same(local, dask)
