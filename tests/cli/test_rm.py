"""`mlops rm`: refused while an alias or another artifact needs it; gc then reclaims the bytes."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import invoke_cli as invoke
from mlops.store import Store


def _add(project: Path, name: str, size: int) -> dict:
    f = project / name
    f.write_bytes(bytes(range(256)) * (size // 256) + name.encode())
    r = invoke("--json", "add", str(f))
    assert r.exit_code == 0, r.stderr
    return r.json()["artifact"]


def _objects(project: Path) -> int:
    return sum(1 for p in (project / ".mlops" / "objects").rglob("*") if p.is_file())


def test_rm_then_gc_reclaims_the_bytes(project: Path) -> None:
    keep = _add(project, "keep.csv", 1000)
    big = _add(project, "big.bin", 1 << 20)
    assert big["name"] == "big.bin"
    before = _objects(project)
    r = invoke("rm", "big.bin")
    assert r.exit_code == 0, r.stderr
    assert "removed dataset/big.bin:1" in r.stdout and "mlops gc" in r.stdout
    assert invoke("show", "big.bin").exit_code == 2
    assert _objects(project) == before - 1  # the manifest; the file waits for gc
    gc = invoke("--json", "gc").json()
    assert gc["removed"] == 1 and gc["bytes"] == (1 << 20) + len(b"big.bin")
    assert invoke("--json", "fsck").json()["ok"]
    assert invoke("show", keep["id"][:10]).exit_code == 0


def test_rm_refuses_what_an_alias_or_lineage_needs(project: Path) -> None:
    base = _add(project, "base.csv", 500)
    with Store.open(project / ".mlops") as store:
        child = store.add_artifact(
            "model", "m", {"model.txt": b"x"}, parents=[base["id"]], command="test"
        )
        store.set_alias(child, "production")
    r = invoke("rm", "base.csv")
    assert r.exit_code == 1 and "refused" in r.stdout
    assert f"model/m:1 ({child.id[:12]}) was made from it" in r.stdout
    r = invoke("--json", "rm", "model/m")
    assert r.exit_code == 1
    assert r.json()["needed_by"] == ["alias model/m@production points at it"]
    assert r.json()["removed"] is False
    assert invoke("show", "model/m").exit_code == 0  # nothing was removed

    r = invoke("--json", "rm", "model/m", "--force")
    assert r.exit_code == 0 and r.json()["removed"] is True
    events = invoke("--json", "models", "history", "m").json()["events"]
    assert events[-1]["to"] is None and events[-1]["why"] == "mlops rm"
    assert invoke("rm", "base.csv").exit_code == 0  # its only dependent is gone
    assert invoke("--json", "fsck").json()["ok"]
    assert invoke("--json", "gc").json()["removed"] == 2
