"""The command line: global options, --json, exit codes, and the store and config commands."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import typer
from jsonschema import Draft202012Validator
from typer.main import get_command
from typer.testing import CliRunner

from helpers.cli import child_env, run_cli
from helpers.cli import invoke_cli as invoke
from mlops import __version__
from mlops.cli.app import MlopsGroup, app, hoist_global_options
from mlops.store import Store


def _all_commands() -> list[list[str]]:
    paths: list[list[str]] = [[]]

    def walk(cmd: object, prefix: list[str]) -> None:
        if isinstance(getattr(cmd, "commands", None), Mapping):  # the top level's loads lazily
            for name, sub in cmd.commands.items():
                paths.append([*prefix, name])
                walk(sub, [*prefix, name])

    walk(get_command(app), [])
    return paths


COMMANDS = _all_commands()


def test_registered_commands_include_the_foundation() -> None:
    names = {" ".join(p) for p in COMMANDS}
    expected = {"init", "add", "ls", "show", "cat", "export", "lineage", "gc", "fsck"}
    assert expected | {"config", "config show", "config schema"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "mlops")
def test_help_on_every_command(path: list[str]) -> None:
    r = invoke(*path, "--help")
    assert r.exit_code == 0, r.stderr
    assert "Usage: mlops" in r.stdout
    assert r.stderr == ""


def test_version(tmp_path: Path) -> None:
    r = invoke("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"mlops {__version__}"
    p = run_cli("--version", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout.strip() == f"mlops {__version__}"


def test_help_imports_no_heavy_libraries(tmp_path: Path) -> None:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['mlops', '--help']\n"
        "try:\n    runpy.run_module('mlops', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = {'pandas', 'numpy', 'sklearn', 'scipy', 'pydantic', 'matplotlib', 'pyarrow', 'yaml'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    import subprocess

    from helpers.cli import child_env

    p = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=child_env(), capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("given", "seen"),
    [
        ({}, "10000 None"),
        ({"GOMP_SPINCOUNT": "300000"}, "300000 None"),
        ({"OMP_WAIT_POLICY": "ACTIVE"}, "None ACTIVE"),
    ],
)
def test_openmp_threads_spin_briefly_unless_the_user_says(
    tmp_path: Path, given: dict[str, str], seen: str
) -> None:
    # set by the entry point before any command loads the OpenMP runtime; a user's value stays
    code = (
        "import os, sys, runpy\n"
        "sys.argv = ['mlops', '--version']\n"
        "try:\n    runpy.run_module('mlops', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))\n"
    )
    env: dict[str, str | None] = {"GOMP_SPINCOUNT": None, "OMP_WAIT_POLICY": None, **given}
    p = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=child_env(env),
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == seen


def test_hoisting_global_options() -> None:
    assert hoist_global_options(["ls", "--json", "--kind", "model"]) == [
        "--json",
        "ls",
        "--kind",
        "model",
    ]
    assert hoist_global_options(["add", "x", "--store", "s", "-q"]) == [
        "--store",
        "s",
        "-q",
        "add",
        "x",
    ]
    assert hoist_global_options(["cat", "--", "--json"]) == ["cat", "--", "--json"]


def _add(path: Path, *extra: str) -> dict:
    r = invoke("--json", "add", str(path), *extra)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_add_file_and_directory_and_readd(project: Path) -> None:
    f = project / "train.csv"
    f.write_text("a,b\n1,2\n")
    d = project / "batches"
    (d / "sub").mkdir(parents=True)
    (d / "one.csv").write_text("a\n1\n")
    (d / "sub" / "two.csv").write_text("a\n2\n")

    first = _add(f)
    assert set(first) == {"artifact", "stats"}
    assert first["stats"] == {"files": 1, "bytes": 8, "hashed": 1, "cached": 0}
    art = first["artifact"]
    assert {"id", "kind", "name", "version", "files", "metadata", "parents", "aliases"} <= set(art)
    assert (art["kind"], art["name"], art["version"]) == ("dataset", "train.csv", 1)

    again = _add(f)
    assert again["stats"]["cached"] == 1 and again["stats"]["hashed"] == 0
    assert again["artifact"]["id"] == art["id"] and again["artifact"]["version"] == 1

    r = invoke("add", str(f))  # human output says it was not re-hashed
    assert r.exit_code == 0 and "not re-hashed" in r.stdout

    tree = _add(d, "--name", "batches", "--kind", "raw")
    assert sorted(tree["artifact"]["files"]) == ["one.csv", "sub/two.csv"]
    assert tree["stats"]["files"] == 2

    f.write_text("a,b\n1,2\n3,4\n")
    changed = _add(f)
    assert changed["artifact"]["version"] == 2 and changed["stats"]["hashed"] == 1

    assert (project / ".mlops" / "catalog.sqlite").is_file()  # beside mlops.yaml

    r = invoke("--json", "ls")
    assert [a["name"] for a in json.loads(r.stdout)["artifacts"]] == [
        "train.csv",
        "batches",
        "train.csv",
    ]
    r = invoke("ls", "--json", "--kind", "raw")
    assert [a["name"] for a in json.loads(r.stdout)["artifacts"]] == ["batches"]
    r = invoke("ls", "--name", "train.csv", "--json")
    assert [a["version"] for a in json.loads(r.stdout)["artifacts"]] == [1, 2]
    r = invoke("ls")
    assert r.exit_code == 0 and "batches" in r.stdout

    r = invoke("--json", "show", "train.csv:1")
    assert json.loads(r.stdout)["id"] == art["id"]
    r = invoke("show", art["id"][:10])
    assert r.exit_code == 0 and art["id"] in r.stdout

    r = invoke("cat", "train.csv:1")
    assert r.exit_code == 0 and r.stdout == "a,b\n1,2\n"
    r = invoke("cat", "batches", "sub/two.csv")
    assert r.stdout == "a\n2\n"
    r = invoke("cat", "batches")
    assert r.exit_code == 2 and "say which one" in r.stderr

    out = project / "out"
    r = invoke("--json", "export", "raw/batches", str(out))
    assert r.exit_code == 0, r.stderr
    assert set(json.loads(r.stdout)) == {"artifact", "files"}
    assert (out / "sub" / "two.csv").read_text() == "a\n2\n"


def test_lineage_and_gc(project: Path) -> None:
    store = Store.open(project / ".mlops")
    raw = store.add_artifact("dataset", "raw", {"r.csv": b"1"})
    feats = store.add_artifact("dataset", "features", {"f.csv": b"2"}, parents=[raw.id])
    model = store.add_artifact("model", "clf", {"m.bin": b"3"}, parents=[feats.id])
    store.put_bytes(b"orphan bytes")
    store.close()

    r = invoke("--json", "lineage", "clf")
    tree = json.loads(r.stdout)
    assert tree["id"] == model.id
    assert tree["children"][0]["id"] == feats.id
    assert tree["children"][0]["children"][0]["id"] == raw.id
    r = invoke("lineage", "raw", "--down", "--json")
    tree = json.loads(r.stdout)
    assert tree["children"][0]["children"][0]["name"] == "clf"
    r = invoke("lineage", "clf")
    assert r.exit_code == 0 and "features" in r.stdout and "raw" in r.stdout

    r = invoke("--json", "gc", "--dry-run")
    result = json.loads(r.stdout)
    assert result["dry_run"] is True and result["removed"] == 1
    assert {"removed", "bytes", "kept", "tmp_removed", "removed_hashes"} <= set(result)
    r = invoke("gc", "--json")
    assert json.loads(r.stdout)["removed"] == 1
    r = invoke("--json", "gc")
    assert json.loads(r.stdout)["removed"] == 0
    r = invoke("--json", "fsck")
    assert r.exit_code == 0 and json.loads(r.stdout)["ok"] is True


def test_quiet(project: Path) -> None:
    (project / "x.csv").write_text("1\n")
    r = invoke("--quiet", "add", "x.csv")
    assert r.exit_code == 0 and r.stdout == "" and r.stderr == ""
    r = invoke("add", "x.csv", "-q")
    assert r.exit_code == 0 and r.stdout == ""
    r = invoke("-q", "show", "nothing-here")
    assert r.exit_code == 2 and "nothing-here" in r.stderr  # errors still print


def test_exit_codes(project: Path) -> None:
    assert invoke("no-such-command").exit_code == 2
    assert invoke("ls", "--no-such-option").exit_code == 2
    assert invoke("add", "missing.csv").exit_code == 2
    (project / "x.csv").write_text("1\n")
    invoke("add", "x.csv")
    r = invoke("show", "nope")
    assert r.exit_code == 2 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    r = invoke("show", "x.csv:9")
    assert r.exit_code == 2 and "no version 9" in r.stderr


def test_read_commands_do_not_create_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    for args in (["show", "x"], ["cat", "x"], ["fsck"], ["gc"], ["lineage", "x"]):
        r = invoke("--store", str(missing), *args)
        assert r.exit_code == 2, (args, r.stderr)
        assert "no store" in r.stderr
    r = invoke("--json", "--store", str(missing), "ls")
    assert r.exit_code == 2 and json.loads(r.stdout)["error"].startswith("no store at")
    assert not missing.exists()


def test_debug_shows_a_traceback(project: Path) -> None:
    p = run_cli("--debug", "show", "nope", cwd=project)
    assert p.returncode == 2
    assert "Traceback" in p.stderr and "error: " in p.stderr
    p = run_cli("show", "nope", cwd=project)
    assert "Traceback" not in p.stderr
    p = run_cli("show", "nope", "--debug", cwd=project)
    assert "Traceback" in p.stderr


def _crashing_app() -> typer.Typer:
    crash = typer.Typer(cls=MlopsGroup, pretty_exceptions_enable=False)

    @crash.callback()
    def main(
        ctx: typer.Context,
        debug: bool = typer.Option(False, "--debug"),
        json_: bool = typer.Option(False, "--json"),
    ) -> None:
        from mlops.cli.state import state_of

        state_of(ctx).debug, state_of(ctx).json = debug, json_

    @crash.command()
    def boom() -> None:
        raise RuntimeError("a bug")

    return crash


def test_internal_error_exits_70() -> None:
    r = CliRunner().invoke(_crashing_app(), ["boom"])
    assert r.exit_code == 70
    assert "internal error: RuntimeError: a bug" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    r = CliRunner().invoke(_crashing_app(), ["--debug", "boom"])
    assert r.exit_code == 70 and "Traceback" in r.stderr
    r = CliRunner().invoke(_crashing_app(), ["--json", "boom"])
    assert r.exit_code == 70
    assert json.loads(r.stdout)["error"] == "internal error: RuntimeError: a bug"


def test_json_only_json_on_stdout_in_a_real_process(project: Path) -> None:
    (project / "x.csv").write_text("1\n")
    for args in (
        ["--json", "add", "x.csv"],
        ["add", "x.csv", "--json"],
        ["ls", "--json"],
        ["--json", "show", "x.csv"],
        ["fsck", "--json"],
        ["--json", "gc", "--dry-run"],
        ["--json", "config", "show"],
        ["config", "schema", "--json"],
    ):
        p = run_cli(*args, cwd=project)
        assert p.returncode == 0, (args, p.stderr)
        json.loads(p.stdout)
        assert p.stderr == "", (args, p.stderr)


def test_store_option_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("1\n")
    r = invoke("--store", str(tmp_path / "flag"), "add", "x.csv")
    assert r.exit_code == 0 and (tmp_path / "flag" / "catalog.sqlite").exists()
    r = invoke("add", "x.csv", env={"MLOPS_STORE": str(tmp_path / "env")})
    assert r.exit_code == 0 and (tmp_path / "env" / "catalog.sqlite").exists()
    r = invoke("--json", "ls", env={"MLOPS_STORE": str(tmp_path / "env")})
    assert len(json.loads(r.stdout)["artifacts"]) == 1
    # no mlops.yaml anywhere: the store defaults to ./.mlops
    r = invoke("add", "x.csv")
    assert r.exit_code == 0 and (tmp_path / ".mlops").is_dir()


def test_config_found_from_a_subdirectory(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = project / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    r = invoke("--json", "config", "show")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert Path(data["path"]) == (project / "mlops.yaml").resolve()
    assert Path(data["store"]) == (project / ".mlops").resolve()
    (sub / "f.csv").write_text("1\n")
    assert invoke("add", "f.csv").exit_code == 0
    assert (project / ".mlops" / "catalog.sqlite").is_file()
    assert not (sub / ".mlops").exists()


def test_config_schema_is_valid_json_schema(project: Path) -> None:
    r = invoke("config", "schema")
    schema = json.loads(r.stdout)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    validator.validate({"project": "x", "data": {"train": ["a.csv"]}})
    validator.validate({"project": "x", "data": {"train": "a.csv"}})
    assert list(validator.iter_errors({"data": {"train": 5}}))
    assert list(validator.iter_errors({"projcet": "x"}))
    import yaml

    from mlops.examples import template_text

    for name in ("mlops.yaml", "churn.mlops.yaml"):
        validator.validate(yaml.safe_load(template_text(name)) or {})


def test_config_show_without_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = invoke("config", "show")
    assert r.exit_code == 2 and "no mlops.yaml" in r.stderr and "mlops init" in r.stderr


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".mlops" not in p.parts  # the store's id is random
    }


def test_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".gitignore").write_text("*.pyc\n/dist")  # the user's own, no final newline
    r = invoke("--json", "init")
    assert r.exit_code == 0 and json.loads(r.stdout) == {
        "config": "mlops.yaml",
        "gitignore": [".mlops/", "predictions/", "reports/"],
        "store": ".mlops",
    }
    assert (tmp_path / ".mlops" / "catalog.sqlite").is_file()
    assert invoke("ls").exit_code == 0  # the store init made
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[:2] == ["*.pyc", "/dist"] and lines[-3:] == [".mlops/", "predictions/", "reports/"]
    assert invoke("--json", "config", "show").exit_code == 0
    r = invoke("init")
    assert r.exit_code == 2 and "already exists" in r.stderr
    assert invoke("init", "--force").exit_code == 0


def test_init_example_is_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = invoke("--json", "init", "--example", "churn", "one")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"example", "directory", "files", "gitignore", "store"}
    assert (tmp_path / "one" / ".gitignore").read_text().splitlines()[1:] == [
        ".mlops/",
        "predictions/",
        "dist/",
        "reports/",
    ]
    assert invoke("init", "--example", "churn", "two").exit_code == 0
    assert invoke("init", "--example", "churn", "three", "--seed", "8").exit_code == 0
    one, two, three = (_digests(tmp_path / d) for d in ("one", "two", "three"))
    assert one == two
    assert "data/train.csv" in one and len(one) >= 6
    assert one["data/train.csv"] != three["data/train.csv"]
    monkeypatch.chdir(tmp_path / "one")
    r = invoke("--json", "config", "show")
    assert r.exit_code == 0, r.stderr
    r = invoke("init", "--example", "nope", str(tmp_path / "x"))
    assert r.exit_code == 2 and "churn" in r.stderr
    assert invoke("init", "--example", "churn", str(tmp_path / "one")).exit_code == 2


def test_json_is_one_line_per_run_when_piped(project: Path) -> None:
    """`mlops --json X >> log.jsonl` from cron appends one parseable line per run."""
    (project / "x.csv").write_text("1\n")
    log = project / "log.jsonl"
    for args in (["add", "x.csv"], ["ls"], ["fsck"]):
        p = run_cli("--json", *args, cwd=project)
        assert p.returncode == 0, p.stderr
        assert p.stdout.count("\n") == 1 and p.stdout.endswith("\n")
        with log.open("a") as f:
            f.write(p.stdout)
    docs = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(docs) == 3 and "artifacts" in docs[1]


def test_json_is_indented_on_a_terminal(project: Path) -> None:
    import pty

    Store.open(project / ".mlops").close()
    primary, secondary = pty.openpty()
    p = subprocess.run(
        [sys.executable, "-m", "mlops", "--json", "ls"],
        cwd=project,
        env=child_env(),
        stdout=secondary,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    os.close(secondary)
    text = os.read(primary, 65536).decode()
    os.close(primary)
    assert p.returncode == 0
    assert json.loads(text) == {"artifacts": []} and "\n  " in text


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--json", "no-such-command"], 2, "No such command"),
        (["ls", "--json", "--no-such-option"], 2, "No such option"),
        (["--json", "show", "nope"], 2, "nope"),
        (["--json", "--store", "typo", "fsck"], 2, "no store"),
        (["--json", "--config", "missing.yaml", "validate"], 2, "missing.yaml"),
    ],
)
def test_errors_answer_json_on_stdout(
    project: Path, args: list[str], code: int, words: str
) -> None:
    (project / "x.csv").write_text("1\n")
    assert invoke("add", "x.csv").exit_code == 0
    p = run_cli(*args, cwd=project)
    assert p.returncode == code, p.stderr
    doc = json.loads(p.stdout)
    assert set(doc) == {"error", "hint", "exit_code"} and doc["exit_code"] == code
    assert words in doc["error"]
    assert words in p.stderr and "Traceback" not in p.stderr  # stderr keeps the sentence


def test_errors_without_json_leave_stdout_empty(project: Path) -> None:
    (project / "x.csv").write_text("1\n")
    assert invoke("add", "x.csv").exit_code == 0
    p = run_cli("show", "nope", cwd=project)
    assert p.returncode == 2 and p.stdout == "" and "nope" in p.stderr
