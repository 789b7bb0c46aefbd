"""Two stores in tmp_path act as two machines sharing one remote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.cli import invoke_cli
from mlops.store import Artifact, Store


def machine(tmp_path: Path, name: str, url: str) -> Path:
    root = tmp_path / name
    res = invoke_cli("--store", str(root), "remote", "add", "origin", url, "--default")
    assert res.exit_code == 0, res.stderr
    return root


def mlops(root: Path, *args: str) -> Any:
    """Run a command against a store with --json; returns (exit code, parsed stdout, stderr)."""
    res = invoke_cli("--store", str(root), "--json", *args)
    doc = json.loads(res.stdout) if res.stdout.strip() else None
    return res.exit_code, doc, res.stderr


def train(
    root: Path, model: bytes, data: bytes = b"a,b\n1,2\n", promote: str | None = None
) -> Artifact:
    """A dataset and a model made from it (as train does), optionally promoted."""
    with Store.open(root) as store:
        d = store.add_artifact("dataset", "churn-data", {"train.csv": data})
        m = store.add_artifact("model", "churn", {"model.pkl": model}, parents=[d.id])
        if promote:
            store.set_alias(m, promote, expect_from=store.get_alias("model", "churn", promote))
        return m


def fsck_ok(root: Path) -> dict[str, Any]:
    from mlops.store.maintenance import fsck

    with Store.open(root, create=False) as store:
        result = fsck(store).to_dict()
    assert result["ok"], result["problems"]
    return result
