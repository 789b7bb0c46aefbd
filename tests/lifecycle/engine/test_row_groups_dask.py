"""One large Parquet file is split by row groups into several Dask tasks, with the local engine's
results: monitor, validate, predict and train's sample and profile on a single file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from helpers.compare import assert_same
from helpers.engine_data import VALIDATE_SCHEMA, train_summary, validation_frame

GROUP_ROWS = 400
PARTITION_ROWS = 900  # three row groups (1,200 rows) per task


def _one_file(churn: Path) -> Path:
    """The churn lake as one Parquet file of 400-row groups."""
    lake = sorted((churn / "data" / "lake").rglob("*.parquet"))
    frame = pd.concat([pd.read_parquet(p) for p in lake], ignore_index=True)
    path = churn / "data" / "one.parquet"
    frame.to_parquet(path, index=False, row_group_size=GROUP_ROWS)
    return path


@pytest.fixture
def split_engine(dask_engine: Any) -> Any:
    return dataclasses.replace(dask_engine, partition_rows=PARTITION_ROWS)


def test_split_row_groups() -> None:
    from mlops.data.file_parts import split_row_groups

    assert split_row_groups([400] * 7, 900) == [(0, 1, 2), (3, 4, 5), (6,)]
    assert split_row_groups([1000, 10, 10], 900) == [(0,), (1, 2)]
    assert split_row_groups([], 900) == []


def test_one_file_is_planned_as_runs_of_row_groups(churn: Path, split_engine: Any) -> None:
    from mlops.data.file_parts import RowGroups
    from mlops.lifecycle.engine.partitions import plan_partitions

    path = _one_file(churn)
    rows = len(pd.read_parquet(path))
    parts = plan_partitions(split_engine, [path], None)
    assert len(parts) == -(-rows // (3 * GROUP_ROWS)) > 2
    assert all(isinstance(p.path, RowGroups) for p in parts)
    assert [p.first_row for p in parts] == [i * 3 * GROUP_ROWS for i in range(len(parts))]
    assert sum(p.rows for p in parts) == rows
    assert str(parts[1].path) == f"{path} (row groups 3-5)"
    # below twice partition_rows, the file stays whole
    whole = plan_partitions(dataclasses.replace(split_engine, partition_rows=rows), [path], None)
    assert [(p.path, p.rows) for p in whole] == [(path, rows)]


@pytest.mark.parametrize("window", ["month", 700])
def test_monitor_one_file_on_dask_matches_local(
    open_project: tuple[Any, Any], churn: Path, split_engine: Any, window: Any
) -> None:
    from mlops.lifecycle.monitor import monitor

    config, store = open_project
    path = str(_one_file(churn))
    local = monitor(config, store, [path], window=window)
    dask = monitor(config, store, [path], window=window, engine=split_engine)
    a = json.loads(json.dumps(local.to_dict(), default=str))
    b = json.loads(json.dumps(dask.to_dict(), default=str))
    assert a["data"]["rows"] > 3 * PARTITION_ROWS
    assert_same(a, b)


def test_validate_one_file_on_dask_matches_local(tmp_path: Path, split_engine: Any) -> None:
    """Repeated ids and rows sit in different row groups of the one file."""
    from mlops.config import load_config
    from mlops.lifecycle.validate import validate

    path = tmp_path / "one.parquet"
    validation_frame().to_parquet(path, index=False, row_group_size=GROUP_ROWS)
    (tmp_path / "mlops.yaml").write_text(VALIDATE_SCHEMA)
    config = load_config(tmp_path / "mlops.yaml")
    local = validate(config, None, [str(path)]).report.to_dict()
    dask = validate(config, None, [str(path)], engine=split_engine).report.to_dict()
    assert_same(local, dask)
    by_check = {(c["check"], c["column"]): c for c in dask["checks"]}
    assert by_check[("unique", "id")]["failing_rows"] == 15
    assert by_check[("no_duplicate_rows", None)]["failing_rows"] == 4


def test_predict_one_file_on_dask_matches_local(churn: Path, dask_cluster: Any, cli: Any) -> None:
    """engine.partition_rows from mlops.yaml splits the file; parts concatenate to the local
    engine's output."""
    path = _one_file(churn)
    text = (churn / "mlops.yaml").read_text()
    (churn / "mlops.yaml").write_text(f"{text}\nengine: {{partition_rows: {PARTITION_ROWS}}}\n")
    local = cli("predict", "churn", "-i", str(path), "-o", "local.parquet", cwd=churn)
    assert local.returncode == 0, local.stderr
    address = dask_cluster.scheduler_address
    dask = cli(
        "predict", "churn", "-i", str(path), "-o", "preds", "--scheduler", address, cwd=churn
    )
    assert dask.returncode == 0, dask.stderr
    parts = sorted((churn / "preds").iterdir())
    assert len(parts) > 2
    one = pd.read_parquet(churn / "local.parquet")
    many = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(one, many, check_exact=True)


def test_sampled_train_one_file_on_dask_matches_local(churn: Path, split_engine: Any) -> None:
    _one_file(churn)
    text = (churn / "mlops.yaml").read_text()
    text = text.replace("train: data/train.csv", "train: data/one.parquet")
    text = text.replace("  random_state: 7", "  random_state: 7\n  sample_rows: 1000")
    (churn / "mlops.yaml").write_text(text)
    local = train_summary(churn, None)
    dask = train_summary(churn, split_engine)
    assert local["rows"]["sampled_from"] > 3 * PARTITION_ROWS
    assert_same(local, dask)
