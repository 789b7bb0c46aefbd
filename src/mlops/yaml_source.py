"""Safe YAML reading for every YAML file mlops reads (mlops.yaml, schema files): keeps the line
and column of every key, refuses duplicate keys and tags, bounds alias expansion, and (for
mlops.yaml) interpolates ${ENV_VAR} / ${ENV_VAR:-default}. Every refusal is one ConfigError
naming file:line:col."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops.errors import ConfigError

MAX_INT_DIGITS = 100  # no setting takes more; Python refuses to convert beyond 4,300
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Path_ = tuple[str | int | None, ...]  # None: a mapping key that is not a scalar

# Tags a config may carry: the ones plain YAML resolves to by itself. Anything else (python/*,
# !!binary, !!set, custom !tags) is refused with its position.
_YAML = "tag:yaml.org,2002:"
ALLOWED_TAGS = {
    _YAML + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp")
}


@dataclass(frozen=True)
class YamlKind:
    """What kind of file is read, and the limits and wording that go with it.

    Args:
        label: how hints name such files (`mlops.yaml`, `schema`).
        max_bytes: a larger file is refused before parsing.
        max_nodes: a document that expands (aliases counted at every use) to more values is
            refused before it is built.
        interpolate: replace ${ENV_VAR} / ${ENV_VAR:-default} in string values.
        missing_hint: the hint when the file does not exist.
    """

    label: str
    max_bytes: int
    max_nodes: int
    interpolate: bool
    missing_hint: str


CONFIG_FILE = YamlKind(
    label="mlops.yaml",
    max_bytes=5 * 1024 * 1024,
    max_nodes=100_000,
    interpolate=True,
    missing_hint="run `mlops init` to write one",
)


def display_path(path: Path) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


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
        return f"{display_path(self.path)}:{line}:{col}"


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _expanded_sizes(root: yaml.Node, limit: int) -> dict[int, int]:
    """Number of nodes each node expands to, counting every alias use: O(distinct nodes)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:  # a recursive alias expands forever
            return limit + 1
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(v) for v in node.value)
        active.discard(key)
        sizes[key] = min(total, 10 * limit)
        return sizes[key]

    size(root)
    return sizes


def _check_expansion(root: yaml.Node, doc: YamlDocument, kind: YamlKind) -> None:
    """Refuse an alias bomb before walking it, naming the first key that blows up."""
    sizes = _expanded_sizes(root, kind.max_nodes)
    if sizes[id(root)] <= kind.max_nodes:
        return
    node = root
    keys: tuple[Any, ...] = ()
    while True:
        children: list[tuple[Any, yaml.Node]] = []
        if isinstance(node, yaml.MappingNode):
            children = [
                (k.value if isinstance(k, yaml.ScalarNode) else "?", v) for k, v in node.value
            ]
        elif isinstance(node, yaml.SequenceNode):
            children = list(enumerate(node.value))
        big = [
            (k, c)
            for k, c in children
            if sizes.get(id(c), 0) > kind.max_nodes and c.start_mark.index > node.start_mark.index
        ]
        if not big:
            break
        key, node = big[0]
        keys = (*keys, key)
    line, col = _mark(node)
    dotted = ".".join(map(str, keys)) or "the document"
    raise ConfigError(
        f"{display_path(doc.path)}:{line}:{col}: {dotted} expands to more than {kind.max_nodes} "
        "values through nested aliases",
        hint=f"remove the alias chain; {kind.label} files are small",
    )


def _walk(
    node: yaml.Node, keys: Path_, doc: YamlDocument, budget: list[int], kind: YamlKind
) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        line, col = _mark(node)
        raise ConfigError(
            f"{display_path(doc.path)}:{line}:{col}: the document expands to more than {kind.max_nodes} nodes "
            "(nested aliases?)",
            hint=f"remove the alias chain; {kind.label} files are small",
        )
    if node.tag not in ALLOWED_TAGS:
        line, col = _mark(node)
        tag = node.tag.replace(_YAML, "!!")
        raise ConfigError(
            f"{display_path(doc.path)}:{line}:{col}: the YAML tag {tag} is not allowed (plain YAML values only)",
            hint=f"remove the tag; {kind.label} files hold strings, numbers, booleans, lists and mappings",
        )
    doc.positions.setdefault(keys, _mark(node))
    _check_number(node, doc)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                _walk(value_node, keys, doc, budget, kind)
                continue
            _check_number(key_node, doc)
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key in seen:
                line, col = _mark(key_node)
                first = seen[key].start_mark.line + 1
                raise ConfigError(
                    f"{display_path(doc.path)}:{line}:{col}: duplicate key {'.'.join(map(str, (*keys, key)))!r} "
                    f"(first defined on line {first})",
                    hint="keep one of the two",
                )
            seen[key] = key_node
            doc.positions[(*keys, key)] = _mark(key_node)
            _walk(value_node, (*keys, key), doc, budget, kind)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*keys, i), doc, budget, kind)


def _check_number(node: yaml.Node, doc: YamlDocument) -> None:
    if node.tag == _YAML + "int" and len(node.value) > MAX_INT_DIGITS:
        line, col = _mark(node)
        raise ConfigError(
            f"{display_path(doc.path)}:{line}:{col}: the integer {node.value[:12]}... has "
            f"{len(node.value):,} digits, more than any setting takes",
            hint="check the value at that position",
        )


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


def load_yaml(path: Path, kind: YamlKind = CONFIG_FILE) -> YamlDocument:
    """Read one YAML file safely, keeping the position of every key.

    Args:
        path: the file.
        kind: its limits and wording (`CONFIG_FILE` for mlops.yaml).

    Returns:
        The data (an empty mapping for an empty file) and the positions of its keys.

    Raises:
        ConfigError: the file cannot be read, is too large, not UTF-8, not valid YAML, carries a
            tag, repeats a key, expands past `kind.max_nodes` through aliases, or (when
            interpolating) names an unset ${VAR}; the message names file:line:col (exit 2).
    """
    path = Path(path)
    text = _read_text(path, kind)
    doc = YamlDocument(path=path, data=None)
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                doc.data = {}
                return doc
            _check_expansion(node, doc, kind)
            _walk(node, (), doc, [kind.max_nodes], kind)
            doc.data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        raise _syntax_error(path, e) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{display_path(path)}: invalid YAML ({e})") from None
    except RecursionError:
        raise ConfigError(
            f"{display_path(path)}: the document is nested too deeply",
            hint=f"{kind.label} files are shallow; check for a runaway structure",
        ) from None
    if kind.interpolate:
        doc.data = _interpolate(doc.data, (), doc)
    return doc


def _read_text(path: Path, kind: YamlKind) -> str:
    """The file as text; each way of failing to read it is its own one-sentence error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{display_path(path)}: file not found", hint=kind.missing_hint) from None
    except OSError as e:
        raise ConfigError(f"{display_path(path)}: cannot be read ({e.strerror})") from None
    if len(raw) > kind.max_bytes:
        raise ConfigError(
            f"{display_path(path)}: {len(raw)} bytes is too large "
            f"({kind.label} files are at most {kind.max_bytes} bytes)"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{display_path(path)}: not UTF-8 text (byte {e.start})", hint="save the file as UTF-8"
        ) from None


def _syntax_error(path: Path, e: yaml.MarkedYAMLError) -> ConfigError:
    """A YAML syntax error as file:line:col and the parser's problem in a few words."""
    name = display_path(path)
    mark = e.problem_mark or e.context_mark
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
    problem = (e.problem or e.context or "invalid YAML").strip()
    if (
        e.context
        and e.problem
        and e.context_mark is not None
        and e.problem_mark is not None
        and e.context_mark.line != e.problem_mark.line
    ):
        problem += f" ({e.context.strip()} on line {e.context_mark.line + 1})"
    if "could not determine a constructor" in problem:
        problem = "tags such as " + problem.split("tag ")[-1] + " are not allowed (safe YAML only)"
    return ConfigError(f"{where}: {problem}", hint="fix the YAML syntax at that position")
