"""`mlops config schema` agrees with the loader: it rejects the loader's rejection corpus and
accepts what the loader accepts."""

from __future__ import annotations

import json

import pytest
import yaml
from jsonschema import Draft202012Validator
from test_config_errors import BAD, SCHEMA_CASES

from helpers.cli import invoke_cli as invoke
from mlops.config import load_config


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    r = invoke("config", "schema")
    assert r.exit_code == 0
    schema = json.loads(r.stdout)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize(
    "text",
    [b[1] for b in BAD if b[0] in SCHEMA_CASES],
    ids=sorted(SCHEMA_CASES, key=[b[0] for b in BAD].index),
)
def test_schema_rejects_what_the_loader_rejects(validator: Draft202012Validator, text: str) -> None:
    assert list(validator.iter_errors(yaml.safe_load(text))), text


GOOD = [
    "project: x\nevaluate:\n  gate:\n    - roc_auc >= 0.8\n    - log_loss <= .5\n    - f1 >= 1e-3\n",
    "project: x\nevaluate:\n  gate:\n    - {metric: roc_auc, min: 0.7}\n",
    "project: x\nmonitor:\n  window: Day\n",
    "project: x\nmonitor:\n  window: 5_000 rows\n",
    "project: x\nmonitor:\n  window: 100\n",
    "project: x\nmonitor:\n  window: weeks\n",
    "project: x\ntrain:\n  params: {max_iter: 10, max_depth: null, C: 0.5, learning_rate: 0.1}\n",
]


@pytest.mark.parametrize("text", GOOD)
def test_schema_accepts_what_the_loader_accepts(validator, text: str, tmp_path) -> None:
    path = tmp_path / "mlops.yaml"
    path.write_text(text)
    load_config(path)
    assert not list(validator.iter_errors(yaml.safe_load(text)))


WINDOWS = ["day", "Days", "HOUR", "month ", "5000", "5_000 rows", "0", "0 rows", "00", "+5"]
WINDOWS += ["-5", "rows", "10rows", "fortnight", "", "all", "None", " 7 ", "1e3", "week s"]


@pytest.mark.parametrize("window", WINDOWS)
def test_window_schema_agrees_with_the_parser(validator, window: str) -> None:
    from mlops.config.window import parse_window
    from mlops.errors import InputError

    try:
        parse_window(window)
        parsed = True
    except InputError:
        parsed = False
    assert parsed == (not list(validator.iter_errors({"monitor": {"window": window}})))
