"""Data and runs shared by the Dask-engine tests: a validation dataset whose problems show only
across files, and a summary of a `train` run to compare between engines or data sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

VALIDATE_SCHEMA = """
schema:
  columns:
    id: {dtype: int, unique: true}
    age: {dtype: int, min: 18, max: 90}
    plan: {dtype: category, allowed: [basic, pro]}
    score: {dtype: float, max_missing: 0.01}
  no_duplicate_rows: true
validate: {sample_limit: 5, chunk_rows: 1000}
"""


def validation_frame() -> pd.DataFrame:
    """6,000 rows: ids 100-110 repeated at rows 4500-4510, rows 200-203 repeated at 5000-5003."""
    rng = np.random.default_rng(3)
    n = 6000
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.integers(10, 95, n),
            "plan": rng.choice(["basic", "pro", "gold"], n, p=[0.5, 0.49, 0.01]),
            "score": np.where(rng.random(n) < 0.02, np.nan, rng.normal(size=n)),
        }
    )
    frame.loc[4500:4510, "id"] = np.arange(100, 111)  # ids of file 0 repeated in file 2
    frame.iloc[5000:5004] = frame.iloc[200:204].to_numpy()  # whole rows repeated across files
    return frame


def train_summary(churn: Path, engine: Any) -> dict[str, Any]:
    """Train the project at churn; its metrics, rows, features, reference profile, and what its
    training dataset stored (file names, descriptions of objects read from object storage)."""
    from mlops.config import load_config
    from mlops.lifecycle.model_io import PROFILE_FILE
    from mlops.lifecycle.train import train
    from mlops.store import Store

    config = load_config(churn / "mlops.yaml")
    with Store.open(churn / ".mlops") as store:
        result = train(config, store, engine=engine)
        art = store.get(result.model["id"])
        dataset = store.get(result.datasets[0]["id"])
        return json.loads(
            json.dumps(
                {
                    "metrics": result.metrics,
                    "rows": result.rows,
                    "features": result.features,
                    "profile": store.read_json(art, PROFILE_FILE),
                    "dataset_files": sorted(dataset.files),
                    "remote": dataset.metadata.get("remote"),
                }
            )
        )
