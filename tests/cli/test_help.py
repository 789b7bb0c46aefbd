"""Help text as people read it: plain metavars, an example under every command, and
`mlops monitor --help` showing the options of `monitor run`."""

from __future__ import annotations

import re

import pytest
from test_app import COMMANDS

from helpers.cli import invoke_cli as invoke
from helpers.cli import run_cli

GROUPS = {"", "config", "runs", "models", "remote"}


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "mlops")
def test_help_reads_plainly(path: list[str]) -> None:
    r = invoke(*path, "--help")
    assert r.exit_code == 0, r.stderr
    text = r.stdout
    assert not re.search(r"<[a-z]|\{[a-z]|\[\[|\]\.\.\.\]", text), (
        text
    )  # <path>, {name}, [[DATA]...]
    if " ".join(path) not in GROUPS:
        assert re.search(r"Example:\n +mlops ", text), text
        assert "--json" in text and "--quiet" in text


def test_monitor_help_shows_the_run_options() -> None:
    text = run_cli("monitor", "--help").stdout
    for option in ("--fail-on LEVEL", "--window WINDOW", "--html PATH", "--model REF"):
        assert option in text, text
    assert "`mlops monitor history`" in " ".join(text.split())  # the other subcommand


def test_arguments_read_as_words() -> None:
    assert invoke("monitor", "run", "--help").stdout.startswith(
        "Usage: mlops monitor run [OPTIONS] [DATA...]"
    )
    assert invoke("cat", "--help").stdout.startswith("Usage: mlops cat [OPTIONS] REF [PATH]")
    assert invoke("runs", "compare", "--help").stdout.startswith(
        "Usage: mlops runs compare [OPTIONS] RUNS..."
    )
    r = invoke("cat")
    assert r.exit_code == 2 and "Missing argument 'REF'" in r.stderr
