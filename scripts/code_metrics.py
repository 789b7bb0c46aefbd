"""Size and shape of the code under src/: files per folder, the largest module, the longest
functions (docstrings not counted; each over 60 lines should say why it stays whole in a
`# long: ...` comment), and import cycles between mlops modules (imports that run at import time or inside
functions alike; `if TYPE_CHECKING:` blocks left out).

    python scripts/code_metrics.py [SRC_DIR]        (default: src/mlops beside this script)
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(tree: ast.Module, name: str, is_package: bool, typing: bool) -> set[str]:
    """mlops modules imported by a module; with typing=True also those under TYPE_CHECKING."""
    typing_only = (
        set()
        if typing
        else {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for stmt in block.body
            for n in ast.walk(stmt)
        }
    )
    found: set[str] = set()
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("mlops")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("mlops"):
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names}
    return found


def _doc_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines taken by the docstring: documentation is not what makes a function long."""
    first = node.body[0] if node.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return (first.end_lineno or first.lineno) - first.lineno + 1
    return 0


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "src" / "mlops"
    files = sorted(src.rglob("*.py"))
    per_folder = Counter(str(p.parent.relative_to(src.parent)) for p in files)
    sizes = {p: len(p.read_text().splitlines()) for p in files}
    graph: dict[str, set[str]] = {}
    typed: dict[str, set[str]] = {}
    functions: list[tuple[int, str]] = []
    reasons: set[str] = set()
    for p in files:
        text = p.read_text()
        lines = text.splitlines()
        tree = ast.parse(text)
        name = module_name(p, src)
        graph[name] = imports_of(tree, name, p.name == "__init__.py", typing=False)
        typed[name] = imports_of(tree, name, p.name == "__init__.py", typing=True)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1 - _doc_lines(node)
                where = f"{p.relative_to(src.parent)}:{node.name}"
                functions.append((length, where))
                body = lines[node.lineno - 1 : node.end_lineno]
                if any(line.strip().startswith("# long:") for line in body):
                    reasons.add(where)
    modules = set(graph)

    # an import of a package's submodule also runs the package: edges go to known modules only;
    # a package's own __init__ importing its submodules is how packages work, not a cycle
    def known(g: dict[str, set[str]]) -> dict[str, set[str]]:
        return {
            m: {t for t in targets if t in modules and t != m and not m.startswith(t + ".")}
            for m, targets in g.items()
        }

    functions.sort(reverse=True)
    largest = max(sizes, key=lambda p: sizes[p])
    print(f"files: {len(files)}; per folder:")
    for folder, n in sorted(per_folder.items()):
        print(f"  {folder}: {n}")
    print(f"largest module: {largest.relative_to(src.parent)} ({sizes[largest]} lines)")
    long = [(n, where) for n, where in functions if n > 60]
    unexplained = [where for _, where in long if where not in reasons]
    print(f"functions over 60 lines: {len(long)} ({len(unexplained)} without a `# long:` reason)")
    for n, where in long or functions[:1]:
        print(f"  {n:4d}  {where}{'' if where in reasons else '  (no reason given)'}")
    for label, g in (("import cycles", graph), ("with TYPE_CHECKING imports", typed)):
        found = cycles(known(g))
        print(f"{label}: {len(found)}")
        for comp in found:
            print("  " + " <-> ".join(comp))


if __name__ == "__main__":
    main()
