from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project directory with a minimal mlops.yaml, as the working directory."""
    (tmp_path / "mlops.yaml").write_text("project: demo\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_STORE", raising=False)
    return tmp_path
