"""Fixtures for the Dask engine: one LocalCluster (2 worker processes) per session, a client
connected to it, the churn example with its batches as a multi-file Parquet dataset, and the
same files in a moto S3 server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.projects import trained_churn_example


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    yield cluster
    cluster.close()


@pytest.fixture(scope="session")
def dask_engine(dask_cluster: Any) -> Iterator[Any]:
    from mlops.lifecycle.engine import EngineSpec, open_engine

    with open_engine(EngineSpec("dask", dask_cluster.scheduler_address)) as engine:
        yield engine


@pytest.fixture(scope="session")
def trained_churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = trained_churn_example(tmp_path_factory.mktemp("churn-dask") / "churn")
    _parquet_batches(root)
    return root


@pytest.fixture
def churn(trained_churn: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "churn"
    shutil.copytree(trained_churn, dest)
    return dest


@pytest.fixture
def open_project(churn: Path) -> Iterator[tuple[Any, Any]]:
    from mlops.config import load_config
    from mlops.store import Store

    config = load_config(churn / "mlops.yaml")
    store = Store.open(churn / ".mlops")
    yield config, store
    store.close()


@pytest.fixture
def s3_lake(s3_endpoint: str, churn: Path) -> Iterator[str]:
    """The churn lake's Parquet files under one S3 prefix (month=M/part-N -> month=M-part-N,
    so the keys sort as the local files do); yields the glob URL."""
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True)
    prefix = f"mlops-test/lake-{churn.parent.name}"
    for f in sorted((churn / "data" / "lake").rglob("*.parquet")):
        fs.put(str(f), f"{prefix}/{f.parent.name}-{f.name}")
    yield f"s3://{prefix}/*.parquet"
    fs.rm(prefix, recursive=True)


def _parquet_batches(root: Path) -> None:
    """data/lake/month=.../part-N.parquet: each monthly batch split in two unequal files."""
    import pandas as pd

    for csv in sorted((root / "data" / "batches").glob("*.csv")):
        frame = pd.read_csv(csv)
        out = root / "data" / "lake" / f"month={csv.stem}"
        out.mkdir(parents=True)
        cut = len(frame) // 3
        frame.iloc[:cut].to_parquet(out / "part-0.parquet", index=False)
        frame.iloc[cut:].to_parquet(out / "part-1.parquet", index=False)
