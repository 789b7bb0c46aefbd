"""Listings in pipes: full values, one row per line, TSV by default; --format to choose."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from helpers.cli import invoke_cli as invoke
from helpers.cli import run_cli

LONG = "churn-train-" + "x" * 100  # longer than any terminal column


def _store_with_two(project: Path) -> list[dict]:
    (project / "a.csv").write_text("a,b\n1,2\n")
    (project / "b.csv").write_text("a,b\n3,4\n")
    ids = []
    for f, name in (("a.csv", LONG), ("b.csv", "other")):
        r = invoke("--json", "add", f, "--name", name)
        assert r.exit_code == 0, r.stderr
        ids.append(r.json()["artifact"])
    return ids


def test_ls_in_a_pipe_prints_full_values_tab_separated(project: Path) -> None:
    arts = _store_with_two(project)
    r = run_cli("ls", cwd=project)  # a real process whose stdout is a pipe
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split("\t") == [
        "id", "kind", "name", "version", "aliases", "files", "size", "created"
    ]  # fmt: skip
    assert len(lines) == 3  # one line per artifact, no wrapping
    hits = [line for line in lines if "churn-train" in line]  # `mlops ls | grep churn-train`
    assert len(hits) == 1
    cells = hits[0].split("\t")
    assert cells[0] == arts[0]["id"] and cells[2] == LONG and cells[6] == "8"
    assert "…" not in r.stdout


def test_format_csv_json_and_table(project: Path) -> None:
    arts = _store_with_two(project)
    rows = list(csv.DictReader(io.StringIO(invoke("ls", "--format", "csv").stdout)))
    assert [row["name"] for row in rows] == [LONG, "other"]
    assert [row["id"] for row in rows] == [a["id"] for a in arts]
    as_json = invoke("ls", "--format", "json")
    assert as_json.exit_code == 0 and as_json.json() == invoke("--json", "ls").json()
    table = invoke("--format", "table", "ls", env={"COLUMNS": "100"})
    assert "\t" not in table.stdout and arts[0]["id"] not in table.stdout
    assert arts[0]["id"][:8] in table.stdout


def test_other_listings_are_tsv_in_a_pipe(project: Path) -> None:
    _store_with_two(project)
    for args, header in (
        (("runs", "ls"), "run\tstep"),
        (("models", "ls"), "name\tversions"),
        (("monitor", "history"), "when (UTC)\treport"),
    ):
        r = invoke(*args)
        assert r.exit_code == 0, r.stderr
        assert r.stdout.splitlines()[0].startswith(header), (args, r.stdout)


def test_bad_format_is_a_usage_error(project: Path) -> None:
    r = invoke("ls", "--format", "xml")
    assert r.exit_code == 2 and "table, tsv, csv, json" in r.stderr
    r = invoke("ls", "--format", "xml", "--json")
    assert r.exit_code == 2 and json.loads(r.stdout)["exit_code"] == 2


def test_a_terminal_gets_the_table(project: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    from helpers.cli import child_env

    arts = _store_with_two(project)
    primary, secondary = pty.openpty()
    p = subprocess.run(
        [sys.executable, "-m", "mlops", "ls"],
        cwd=project,
        env=child_env({"COLUMNS": "120"}),
        stdout=secondary,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    os.close(secondary)
    text = os.read(primary, 65536).decode()
    os.close(primary)
    assert p.returncode == 0, p.stderr
    assert "\t" not in text and arts[1]["id"][:8] in text and arts[1]["id"] not in text
