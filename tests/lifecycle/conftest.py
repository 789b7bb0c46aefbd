"""Fixtures for the train and evaluate tests: real CSV files from scikit-learn's bundled datasets,
a real mlops.yaml, a real store in tmp_path. (deploy/ and loop/ define their own `project`.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from helpers.cli import Cli
from helpers.data import dataset_frame
from mlops.config import Config, load_config
from mlops.store import Store

Project = Callable[..., Config]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """project(frame or dataset name, train={...}, evaluate={...}, data={...}) -> Config."""

    def make(
        source: pd.DataFrame | str,
        train: dict[str, Any] | None = None,
        evaluate: dict[str, Any] | None = None,
        name: str = "proj",
        data: dict[str, Any] | None = None,
        **top: Any,
    ) -> Config:
        frame = dataset_frame(source) if isinstance(source, str) else source
        (tmp_path / "data").mkdir(exist_ok=True)
        frame.to_csv(tmp_path / "data" / "train.csv", index=False)
        doc: dict[str, Any] = {
            "project": name,
            "data": {"train": "data/train.csv", **(data or {})},
            **top,
        }
        doc["train"] = {"target": "target", **(train or {})}
        if evaluate is not None:
            doc["evaluate"] = evaluate
        path = tmp_path / "mlops.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return load_config(path)

    return make


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / ".mlops")
    yield s
    s.close()


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Cli]:
    """make_project(dataset name, {config sections}) -> Cli bound to a new project directory."""

    def make(dataset: str, config: dict[str, Any]) -> Cli:
        d = tmp_path / dataset
        (d / "data").mkdir(parents=True, exist_ok=True)
        dataset_frame(dataset).to_csv(d / "data" / "train.csv", index=False)
        doc = {"project": dataset.replace("_", "-"), "data": {"train": "data/train.csv"}, **config}
        (d / "mlops.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        return Cli(d)

    return make
