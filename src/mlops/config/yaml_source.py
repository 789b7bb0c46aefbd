"""Safe YAML reading that keeps the line and column of every key, refuses duplicate keys and
tags, bounds alias expansion, and interpolates ${ENV_VAR} / ${ENV_VAR:-default}."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops.errors import ConfigError

MAX_NODES = 100_000
MAX_BYTES = 5 * 1024 * 1024
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Path_ = tuple[str | int, ...]


@dataclass
class YamlDocument:
    path: Path
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, keys: Path_) -> str:
        """'file:line:col' of the deepest known position along keys."""
        keys = tuple(keys)
        while keys and keys not in self.positions:
            keys = keys[:-1]
        line, col = self.positions.get(keys, (1, 1))
        return f"{self.path.name}:{line}:{col}"


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _walk(node: yaml.Node, keys: Path_, doc: YamlDocument, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        line, col = _mark(node)
        raise ConfigError(
            f"{doc.path.name}:{line}:{col}: the document expands to more than {MAX_NODES} nodes "
            "(nested aliases?)",
            hint="remove the alias chain; mlops.yaml files are small",
        )
    doc.positions.setdefault(keys, _mark(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                _walk(value_node, keys, doc, budget)
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key in seen:
                line, col = _mark(key_node)
                first = seen[key].start_mark.line + 1
                raise ConfigError(
                    f"{doc.path.name}:{line}:{col}: duplicate key {'.'.join(map(str, (*keys, key)))!r} "
                    f"(first defined on line {first})",
                    hint="keep one of the two",
                )
            seen[key] = key_node
            doc.positions[(*keys, key)] = _mark(key_node)
            _walk(value_node, (*keys, key), doc, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*keys, i), doc, budget)


def _interpolate(value: Any, keys: Path_, doc: YamlDocument) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, (*keys, k), doc) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*keys, i), doc) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:

        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            raise ConfigError(
                f"{doc.where(keys)}: {'.'.join(map(str, keys))}: environment variable ${{{name}}} is not set",
                hint=f"export {name}=... or write ${{{name}:-default}}",
            )

        return _ENV.sub(sub, value)
    return value


def load_yaml(path: Path, interpolate: bool = True) -> YamlDocument:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found", hint="run `mlops init` to write one") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{path}: {len(raw)} bytes is too large for a config file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {e.start})", hint="save the file as UTF-8"
        ) from None
    doc = YamlDocument(path=path, data=None)
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                doc.data = {}
                return doc
            _walk(node, (), doc, [MAX_NODES])
            doc.data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark else path.name
        problem = (e.problem or e.context or "invalid YAML").strip()
        if "could not determine a constructor" in problem:
            problem = (
                "tags such as " + problem.split("tag ")[-1] + " are not allowed (safe YAML only)"
            )
        raise ConfigError(
            f"{where}: {problem}", hint="fix the YAML syntax at that position"
        ) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path.name}: invalid YAML ({e})") from None
    if interpolate:
        doc.data = _interpolate(doc.data, (), doc)
    return doc
