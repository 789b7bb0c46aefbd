"""mlops.yaml -> a typed, validated config. Errors name file, line, column and key."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mlops.config.root import MlopsConfig
from mlops.errors import ConfigError
from mlops.yaml_source import YamlDocument, load_yaml

CONFIG_NAME = "mlops.yaml"

__all__ = [
    "CONFIG_NAME",
    "Config",
    "MlopsConfig",
    "find_config",
    "json_schema",
    "load_config",
    "parse_config",
]

# Sections accept a single string where a list of strings is expected, through a `before`
# validator with this name; the JSON Schema must say so, or editors flag valid files.
ONE_OR_MANY_VALIDATOR = "_one_or_many"


@dataclass
class Config:
    """The validated model plus where it came from (for error positions and hashing)."""

    model: MlopsConfig
    path: Path
    doc: YamlDocument

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def where(self, *keys: str | int) -> str:
        return self.doc.where(tuple(keys))

    def error(
        self, keys: tuple[str | int, ...] | list[str | int], message: str, hint: str | None = None
    ) -> ConfigError:
        """A ConfigError positioned at a key, e.g. `mlops.yaml:12:5: train.params.max_depth: ...`."""
        dotted = ".".join(str(k) for k in keys)
        return ConfigError(f"{self.where(*keys)}: {dotted}: {message}", hint=hint)

    def resolve_path(self, p: str | Path) -> Path:
        p = Path(p)
        return p if p.is_absolute() else self.base_dir / p

    def to_dict(self) -> dict[str, Any]:
        # kept: pydantic's own dump (aliases, JSON mode), not a dataclass
        return self.model.model_dump(mode="json", by_alias=True)

    def section_hash(self, *sections: str) -> str:
        full = self.to_dict()
        part = {s: full.get(s) for s in sections} if sections else full
        return hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()

    @property
    def hash(self) -> str:
        return self.section_hash()


def find_config(start: Path | None = None) -> Path | None:
    """mlops.yaml in start or the nearest parent directory, as git finds .git."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        candidate = d / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | str) -> Config:
    """Read and validate an mlops.yaml.

    Args:
        path: the file; relative paths inside it resolve against its directory.

    Returns:
        The typed config.

    Raises:
        ConfigError: the file cannot be read, is not safe YAML (tags, duplicate keys, alias
            bombs), names an unset ${VAR}, or fails validation; the message names the file,
            line, column and key (exit 2).
    """
    doc = load_yaml(Path(path))
    return parse_config(doc)


def parse_config(doc: YamlDocument) -> Config:
    data = doc.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{doc.where(())}: the top level must be a mapping of sections, got {type(data).__name__}"
        )
    try:
        model = MlopsConfig.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise _to_config_error(doc, err, len(e.errors())) from None
    return Config(model=model, path=Path(doc.path), doc=doc)


def _field_names(loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts at the mapping that holds loc[-1]."""
    model: Any = MlopsConfig
    for key in loc[:-1]:
        model = _descend(model, key)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or n for n, f in model.model_fields.items()]
    return []


def _descend(tp: Any, key: Any) -> Any:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for n, f in tp.model_fields.items():
            if key in (n, f.alias):
                return _unwrap(f.annotation)
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, tuple) and args:
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return None


def _unwrap(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        models = [
            a for a in typing.get_args(tp) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if models:
            return models[0]
        rest = [a for a in typing.get_args(tp) if a is not type(None)]
        return rest[0] if len(rest) == 1 else tp
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    return tp


_FRIENDLY = {
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "missing": "is required",
}


def _to_config_error(doc: YamlDocument, err: Mapping[str, Any], count: int) -> ConfigError:
    loc = tuple(
        k
        for k in err["loc"]
        if not (isinstance(k, str) and ("[" in k or k in ("function-after", "function-before")))
    )
    dotted = ".".join(str(k) for k in loc) or "(top level)"
    kind = err["type"]
    more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _field_names(loc)
        close = difflib.get_close_matches(key, known, n=1)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else (f"known keys here: {', '.join(known)}" if known else None)
        )
        return ConfigError(f"{doc.where(loc)}: {dotted}: unknown key{more}", hint=hint)
    got = err.get("input")
    message = _FRIENDLY.get(kind) or err["msg"].removeprefix("Value error, ")
    if kind != "missing" and got is not None and not isinstance(got, dict | list):
        message = f"{message}, got {got!r}"
    return ConfigError(
        f"{doc.where(loc)}: {dotted}: {message}{more}",
        hint="see `mlops config schema` for every key",
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of mlops.yaml, as editors' YAML plugins read it."""
    data = MlopsConfig.model_json_schema(by_alias=True)
    defs = data.get("$defs", {})
    for model in _section_models(MlopsConfig):
        node = defs.get(model.__name__) if model is not MlopsConfig else data
        if node is None:
            continue
        for name, dec in model.__pydantic_decorators__.field_validators.items():
            if name != ONE_OR_MANY_VALIDATOR or dec.info.mode != "before":
                continue
            for field_name in dec.info.fields:
                f = model.model_fields[field_name]
                prop = node.get("properties", {}).get(f.alias or field_name)
                if prop and prop.get("type") == "array":
                    items = prop.pop("items", {})
                    prop.pop("type")
                    prop["anyOf"] = [items, {"type": "array", "items": items}]
    data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    data["title"] = "mlops.yaml"
    return data


def _section_models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    todo: list[Any] = [root]
    while todo:
        tp = _unwrap(todo.pop())
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                continue
            seen.append(tp)
            todo.extend(f.annotation for f in tp.model_fields.values())
        else:
            todo.extend(typing.get_args(tp))
    return seen


def default_store_path(config: Config | None, override: str | None = None) -> Path:
    """--store, then MLOPS_STORE, then mlops.yaml `store:`, then .mlops beside mlops.yaml (or cwd)."""
    if override:
        return Path(override)
    env = os.environ.get("MLOPS_STORE")
    if env:
        return Path(env)
    if config is not None:
        if config.model.store:
            return config.resolve_path(config.model.store)
        return config.base_dir / ".mlops"
    return Path.cwd() / ".mlops"
