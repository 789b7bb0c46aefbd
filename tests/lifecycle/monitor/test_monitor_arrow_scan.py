"""A batch that carries its predictions is scanned from Arrow batches (features profiled
without a DataFrame); one the model must score is scanned from DataFrames. On the same feature
bytes both give the same drift and quality, window by window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mlops.lifecycle.model_io import load_model
from mlops.lifecycle.monitor import monitor


def test_prediction_log_scan_equals_the_scored_scan(churn: Path, open_project) -> None:
    config, store = open_project
    model = load_model(store, "churn")
    batch = pd.read_csv(churn / "data/batches/2026-05.csv")
    batch.loc[::7, "payment_method"] = None  # missing strings, and a NaN run in a number
    number = next(c for c in model.features if pd.api.types.is_float_dtype(batch[c]))
    batch.loc[100:400, number] = np.nan
    plain = churn / "plain.parquet"
    # row groups that do not line up with the chunks: dictionary reads split batches there
    pq.write_table(pa.Table.from_pandas(batch, preserve_index=False), plain, row_group_size=700)
    pred, proba = model.predict(batch)
    logged = batch.copy()
    logged["_prediction"] = pred
    for j, cls in enumerate(model.classes):
        logged[f"_proba_{cls}"] = proba[:, j]
    log = churn / "logged.parquet"
    pq.write_table(pa.Table.from_pandas(logged, preserve_index=False), log, row_group_size=700)
    config.model.monitor.chunk_rows = 1000
    scored = monitor(config, store, [str(plain)], window=1500)
    read = monitor(config, store, [str(log)], window=1500)
    assert scored.data["scored_by_monitor"] and not read.data["scored_by_monitor"]
    assert len(read.windows) == len(scored.windows) > 2
    for a, b in zip(scored.windows, read.windows, strict=True):
        assert a.rows == b.rows
        assert a.drift.to_dict() == b.drift.to_dict()
        assert a.quality.to_dict() == b.quality.to_dict()
    assert scored.drift.to_dict() == read.drift.to_dict()
