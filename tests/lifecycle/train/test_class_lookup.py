"""`train.estimator` is looked up without running modules that do not hold the class: a module
whose source has no such name is never imported (its top-level code never runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlops.lifecycle.train.class_lookup import find_module_spec, may_hold
from mlops.lifecycle.train.pipeline import import_class


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path with a package whose import leaves a marker file."""
    root = tmp_path / "mods"
    pkg = root / "hostilepkg"
    pkg.mkdir(parents=True)
    marker = tmp_path / "marker"
    mark = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (pkg / "__init__.py").write_text(mark)
    (pkg / "models.py").write_text(
        mark + "from sklearn.linear_model import LogisticRegression as Fine\n"
        "class Custom(Fine):\n    pass\n"
    )
    (pkg / "nothing.py").write_text(mark + "x = 1\n")
    monkeypatch.syspath_prepend(str(root))
    yield marker
    for name in [m for m in sys.modules if m.startswith("hostilepkg")]:
        del sys.modules[name]


def test_a_module_without_the_class_is_never_imported(modules: Path, project) -> None:
    config = project("wine")
    for path in ("hostilepkg.nothing.Model", "hostilepkg.models.Missing", "hostilepkg.Model"):
        with pytest.raises(Exception, match="has no class"):
            import_class(config, path, ("train", "estimator"))
    assert not modules.exists()  # neither the package nor its modules ran


def test_a_module_that_holds_the_class_is_imported(modules: Path, project) -> None:
    config = project("wine")
    assert import_class(config, "hostilepkg.models.Custom", ("k",)).__name__ == "Custom"
    assert import_class(config, "hostilepkg.models.Fine", ("k",)).__name__ == "LogisticRegression"
    assert modules.read_text().split() == ["hostilepkg", "hostilepkg.models"]


def test_re_exported_and_missing_modules() -> None:
    spec = find_module_spec("sklearn.ensemble")
    assert spec is not None and may_hold(spec, "HistGradientBoostingClassifier")
    assert not may_hold(spec, "NoSuchModel")
    assert find_module_spec("sklearn.no_such_module") is None
    assert find_module_spec("no_such_package.sub") is None
    assert find_module_spec("json.decoder.deeper") is None  # a module is not a package
