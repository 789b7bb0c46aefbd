"""Bad mlops.yaml files: exit 2 naming file and line, no traceback, nothing written."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from helpers.cli import run_cli
from mlops.config import default_store_path, find_config, load_config
from mlops.errors import ConfigError

BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{c}: &{c} [{', '.join(['*' + p] * 9)}]"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "project: x",
    ]
)

# (id, text, line, fragment of the message, fragment of the hint or None)
BAD = [
    ("syntax", "project: x\ndata:\n  train: [a, b\n", 4, "expected ',' or ']'", None),
    ("syntax-indent", "project: x\n  data: 1\n", 2, "mapping values are not allowed", None),
    ("wrong-type", "project: x\nversion: abc\n", 2, "version: expected an integer", None),
    ("wrong-type-nested", "data:\n  train: 5\n", 2, "data.train: expected a list", None),
    ("yaml11-float", "project: 3.10\n", 1, "project: expected a string", None),
    ("yaml11-bool", "project: no\n", 1, "project: expected a string", None),
    ("unknown-key", "project: x\ndata:\n  trian: a.csv\n", 3, "data.trian: unknown key", "train"),
    ("unknown-top", "projcet: x\n", 1, "projcet: unknown key", "project"),
    ("duplicate", "project: a\nversion: 1\nproject: b\n", 3, "duplicate key 'project'", None),
    ("duplicate-nested", "data:\n  train: a\n  train: b\n", 3, "duplicate key 'data.train'", None),
    (
        "python-tag",
        "project: !!python/object/apply:os.system ['touch PWNED']\n",
        1,
        "!!python/object/apply:os.system is not allowed",
        None,
    ),
    ("python-name", "project: !!python/name:os.system\n", 1, "is not allowed", None),
    ("binary-tag", "project: !!binary aGVsbG8=\n", 1, "!!binary is not allowed", None),
    ("custom-tag", "project: !Ref x\n", 1, "!Ref is not allowed", None),
    ("alias-bomb", BOMB, 6, "f expands to more than 100000 values", None),
    (
        "missing-env",
        "project: x\nstore: ${MLOPS_TEST_SURELY_UNSET}/s\n",
        2,
        "MLOPS_TEST_SURELY_UNSET",
        None,
    ),
    ("not-a-mapping", "- a\n- b\n", 1, "top level must be a mapping", None),
    ("bad-project-name", "project: ../evil\n", 1, "project:", None),
    ("merge-conflict", "project: x\n<<<<<<< HEAD\nversion: 1\n", 3, "", None),
    (
        "gate-word",
        "project: x\nevaluate:\n  gate:\n    - roc_auc >= high\n",
        4,
        "cannot read rule 'roc_auc >= high'",
        None,
    ),
    (
        "window-word",
        "project: x\nmonitor:\n  window: fortnight\n",
        3,
        "monitor.window: window 'fortnight' is not hour, day, week, month",
        "mlops config schema",
    ),
    ("window-zero", "monitor:\n  window: 0 rows\n", 2, "a window of 0 rows", None),
    (
        "param-type",
        "project: x\ntrain:\n  params:\n    max_iter: ten\n",
        3,
        "params.max_iter must be integer",
        None,
    ),
]

# the cases the JSON Schema must reject too (the others are YAML-level: syntax, tags, ...)
SCHEMA_CASES = {
    "wrong-type",
    "wrong-type-nested",
    "yaml11-float",
    "yaml11-bool",
    "unknown-key",
    "unknown-top",
    "not-a-mapping",
    "bad-project-name",
    "gate-word",
    "window-word",
    "window-zero",
    "param-type",
}


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "mlops.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(("case", "text", "line", "fragment", "hint"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_in_process(tmp_path, monkeypatch, case, text, line, fragment, hint) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_TEST_SURELY_UNSET", raising=False)
    path = _write(tmp_path, text)
    start = time.monotonic()
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert time.monotonic() - start < 5  # the bomb is refused, not expanded
    message = info.value.message
    assert message.startswith(f"mlops.yaml:{line}:"), message
    assert fragment in message
    assert "\n" not in message
    if hint:
        assert hint in (info.value.hint or "")
    assert not (tmp_path / "PWNED").exists()


CLI_CASES = [
    b
    for b in BAD
    if b[0]
    in {
        "syntax",
        "wrong-type",
        "unknown-key",
        "duplicate",
        "python-tag",
        "alias-bomb",
        "missing-env",
        "window-word",
        "param-type",
    }
]


@pytest.mark.parametrize(
    ("case", "text", "line", "fragment", "hint"), CLI_CASES, ids=[b[0] for b in CLI_CASES]
)
def test_bad_config_cli(tmp_path, case, text, line, fragment, hint) -> None:
    _write(tmp_path, text)
    for args in (["config", "show"], ["--json", "config", "show"], ["ls"], ["add", "mlops.yaml"]):
        r = run_cli(*args, cwd=tmp_path)
        assert r.returncode == 2, (args, r.stderr)
        first = r.stderr.splitlines()[0]
        assert first.startswith(f"error: mlops.yaml:{line}:"), r.stderr
        assert fragment in first
        assert "Traceback" not in r.stderr
        if "--json" in args:  # the same error as a document on stdout
            doc = json.loads(r.stdout)
            assert doc["exit_code"] == 2 and doc["error"] == first.removeprefix("error: ")
        else:
            assert r.stdout == ""
        if hint:
            assert hint in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlops.yaml"]  # no .mlops, no PWNED


def test_config_error_names_the_file_found_from_a_subdirectory(tmp_path: Path) -> None:
    _write(tmp_path, "project: x\nversoin: 1\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    r = run_cli("config", "show", cwd=sub)
    assert r.returncode == 2
    assert f"{tmp_path / 'mlops.yaml'}:2:" in r.stderr
    assert "did you mean 'version'?" in r.stderr


def test_env_interpolation(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MLOPS_TEST_DIR", "/data/here")
    monkeypatch.delenv("MLOPS_TEST_UNSET", raising=False)
    path = _write(
        tmp_path,
        "project: p\ndata:\n  train: ${MLOPS_TEST_DIR}/train.csv\n"
        "  test: ${MLOPS_TEST_UNSET:-fallback.csv}\n",
    )
    cfg = load_config(path)
    assert cfg.model.data.train == ["/data/here/train.csv"]
    assert cfg.model.data.test == ["fallback.csv"]


def test_empty_config_gets_defaults(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, ""))
    assert cfg.model.version == 1
    assert default_store_path(cfg) == tmp_path / ".mlops"


def test_find_config_walks_up(tmp_path: Path) -> None:
    p = _write(tmp_path, "project: x\n")
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_config(deep) == p.resolve()


def test_store_location_precedence(tmp_path: Path, monkeypatch) -> None:
    cfg = load_config(_write(tmp_path, "project: x\nstore: elsewhere\n"))
    monkeypatch.delenv("MLOPS_STORE", raising=False)
    assert default_store_path(cfg) == tmp_path / "elsewhere"
    monkeypatch.setenv("MLOPS_STORE", str(tmp_path / "env"))
    assert default_store_path(cfg) == tmp_path / "env"
    assert default_store_path(cfg, str(tmp_path / "flag")) == tmp_path / "flag"


def test_config_show_json(tmp_path: Path) -> None:
    _write(tmp_path, "project: churn\ndata:\n  train: data/train.csv\n")
    r = run_cli("config", "show", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"path", "store", "config"}
    assert data["config"]["project"] == "churn"
    assert data["config"]["data"]["train"] == ["data/train.csv"]
    assert not (tmp_path / ".mlops").exists()


def test_non_utf8_and_huge_files(tmp_path: Path) -> None:
    p = tmp_path / "mlops.yaml"
    p.write_bytes(b"project: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(p)
    p.write_bytes(b"# " + b"x" * (6 * 1024 * 1024))
    with pytest.raises(ConfigError, match="too large"):
        load_config(p)


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, "a: &a [*a]\n")
    with pytest.raises(ConfigError):
        load_config(p)
