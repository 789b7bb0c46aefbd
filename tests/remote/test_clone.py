"""`mlops clone`: a new machine gets a working project from a remote; blobs come on demand."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import invoke_cli
from helpers.remote import fsck_ok, train
from mlops.remote.remotes import Remote
from mlops.remote.site import Site
from mlops.store import Store

CONFIG = "project: churn\nremote:\n  default: origin\n  remotes:\n    origin:\n      url: {url}\n"


def _pushed_project(tmp_path: Path, url: str) -> tuple[Path, str]:
    project = tmp_path / "ci"
    project.mkdir()
    (project / "mlops.yaml").write_text(CONFIG.format(url=url))
    model = train(project / ".mlops", b"MODEL", promote="production")
    res = invoke_cli("--json", "push", cwd=project)
    assert res.exit_code == 0, res.stderr
    assert res.json()["config_pushed"] is True
    return project, model.id


def test_clone_fetches_the_catalog_and_files_come_on_demand(
    tmp_path: Path, remote_url: str
) -> None:
    project, model_id = _pushed_project(tmp_path, remote_url)
    res = invoke_cli("--json", "clone", remote_url, "laptop", cwd=tmp_path)
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert doc["config"] == "remote" and doc["fetched"]["artifacts_fetched"] == 2
    assert doc["fetched"]["blobs_downloaded"] == 0
    laptop = tmp_path / "laptop"
    assert (laptop / "mlops.yaml").read_bytes() == (project / "mlops.yaml").read_bytes()
    assert fsck_ok(laptop / ".mlops")["remote_only"] == 2

    res = invoke_cli("cat", "churn@production", "model.pkl", cwd=laptop)  # brought on demand
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "MODEL"
    assert fsck_ok(laptop / ".mlops")["remote_only"] == 1
    with Store.open(laptop / ".mlops", create=False) as store:
        assert store.resolve("churn@production").id == model_id


def test_a_file_only_on_the_remote_without_a_remote_names_the_pull(tmp_path: Path) -> None:
    url = (tmp_path / "remote").as_uri()
    _pushed_project(tmp_path, url)
    res = invoke_cli("clone", url, str(tmp_path / "b"), "--mlops-yaml", str(tmp_path / "x.yaml"))
    assert res.exit_code == 2 and "x.yaml" in res.stderr
    assert not (tmp_path / "b").exists()
    assert invoke_cli("clone", url, str(tmp_path / "b")).exit_code == 0
    store = tmp_path / "b" / ".mlops"
    assert invoke_cli("--store", str(store), "remote", "remove", "origin").exit_code == 0
    (tmp_path / "b" / "mlops.yaml").write_text("project: churn\n")  # no remote anywhere
    res = invoke_cli("cat", "churn@production", "model.pkl", cwd=tmp_path / "b")
    assert res.exit_code == 2, res.stderr
    assert "fetched but not pulled" in res.stderr and "mlops pull churn:1" in res.stderr
    assert "Traceback" not in res.stderr


def test_clone_all_and_refusals(tmp_path: Path) -> None:
    url = (tmp_path / "remote").as_uri()
    _pushed_project(tmp_path, url)
    res = invoke_cli("--json", "clone", url, str(tmp_path / "full"), "--all")
    assert res.exit_code == 0 and res.json()["fetched"]["blobs_downloaded"] == 2, res.stderr
    assert fsck_ok(tmp_path / "full" / ".mlops")["remote_only"] == 0

    res = invoke_cli("clone", url, str(tmp_path / "full"))
    assert res.exit_code == 2 and "not an empty directory" in res.stderr
    empty = (tmp_path / "empty").as_uri()
    res = invoke_cli("clone", empty, str(tmp_path / "c"))
    assert res.exit_code == 2 and "holds no store" in res.stderr
    assert not (tmp_path / "c").exists()


def test_a_tampered_blob_brought_on_demand_exits_3(tmp_path: Path) -> None:
    url = (tmp_path / "remote").as_uri()
    _pushed_project(tmp_path, url)
    assert invoke_cli("clone", url, str(tmp_path / "b")).exit_code == 0
    site = Site(Remote("origin", url))
    with Store.open(tmp_path / "b" / ".mlops", create=False) as store:
        digest = store.resolve("churn@production").files["model.pkl"].hash
    site.fs.pipe_file(site.objects.key_for(digest), b"EVIL")
    res = invoke_cli("cat", "churn@production", "model.pkl", cwd=tmp_path / "b")
    assert res.exit_code == 3 and "damaged" in res.stderr and res.stdout == ""
