"""`mlops predict` on the Dask engine writes a partitioned Parquet dataset with the rows and
values the local engine writes to one file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def test_predict_on_dask_matches_local(churn: Path, dask_cluster, cli) -> None:
    lake = "data/lake"
    local = cli("predict", "churn", "-i", lake, "-o", "local.parquet", "--json", cwd=churn)
    assert local.returncode == 0, local.stderr
    address = dask_cluster.scheduler_address
    dask = cli(
        "predict", "churn", "-i", lake, "-o", "preds", "--scheduler", address, "--json", cwd=churn
    )
    assert dask.returncode == 0, dask.stderr
    a, b = json.loads(local.stdout), json.loads(dask.stdout)
    for key in ("rows", "chunks", "id_column", "prediction_counts", "ignored_columns"):
        assert a[key] == b[key], key
    parts = sorted(p.name for p in (churn / "preds").iterdir())
    assert parts == [f"part-{i:05d}.parquet" for i in range(10)]
    one = pd.read_parquet(churn / "local.parquet")
    many = pd.concat([pd.read_parquet(churn / "preds" / p) for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(one, many, check_exact=True)
