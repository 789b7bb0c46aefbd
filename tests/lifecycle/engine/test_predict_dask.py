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


def test_predict_log_on_dask_feeds_monitor(churn: Path, dask_cluster, cli) -> None:
    """--log on Dask: one log file per input file, which `monitor` reads as the batch."""
    address = dask_cluster.scheduler_address
    args = ("predict", "churn", "-i", "data/lake", "--log-dir", "logs", "--scheduler", address)
    proc = cli(*args, "-o", "preds", "--json", cwd=churn)
    assert proc.returncode == 0, proc.stderr
    files = sorted((churn / "logs").rglob("*.parquet"))
    assert [f.name.rsplit("-", 1)[1] for f in files] == [f"p{i:05d}.parquet" for i in range(10)]
    logged = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    assert logged["_row"].tolist() == list(range(len(logged)))
    assert logged["_batch_id"].nunique() == 1
    local = cli("predict", "churn", "-i", "data/lake", "-o", "one.parquet", cwd=churn)
    assert local.returncode == 0, local.stderr
    preds = pd.read_parquet(churn / "one.parquet")
    assert logged["_prediction"].tolist() == preds["prediction"].tolist()
    watch = cli("monitor", "logs", "--fail-on", "none", "--json", cwd=churn)
    assert watch.returncode == 0, watch.stderr
    assert json.loads(watch.stdout)["data"]["format"] == "prediction-log"
