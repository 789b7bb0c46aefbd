from __future__ import annotations

import uuid
from pathlib import Path

import pytest

pytest.importorskip("fsspec")


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.slow)])
def remote_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty remote: a directory in tmp_path (file://), or a prefix on moto's S3."""
    if request.param == "s3":
        request.getfixturevalue("s3_endpoint")
        return f"s3://mlops-test/{uuid.uuid4().hex}"
    return (tmp_path / "remote").as_uri()
