"""The library API the docs show exists: every `from mlops... import ...` line in a python code
block of README.md or docs/*.md imports (a renamed module or function breaks this test, not a
user's script)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
_IMPORT = re.compile(r"^\s*(from mlops[\w.]* import [^#\n]+|import mlops[\w.]*)", re.M)


def _doc_imports() -> list[tuple[str, str]]:
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in _BLOCK.findall(doc.read_text(encoding="utf-8")):
            found += [(doc.name, m.strip()) for m in _IMPORT.findall(block)]
    return found


def test_the_docs_show_some_library_api() -> None:
    assert len(_doc_imports()) >= 5


@pytest.mark.parametrize(("doc", "line"), _doc_imports())
def test_doc_import_works(doc: str, line: str) -> None:
    exec(compile(line, f"{doc}: {line}", "exec"), {})


# The library API in one docstring style: what it takes, returns and raises.
DOCUMENTED = {
    "mlops.config": ["load_config"],
    "mlops.data.checks": ["register_check"],
    "mlops.store": ["Store"],
    "mlops.lifecycle.validate": ["validate"],
    "mlops.lifecycle.train": ["train"],
    "mlops.lifecycle.evaluate": ["evaluate", "promote", "rollback", "history"],
    "mlops.lifecycle.model_io": ["load_model"],
    "mlops.lifecycle.monitor": ["monitor"],
    "mlops.lifecycle.loop": ["retrain", "run_pipeline", "run_demo"],
    "mlops.lifecycle.deploy": ["build_package", "predict_files", "open_package", "load_from_store"],
}
STORE_METHODS = ["open", "add_artifact", "add_path", "get", "resolve", "read_file", "set_alias"]


def _api() -> list[tuple[str, object]]:
    import importlib

    found = []
    for module, names in DOCUMENTED.items():
        mod = importlib.import_module(module)
        found += [(f"{module}.{n}", getattr(mod, n)) for n in names]
    from mlops.store import Store

    found += [(f"Store.{m}", getattr(Store, m)) for m in STORE_METHODS]
    return found


@pytest.mark.parametrize(("name", "obj"), _api(), ids=[n for n, _ in _api()])
def test_library_api_has_structured_docstrings(name: str, obj: object) -> None:
    import inspect

    doc = inspect.getdoc(obj) or ""
    assert doc, f"{name} has no docstring"
    if inspect.isclass(obj):
        return
    params = [p for p in inspect.signature(obj).parameters if p not in ("self", "cls")]
    sections = [s for s in ("Args:", "Returns:", "Raises:") if s in doc]
    assert sections, f"{name}: document its parameters, returns and errors (Args/Returns/Raises)"
    if len(params) > 2:
        assert "Args:" in doc, f"{name} takes {params}: list them under Args:"
        missing = [p for p in params if p not in doc]
        assert not missing, f"{name}: parameters not documented: {missing}"
