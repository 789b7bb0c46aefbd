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
# a layer may import only the layers after it (config.py's pydantic models name data.schema)
ABOVE = {
    "lifecycle": {"report", "cli"},
    "report": {"cli"},
    "stats": {"lifecycle", "report", "cli"},
    "data": {"lifecycle", "report", "cli"},
    "config": {"lifecycle", "report", "cli"},
    "store": {"lifecycle", "report", "cli", "data", "stats"},
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


def test_no_layer_imports_one_above_it() -> None:
    def layer(m: str) -> str:
        return m.split(".")[1] if m.count(".") else ""

    upward = [
        f"{a} -> {b}"
        for a, targets in sorted(_graph().items())
        for b in sorted(targets)
        if layer(b) in ABOVE.get(layer(a), set())
    ]
    assert not upward, "imports of a higher layer: " + "; ".join(upward)


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
