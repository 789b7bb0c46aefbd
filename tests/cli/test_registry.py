"""Command modules load lazily: `mlops --help` lists every command from cli/registry.py without
importing a command module, and running a command imports its own module only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cli import child_env, invoke_cli
from mlops.cli.registry import COMMANDS, load_module

MODULES = sorted({module for module, _ in COMMANDS.values()})


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").split("\n\n")[0].split())


@pytest.mark.parametrize("module", MODULES)
def test_the_registry_names_each_command_of_a_module_with_its_help(module: str) -> None:
    listed = {name: help_ for name, (owner, help_) in COMMANDS.items() if owner == module}
    defined = {name: _first_paragraph(cmd.help) for name, cmd in load_module(module).items()}
    assert listed == defined


def test_the_registry_lists_commands_before_groups() -> None:
    groups = {
        name
        for module in MODULES
        for name, cmd in load_module(module).items()
        if hasattr(cmd, "commands")
    }
    kinds = [name in groups for name in COMMANDS]
    assert kinds == sorted(kinds), "commands first, then groups, as --help has always listed them"


def test_help_lists_every_command_with_its_short_help() -> None:
    result = invoke_cli("--help", env={"COLUMNS": "400"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("Commands:\n", 1)[1].splitlines()
    rows = [line.split(None, 1) for line in lines if line.strip()]
    assert [name for name, _ in rows] == list(COMMANDS)
    for name, shown in rows:  # a wide terminal shows the first sentence whole
        assert COMMANDS[name][1].startswith(shown.rstrip(".") if shown.endswith("...") else shown)


def _command_modules_after(tmp_path: Path, *args: str) -> list[str]:
    code = (
        "import json, sys, runpy\n"
        f"sys.argv = ['mlops', *{list(args)!r}]\n"
        "try:\n    runpy.run_module('mlops', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[-1] in {MODULES!r})))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=child_env(), capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr
    return list(json.loads(p.stdout.strip().splitlines()[-1]))


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    assert _command_modules_after(tmp_path, "--help") == []


@pytest.mark.parametrize(
    ("args", "module"),
    [(["train", "--help"], "train_cmds"), (["models", "ls", "--help"], "models_cmds")],
)
def test_a_command_imports_its_own_module_only(
    tmp_path: Path, args: list[str], module: str
) -> None:
    assert _command_modules_after(tmp_path, *args) == [f"mlops.cli.{module}"]


def test_a_mistyped_command_is_still_matched_against_every_command() -> None:
    result = invoke_cli("trian")
    assert result.returncode == 2
    assert "No such command 'trian'. Did you mean 'train', 'retrain'?" in result.stderr
