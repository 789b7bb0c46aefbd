"""mlops.yaml.example (also what `mlops init` writes) parses and mentions every config key."""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel

from mlops.config import MlopsConfig, load_config
from mlops.examples import template_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "mlops.yaml.example"


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        keys.append(prefix + key)
        for arg in typing.get_args(field.annotation) or (field.annotation,):
            for inner in typing.get_args(arg) or (arg,):
                if isinstance(inner, type) and issubclass(inner, BaseModel) and key != "schema":
                    keys.extend(_keys(inner, prefix + key + "."))
    return keys


def test_example_is_the_init_template() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == template_text("mlops.yaml")


def test_example_parses(tmp_path: Path) -> None:
    path = tmp_path / "mlops.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    config = load_config(path)
    assert config.model.project == "my-model"


def test_example_mentions_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    missing = [k for k in _keys(MlopsConfig) if f"{k.rsplit('.', 1)[-1]}:" not in text]
    assert missing == []
