"""Reading commands on a path that is not a store: exit 2 naming it, and nothing is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.cli import invoke_cli as invoke

READERS = [
    ["ls"],
    ["show", "x"],
    ["cat", "x"],
    ["export", "x", "out"],
    ["lineage", "x"],
    ["rm", "x"],
    ["gc"],
    ["fsck"],
    ["runs", "ls"],
    ["runs", "show", "x"],
    ["runs", "compare", "a", "b"],
    ["models", "ls"],
    ["models", "show", "x"],
    ["models", "history", "x"],
    ["monitor", "history"],
]


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_typo_in_store_is_exit_2(project: Path, args: list[str]) -> None:
    typo = project / "typo"
    r = invoke("--store", str(typo), *args)
    assert r.exit_code == 2, r.stdout
    assert f"no store at {typo}" in r.stderr and "mlops init" in r.stderr
    assert not typo.exists()


@pytest.mark.parametrize("args", READERS[:3] + READERS[8:9], ids=" ".join)
def test_a_directory_that_is_not_a_store_is_exit_2_and_left_alone(
    project: Path, args: list[str]
) -> None:
    other = project / "other"
    (other / "sub").mkdir(parents=True)
    r = invoke("--json", "--store", str(other), *args)
    assert r.exit_code == 2
    assert r.json()["error"] == f"{other} is not an mlops store (it has no catalog.sqlite)"
    assert sorted(p.name for p in other.iterdir()) == ["sub"]


def test_the_default_store_of_a_new_project(project: Path) -> None:
    r = invoke("ls")  # mlops.yaml, but no command has made the store yet
    assert r.exit_code == 2 and "no store at" in r.stderr
    assert invoke("init", str(project / "p")).exit_code == 0
    r = invoke("--config", str(project / "p" / "mlops.yaml"), "--json", "ls")
    assert r.exit_code == 0 and r.json() == {"artifacts": []}
