"""Every third-party module that src/ imports is declared in pyproject.toml, in the right group.

A module imported at import time of any mlops module must be a base dependency: without it the
CLI cannot start after `pip install -e .`. A module imported lazily (inside a function) may
belong to an extra instead, because only the command that needs it imports it.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "mlops"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    return _normalise(re.split(r"[\s\[<>=!~;@]", spec.strip(), maxsplit=1)[0])


def declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {_requirement_name(s) for s in project["dependencies"]}
    extras = {
        _requirement_name(s)
        for group in project.get("optional-dependencies", {}).values()
        for s in group
    }
    return base, extras


def third_party_imports() -> list[tuple[str, str, bool]]:
    """(top-level module, where, imported at module import time) for every non-stdlib import
    that runs (imports under `if TYPE_CHECKING:` are for the type checker only)."""
    found: list[tuple[str, str, bool]] = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        eager = _module_level_nodes(tree)
        typing_only = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for stmt in block.body
            for n in ast.walk(stmt)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("mlops", "__future__"):
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.append((top, where, id(node) in eager))
    return found


def _module_level_nodes(tree: ast.Module) -> set[int]:
    """Imports that run when the module is imported: top level, outside functions and
    `if TYPE_CHECKING:` blocks (those never run)."""
    eager: set[int] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                eager.add(id(node))
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(node, block, []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
            elif isinstance(node, ast.ClassDef):
                visit(node.body)

    visit(tree.body)
    return eager


@cache
def _distributions() -> dict[str, list[str]]:
    return packages_distributions()


def distribution_of(module: str) -> str:
    dists = _distributions().get(module)
    assert dists, f"{module} is imported by src/ but installed by no distribution here"
    return _normalise(dists[0])


def test_eager_imports_are_base_dependencies() -> None:
    base, _ = declared()
    missing = sorted(
        f"{where}: {module} ({distribution_of(module)})"
        for module, where, eager in third_party_imports()
        if eager and distribution_of(module) not in base
    )
    assert not missing, (
        "imported when mlops loads but not in [project].dependencies:\n" + "\n".join(missing)
    )


def test_every_import_is_declared_somewhere() -> None:
    base, extras = declared()
    missing = sorted(
        f"{where}: {module} ({distribution_of(module)})"
        for module, where, _ in third_party_imports()
        if distribution_of(module) not in base | extras
    )
    assert not missing, "imported by src/ but declared nowhere in pyproject.toml:\n" + "\n".join(
        missing
    )


def test_the_scanner_sees_an_eager_and_a_lazy_import(tmp_path: Path) -> None:
    tree = ast.parse(
        "import typer\nif TYPE_CHECKING:\n    import pandas\ndef f():\n    import numpy\n"
    )
    eager = _module_level_nodes(tree)
    kinds = {n.names[0].name: id(n) in eager for n in ast.walk(tree) if isinstance(n, ast.Import)}
    assert kinds == {"typer": True, "pandas": False, "numpy": False}
