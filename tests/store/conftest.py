from __future__ import annotations

from pathlib import Path

import pytest

from mlops.store import Store


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "store")
    yield s
    s.close()
