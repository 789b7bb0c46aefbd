"""Lazy public faces for the lifecycle subpackages.

A subpackage's `__init__` names what the other layers use. The modules behind those names import
numpy, pandas or scikit-learn, so each name is imported on first use rather than with the package:
`mlops --help` and shell completion stay fast.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, modules: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """A module-level `__getattr__` for package.

    modules maps a submodule (relative to package) to the public names it defines; the first
    access imports the submodule and keeps the value on the package.
    """
    where = {name: sub for sub, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        sub = where.get(name)
        if sub is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{sub}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
