"""A name shared by several kinds: the model wins where a model is expected; elsewhere the
error lists the exact ref to type for each kind."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import invoke_cli as invoke
from mlops.store import Store


def _shared(project: Path) -> dict[str, str]:
    ids = {}
    for kind in ("dataset", "model", "report"):
        f = project / f"{kind}.txt"
        f.write_text(f"{kind}\n")
        r = invoke("--json", "add", str(f), "--name", "churn", "--kind", kind)
        assert r.exit_code == 0, r.stderr
        ids[kind] = r.json()["artifact"]["id"]
    return ids


def test_a_shared_name_lists_the_refs_to_type(project: Path) -> None:
    _shared(project)
    for command in ("show", "cat", "lineage", "export"):
        args = [command, "churn"] + (["out"] if command == "export" else [])
        r = invoke(*args)
        assert r.exit_code == 2, (command, r.stdout)
        assert "3 kinds (model, dataset, report)" in r.stderr
        refs = [line.split()[0] for line in r.stderr.splitlines() if line.startswith("  ")]
        assert refs == ["model/churn", "dataset/churn", "report/churn"]
        for ref in refs:  # each listed ref works as typed
            assert invoke("show", ref).exit_code == 0
    r = invoke("--json", "show", "churn:1")
    assert r.exit_code == 2 and "model/churn:1" in r.json()["hint"]


def test_an_alias_held_by_one_kind_picks_that_kind(project: Path) -> None:
    ids = _shared(project)
    with Store.open(project / ".mlops") as store:
        store.set_alias(store.get(ids["model"]), "production")
    r = invoke("--json", "show", "churn@production")
    assert r.exit_code == 0, r.stderr
    assert r.json()["id"] == ids["model"]
    assert invoke("lineage", "churn@production").exit_code == 0
