"""Hostile and random mlops.yaml files: loading gives a Config or a ConfigError (exit 2 with a
position), never another exception; `mlops config show` on them exits 0 or 2, never 70."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.cli import invoke_cli
from mlops.config import load_config
from mlops.errors import MlopsError

EXAMPLE = yaml.safe_load(files("mlops.templates").joinpath("churn.mlops.yaml").read_text())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["${NOPE}", "${HOME}", "roc_auc >= high", "fortnight", "ten", "-1", "1e999"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _replace(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: _replace(doc[head], rest, value)}
    copy = list(doc)
    copy[head] = _replace(doc[head], rest, value)
    return copy


@st.composite
def mutated_configs(draw: st.DrawFn) -> str:
    """The churn example with one to three values replaced by random ones, as YAML text."""
    doc: Any = EXAMPLE
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        doc = _replace(doc, path, draw(values))
    return yaml.safe_dump(doc, sort_keys=False)


raw_texts = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.sampled_from(
        [
            "a: &x [*x]\n",
            "a: !!python/object:os.system {}\n",
            "version: 99\n",
            "version: 1\nversion: 1\n",
            "train:\n  params:\n    C: " + "9" * 5000 + "\n",
            "- a\n- b\n",
            "monitor:\n  window: fortnight\n",
            "\t- :\n",
        ]
    ),
)


def _check_loads(tmp_path: Path, text: str) -> None:
    path = tmp_path / "mlops.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path)
    except MlopsError as e:
        assert e.exit_code == 2, e
        assert str(e).strip()


@settings(max_examples=150)
@given(text=raw_texts)
def test_random_text_loads_or_is_a_config_error(tmp_path: Path, text: str) -> None:
    _check_loads(tmp_path, text)


@settings(max_examples=150)
@given(text=mutated_configs())
def test_mutated_example_loads_or_is_a_config_error(tmp_path: Path, text: str) -> None:
    _check_loads(tmp_path, text)


@settings(max_examples=40)
@given(text=mutated_configs())
def test_config_show_never_exits_70(tmp_path: Path, text: str) -> None:
    (tmp_path / "mlops.yaml").write_text(text)
    r = invoke_cli("config", "show", cwd=tmp_path)
    assert r.returncode in (0, 2), r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


def test_a_5000_digit_integer_is_a_positioned_config_error(tmp_path: Path) -> None:
    (tmp_path / "mlops.yaml").write_text("train:\n  params:\n    C: " + "9" * 5000 + "\n")
    r = invoke_cli("config", "show", cwd=tmp_path)
    assert r.returncode == 2
    assert "mlops.yaml:3:8: the integer 999999999999... has 5,000 digits" in r.stderr
