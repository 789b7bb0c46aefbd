"""Config format version and duplicate keys in schema files."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.cli import run_cli
from mlops.config import load_config
from mlops.data.schema import load_schema
from mlops.errors import ConfigError


@pytest.mark.parametrize("version", [0, 2, 99])
def test_unknown_config_version_is_refused_naming_the_supported_ones(tmp_path, version):
    path = tmp_path / "mlops.yaml"
    path.write_text(f"version: {version}\nproject: churn\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = info.value.message
    assert "mlops.yaml:1:1: version:" in message, message
    assert f"config version {version} is not supported" in message
    assert "reads version 1" in message


def test_unknown_config_version_exits_2(tmp_path: Path):
    (tmp_path / "mlops.yaml").write_text("version: 99\n")
    r = run_cli("config", "show", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "version 99 is not supported" in r.stderr and "Traceback" not in r.stderr


def test_version_1_is_accepted(tmp_path):
    path = tmp_path / "mlops.yaml"
    path.write_text("version: 1\nproject: churn\n")
    assert load_config(path).model.version == 1


def test_duplicate_key_in_a_schema_file_is_refused(tmp_path):
    path = tmp_path / "schema.yaml"
    path.write_text("columns:\n  age:\n    dtype: int\n    min: 0\n  age:\n    dtype: string\n")
    with pytest.raises(ConfigError) as info:
        load_schema(path)
    assert info.value.message.endswith(
        "schema.yaml:5:3: duplicate key 'columns.age' (first defined on line 2)"
    )
    path.write_text("columns:\n  age:\n    dtype: int\n    dtype: float\n")
    with pytest.raises(ConfigError) as info:
        load_schema(path)
    assert info.value.message.endswith(
        "schema.yaml:4:5: duplicate key 'columns.age.dtype' (first defined on line 3)"
    )


def test_schema_without_duplicates_still_loads(tmp_path):
    path = tmp_path / "schema.yaml"
    path.write_text("columns:\n  age:\n    dtype: int\n  name:\n    dtype: string\n")
    assert set(load_schema(path).columns) == {"age", "name"}
