"""Finding the class that `train.estimator: package.module.Class` names without running code
that does not hold it.

Importing a module runs its top-level code, so a typo or a hostile path in mlops.yaml must not
import an arbitrary module just to find out that it has no such class. Before importing, the
module is located from its spec (its parent packages are not imported for that) and its source
is read: only a module whose top level binds the name (a class statement, an import of the
name, an assignment, a star import or a module `__getattr__`) is imported. A module without
Python source (a compiled extension) cannot be read this way and is imported as named.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys
from importlib.machinery import ModuleSpec


def find_module_spec(module_name: str) -> ModuleSpec | None:
    """The spec of module_name, found without importing any package that is not already
    imported; None when there is no such module."""
    parts = module_name.split(".")
    spec: ModuleSpec | None = None
    for i in range(len(parts)):
        name = ".".join(parts[: i + 1])
        parent = sys.modules.get(".".join(parts[:i])) if i else None
        if i == 0 or parent is not None:
            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):
                return None
        else:
            path = spec.submodule_search_locations if spec is not None else None
            if not path:
                return None  # the parent is a module, not a package
            spec = importlib.machinery.PathFinder.find_spec(name, list(path))
        if spec is None:
            return None
    return spec


def may_hold(spec: ModuleSpec, name: str) -> bool:
    """Whether the module's source binds `name` at its top level (True when there is no
    source to read)."""
    loader = spec.loader
    get_source = getattr(loader, "get_source", None)
    try:
        source = get_source(spec.name) if get_source is not None else None
    except (ImportError, OSError):
        source = None
    if source is None:
        return True
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return True  # importing it reports the error with its line
    return any(_binds(node, name) for node in _top_level(tree.body))


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run at import: the body, and the bodies of top-level if/try blocks."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        if isinstance(node, ast.If):
            out += _top_level(node.body) + _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            out += _top_level(node.body) + _top_level(node.orelse) + _top_level(node.finalbody)
            for handler in node.handlers:
                out += _top_level(handler.body)
    return out


def _binds(node: ast.stmt, name: str) -> bool:
    if isinstance(node, ast.ClassDef):
        return node.name == name
    if isinstance(node, ast.FunctionDef):
        return node.name == "__getattr__"  # a lazily loading package
    if isinstance(node, ast.ImportFrom | ast.Import):
        return any(a.name == "*" or (a.asname or a.name.split(".")[0]) == name for a in node.names)
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and node.target.id == name
    return False


__all__ = ["find_module_spec", "may_hold"]
