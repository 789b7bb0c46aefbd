"""The layering of DESIGN.md, checked on the source: no import cycles between modules, no layer
importing one above it, and the lifecycle subpackages' public faces import nothing heavy."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
FACES = [
    "mlops.lifecycle.train",
    "mlops.lifecycle.evaluate",
    "mlops.lifecycle.monitor",
    "mlops.lifecycle.deploy",
    "mlops.lifecycle.loop",
    "mlops.lifecycle.validate",
]
# Each top-level layer and the layers it may import (docs/architecture.md): an allow-list, so a
# new layer or a new edge is a decision written here, not an accident. `mlops` itself (the
# version string) may be imported from anywhere.
BASE = {"errors", "atomic", "jsonable", "yaml_source", "progress"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "atomic": {"errors"},
    "jsonable": set(),  # the JSON encoder for result objects
    "yaml_source": {"errors"},  # the safe YAML loader of mlops.yaml and schema files
    "progress": set(),  # progress of long work, shown by the CLI when it installs a sink
    "store": BASE,
    "stats": BASE,
    "examples": BASE,
    "data": BASE | {"stats"},
    "config": BASE | {"stats", "data"},  # config's pydantic models name data.schema
    "remote": BASE | {"store"},
    "lifecycle": BASE | {"store", "remote", "stats", "data", "config", "examples"},
    "report": BASE | {"store", "remote", "stats", "data", "config", "lifecycle"},
    "cli": BASE | {"store", "remote", "stats", "data", "config", "examples", "lifecycle", "report"},
    "__main__": {"cli"},
    "templates": set(),  # data files (mlops.yaml templates) read by examples and init
}


def _modules() -> dict[str, Path]:
    out = {}
    for p in (SRC / "mlops").rglob("*.py"):
        parts = list(p.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The mlops modules a module imports at any level, `if TYPE_CHECKING:` blocks included
    (an import for the type checker is a dependency too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def known(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
            targets = subs + ([base] if len(subs) < len(node.names) else [])
        for t in targets:
            m = known(t)
            if m and m != name and m.startswith("mlops"):
                out.add(m)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imports(m, p, modules) for m, p in modules.items()}


def test_no_import_cycles() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1 on the path, 2 done
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(path[path.index(n) :] + [n])
            elif n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = []
    for a, targets in sorted(_graph().items()):
        if not _layer(a):
            continue
        assert _layer(a) in ALLOWED, f"{a}: a new top-level layer; add it to ALLOWED and the docs"
        wrong += [
            f"{a} -> {b}"
            for b in sorted(targets)
            if _layer(b) not in {"", _layer(a)} and _layer(b) not in ALLOWED[_layer(a)]
        ]
    assert not wrong, "imports the layer rules do not allow: " + "; ".join(wrong)


def test_the_rules_refuse_an_upward_import() -> None:
    assert "report" not in ALLOWED["lifecycle"] and "lifecycle" not in ALLOWED["config"]
    assert all("cli" not in allowed for layer, allowed in ALLOWED.items() if layer != "__main__")


@pytest.mark.parametrize("face", FACES)
def test_public_faces_resolve(face: str) -> None:
    module = importlib.import_module(face)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{face}.{name}"


def test_public_faces_import_nothing_heavy() -> None:
    code = (
        "import sys\n"
        f"for face in {FACES!r}:\n"
        "    __import__(face)\n"
        "heavy = {'pandas', 'numpy', 'sklearn', 'scipy', 'pydantic', 'matplotlib', 'pyarrow'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=SRC, check=False
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "[]"
