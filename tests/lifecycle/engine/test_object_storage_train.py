"""`train` and `evaluate` read data from object storage (a moto S3 server on 127.0.0.1) with the
results of the same files on disk, record the objects by URL, size and ETag without a copy
(copied with --store-data), and name the credential variables when they are missing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.compare import assert_same
from helpers.engine_data import train_summary


def _point_train_at(churn: Path, spec: str, sample_rows: int | None = None) -> None:
    """data.train is spec (and train.sample_rows set), starting from the example's mlops.yaml."""
    original = churn / "mlops.yaml.orig"
    if not original.exists():
        original.write_text((churn / "mlops.yaml").read_text())
    text = original.read_text().replace("train: data/train.csv", f"train: '{spec}'")
    if sample_rows:
        text = text.replace("  random_state: 7", f"  random_state: 7\n  sample_rows: {sample_rows}")
    (churn / "mlops.yaml").write_text(text)


def test_train_reads_s3_like_local_files(s3_lake: str, churn: Path) -> None:
    _point_train_at(churn, "data/lake")
    local = train_summary(churn, None)
    _point_train_at(churn, s3_lake)
    remote = train_summary(churn, None)
    for key in ("metrics", "rows", "features", "profile"):
        assert_same(local[key], remote[key])
    assert len(local["dataset_files"]) == 10 and local["remote"] is None
    # recorded by URL, size and ETag, not copied
    assert remote["dataset_files"] == []
    assert len(remote["remote"]) == 10
    assert all(d["url"].startswith("s3://mlops-test/") for d in remote["remote"])
    assert all(d["etag"] and d["size"] > 0 for d in remote["remote"])


def test_train_store_data_copies_the_objects(s3_lake: str, churn: Path, cli: Any) -> None:
    from mlops.store import Store

    _point_train_at(churn, s3_lake)
    proc = cli("--json", "train", "--store-data", cwd=churn)
    assert proc.returncode == 0, proc.stderr
    dataset_id = json.loads(proc.stdout)["datasets"][0]["id"]
    with Store.open(churn / ".mlops") as store:
        dataset = store.get(dataset_id)
        assert len(dataset.files) == 10
        assert len(dataset.metadata["remote"]) == 10


def test_sampled_train_on_dask_reads_s3_like_local(s3_lake: str, churn: Path) -> None:
    """A cluster started after the S3 server, so its worker sees the endpoint."""
    distributed = pytest.importorskip("distributed")
    from mlops.lifecycle.engine import EngineSpec, open_engine

    _point_train_at(churn, "data/lake", sample_rows=1000)
    local = train_summary(churn, None)
    _point_train_at(churn, s3_lake, sample_rows=1000)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        open_engine(EngineSpec("dask", cluster.scheduler_address)) as engine,
    ):
        remote = train_summary(churn, engine)
    assert local["rows"]["total"] == 1000 < local["rows"]["sampled_from"]
    for key in ("metrics", "rows", "profile"):
        assert_same(local[key], remote[key])


def test_evaluate_reads_s3_like_local_files(s3_lake: str, churn: Path, cli: Any) -> None:
    results = {}
    for name, data in (("local", "data/lake"), ("s3", s3_lake)):
        proc = cli("--json", "evaluate", "churn", "--data", data, cwd=churn)
        assert proc.returncode in (0, 1), proc.stderr
        results[name] = json.loads(proc.stdout)
    local, remote = results["local"], results["s3"]
    assert local["data"]["rows"] == remote["data"]["rows"] > 0
    assert_same(local["metrics"], remote["metrics"])
    # every rule but the latency one (a timing) has the same value and verdict
    same = [
        [{k: r[k] for k in ("name", "value", "passed")} for r in doc["rules"] if r["metric"]]
        for doc in (local, remote)
    ]
    assert len(same[0]) >= 3
    assert_same(same[0], same[1])
    assert all(p.startswith("s3://mlops-test/") for p in remote["data"]["paths"])
    from mlops.store import Store

    with Store.open(churn / ".mlops") as store:
        dataset = store.get(remote["data"]["dataset"]["id"])
        assert dataset.files == {}
        assert [d["url"] for d in dataset.metadata["remote"]] == remote["data"]["paths"]


def test_train_without_credentials_exits_2_naming_the_variable(
    s3_lake: str, churn: Path, subprocess_cli: Any
) -> None:
    _point_train_at(churn, s3_lake)
    env = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance-metadata lookup off this machine
    }
    proc = subprocess_cli("train", cwd=churn, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "AWS_ACCESS_KEY_ID" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = subprocess_cli("evaluate", "churn", "--data", s3_lake, cwd=churn, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "AWS_ACCESS_KEY_ID" in proc.stderr


@pytest.fixture
def s3_batches(s3_endpoint: str, churn: Path) -> Iterator[str]:
    """The churn example's monthly CSV batches under one S3 prefix; yields the prefix URL."""
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True)
    prefix = f"mlops-test/batches-{churn.parent.name}"
    for f in sorted((churn / "data" / "batches").glob("*.csv")):
        fs.put(str(f), f"{prefix}/{f.name}")
    yield f"s3://{prefix}"
    fs.rm(prefix, recursive=True)


def test_retrain_reads_s3_batches_like_local_files(s3_batches: str, churn: Path) -> None:
    import shutil

    from mlops.config import load_config
    from mlops.lifecycle.loop import retrain, run_pipeline
    from mlops.store import Store

    with Store.open(churn / ".mlops") as store:
        assert run_pipeline(load_config(churn / "mlops.yaml"), store, stages=["evaluate"]).passed
    twin = churn.parent / "twin"  # the same champion, so both retrains compare against it
    shutil.copytree(churn, twin)
    results = {}
    for root, name, where in ((churn, "local", "data/batches"), (twin, "s3", s3_batches)):
        yaml = root / "mlops.yaml"
        yaml.write_text(yaml.read_text().replace("data/batches/*.csv", f"'{where}/*.csv'"))
        config = load_config(yaml)
        batch = [f"{where}/2026-05.csv" if name == "s3" else str(root / "data/batches/2026-05.csv")]
        with Store.open(root / ".mlops") as store:
            dry = retrain(config, store, batch, force=True, dry_run=True)
            results[name] = (dry.training_set, retrain(config, store, batch, force=True))
    (local_plan, local), (s3_plan, remote) = results["local"], results["s3"]
    assert s3_plan["files"] == [
        "data/train.csv",
        f"{s3_batches}/2026-04.csv",
        f"{s3_batches}/2026-05.csv",
    ]
    assert [f.rsplit("/", 1)[1] for f in local_plan["files"]] == [
        f.rsplit("/", 1)[1] for f in s3_plan["files"]
    ]
    assert local.decision == remote.decision
    assert local.training_set["rows"] == remote.training_set["rows"]
    for key in ("metric", "candidate", "champion", "holdout_rows"):
        assert_same(local.comparison[key], remote.comparison[key])


def test_pipeline_cache_key_of_s3_data_follows_the_etag(s3_lake: str, churn: Path) -> None:
    """`mlops run` keys a stage's cache on its data: objects by URL, size and ETag."""
    import s3fs

    from mlops.config import load_config
    from mlops.lifecycle.loop.pipeline import data_hashes
    from mlops.store import Store

    config = load_config(churn / "mlops.yaml")
    with Store.open(churn / ".mlops") as store:
        before = data_hashes(config, store, [s3_lake])
        assert len(before) == 10 and all(k.startswith("s3://mlops-test/") for k in before)
        assert data_hashes(config, store, [s3_lake]) == before
        first = sorted(before)[0]
        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        fs.pipe(first.removeprefix("s3://"), (churn / "data" / "train.csv").read_bytes())
        after = data_hashes(config, store, [s3_lake])
    assert after[first] != before[first]
    assert {k: v for k, v in after.items() if k != first} == {
        k: v for k, v in before.items() if k != first
    }
