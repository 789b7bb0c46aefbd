"""Fixtures for package/predict/serve: a project with a stored churn model (helpers.models)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.data import churn_frames
from helpers.models import Project, add_model
from mlops.store import Store


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "mlops.yaml").write_text(
        "version: 1\nproject: churn\ndata:\n  id_column: customer_id\n"
        "package:\n  prediction_log: predictions\n  chunk_rows: 128\n"
    )
    train, batch = churn_frames()
    store_path = root / ".mlops"
    with Store.open(store_path) as store:
        art, pipeline = add_model(store, train)
    batch_csv = root / "batch.csv"
    batch.to_csv(batch_csv, index=False)
    return Project(root, store_path, art, pipeline, train, batch, batch_csv)
