"""Data read from object storage (a moto S3 server on 127.0.0.1): `s3://bucket/prefix/*.parquet`
on the local and the Dask engine, recorded by URL, size and ETag without a copy; missing
credentials are exit 2 naming the variable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers.compare import assert_same


def test_monitor_reads_s3_and_records_lineage(
    s3_lake: str, open_project: tuple[Any, Any], churn: Path
) -> None:
    from mlops.lifecycle.monitor import monitor

    config, store = open_project
    remote = monitor(config, store, [s3_lake], window="month")
    local = monitor(config, store, [str(churn / "data" / "lake")], window="month")
    a = json.loads(json.dumps(local.to_dict(), default=str))
    b = json.loads(json.dumps(remote.to_dict(), default=str))
    for doc in (a, b):
        doc["data"].pop("files"), doc["data"].pop("sources")
    assert_same(a, b)
    # the report names every file it read (monitor.store_data is off by default)
    described = remote.data["files"]
    assert len(described) == 10
    assert all(d["url"].startswith("s3://mlops-test/") and d["size"] > 0 for d in described)
    assert all(d["etag"] for d in described)
    # with store_data, the batch is a dataset artifact that describes the URLs, not copies
    config.model.monitor.store_data = True
    stored = monitor(config, store, [s3_lake], window="month")
    ds = store.get(stored.data["dataset_id"])
    assert ds.files == {}  # recorded, not copied
    assert ds.metadata["remote"] == described


def test_validate_s3_on_dask_matches_local(s3_lake: str, churn: Path) -> None:
    """A cluster started after the S3 server, so its workers see the endpoint."""
    distributed = pytest.importorskip("distributed")
    from mlops.config import load_config
    from mlops.lifecycle.engine import EngineSpec, open_engine
    from mlops.lifecycle.validate import validate

    (churn / "schema.yaml").write_text(
        "columns:\n  customer_id: {dtype: string, unique: true}\n"
        "  monthly_charges: {dtype: float, min: 0, max: 100}\n"
    )
    config = load_config(churn / "mlops.yaml")
    local = validate(config, None, [str(churn / "data" / "lake")], churn / "schema.yaml")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        open_engine(EngineSpec("dask", cluster.scheduler_address)) as engine,
    ):
        remote = validate(config, None, [s3_lake], churn / "schema.yaml", engine=engine)
    assert_same(local.report.to_dict(), remote.report.to_dict())


def test_missing_credentials_exit_2_naming_the_variable(
    s3_lake: str, churn: Path, subprocess_cli
) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance-metadata lookup off this machine
    }
    proc = subprocess_cli("monitor", s3_lake, cwd=churn, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "AWS_ACCESS_KEY_ID" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_predict_reads_s3(s3_lake: str, churn: Path, cli) -> None:
    import pandas as pd

    remote = cli("predict", "churn", "-i", s3_lake, "-o", "remote.parquet", cwd=churn)
    assert remote.returncode == 0, remote.stderr
    local = cli("predict", "churn", "-i", "data/lake", "-o", "local.parquet", cwd=churn)
    assert local.returncode == 0, local.stderr
    a = pd.read_parquet(churn / "local.parquet")
    b = pd.read_parquet(churn / "remote.parquet")
    # the S3 keys flatten month=.../part-N into one prefix, in the same order
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_monitor_label_file_from_s3(s3_endpoint: str, open_project: tuple[Any, Any], churn: Path):
    """--labels s3://...: the labels joined by id equal those of the same file on disk."""
    import pandas as pd
    import s3fs

    from mlops.lifecycle.monitor import monitor

    frame = pd.read_csv(churn / "data" / "batches" / "2026-05.csv")
    frame.drop(columns=["churned"]).to_csv(churn / "batch.csv", index=False)
    frame[["customer_id", "churned"]].to_csv(churn / "labels.csv", index=False)
    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True)
    key = f"mlops-test/labels-{churn.parent.name}/labels.csv"
    fs.put(str(churn / "labels.csv"), key)
    config, store = open_project
    batch = [str(churn / "batch.csv")]
    local = monitor(config, store, batch, labels=[str(churn / "labels.csv")])
    remote = monitor(config, store, batch, labels=[f"s3://{key}"])
    fs.rm(key)
    a = json.loads(json.dumps(local.to_dict(), default=str))
    b = json.loads(json.dumps(remote.to_dict(), default=str))
    assert a["windows"][0]["performance"], "the labels were joined"
    assert_same(a["windows"], b["windows"])


def test_monitor_reads_one_file_over_http(open_project: tuple[Any, Any], churn: Path) -> None:
    """http:// (and https://) single files, here from a local HTTP server, read like the file."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from mlops.lifecycle.monitor import monitor

    pytest.importorskip("aiohttp")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(churn / "data"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config, store = open_project
        local = monitor(config, store, [str(churn / "data" / "batches" / "2026-05.csv")])
        url = f"http://127.0.0.1:{server.server_port}/batches/2026-05.csv"
        remote = monitor(config, store, [url])
    finally:
        server.shutdown()
        server.server_close()
    a = json.loads(json.dumps(local.to_dict(), default=str))
    b = json.loads(json.dumps(remote.to_dict(), default=str))
    assert a["data"]["rows"] == b["data"]["rows"] > 100
    assert_same(a["windows"], b["windows"])
    [described] = remote.data["files"]
    assert described["url"] == url
    assert described["size"] == (churn / "data" / "batches" / "2026-05.csv").stat().st_size
