"""Fixtures for monitor tests: the churn example, trained once per session with `mlops train`,
copied into each test's tmp_path so every test has its own store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers.projects import trained_churn_example


@pytest.fixture(scope="session")
def trained_churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained_churn_example(tmp_path_factory.mktemp("churn-trained") / "churn")


@pytest.fixture
def churn(trained_churn: Path, tmp_path: Path) -> Path:
    """A private copy of the trained churn project (config, data, store)."""
    dest = tmp_path / "churn"
    shutil.copytree(trained_churn, dest)
    return dest


@pytest.fixture
def open_project(churn: Path):
    """(config, store) of the churn copy, for calling the library directly."""
    from mlops.config import load_config
    from mlops.store import Store

    config = load_config(churn / "mlops.yaml")
    store = Store.open(churn / ".mlops")
    yield config, store
    store.close()
