"""Fixtures for end-to-end CLI tests: a project directory with real data and mlops.yaml."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from traincli_help import Cli, sklearn_frame


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Cli]:
    def make(dataset: str, config: dict[str, Any]) -> Cli:
        d = tmp_path / dataset
        (d / "data").mkdir(parents=True, exist_ok=True)
        sklearn_frame(dataset).to_csv(d / "data" / "train.csv", index=False)
        doc = {"project": dataset.replace("_", "-"), "data": {"train": "data/train.csv"}, **config}
        (d / "mlops.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        return Cli(d)

    return make
