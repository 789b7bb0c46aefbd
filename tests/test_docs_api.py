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
