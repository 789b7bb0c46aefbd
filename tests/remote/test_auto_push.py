"""`remote.auto_push` / --push: evaluate --promote and retrain push the model and the alias move
once they succeeded; a failed push is a warning (exit 0), a refused move exits 1."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import Cli
from helpers.projects import CONFIG, write_project
from helpers.store import assert_alias_chains
from mlops.store import Store

REMOTE = (
    "remote:\n  default: origin\n  auto_push: true\n  remotes:\n    origin:\n      url: {url}\n"
)


def _project(root: Path, url: str) -> Cli:
    root.mkdir()
    write_project(root, config=CONFIG + REMOTE.format(url=url))
    cli = Cli(root)
    cli("train")
    return cli


def test_promotion_is_pushed_and_a_cron_host_sees_it(tmp_path: Path, remote_url: str) -> None:
    ci = _project(tmp_path / "ci", remote_url)
    doc = ci.json("evaluate", "--promote", "production")
    assert doc["promotion"]["moved"] and doc["push"]["ok"], doc
    assert doc["push"]["pushed"]["alias_moves_pushed"] == 1

    cron = Cli(tmp_path)
    cron("clone", remote_url, "cron")
    res = Cli(tmp_path / "cron").json("models", "show", "churn@production")
    assert res["id"] == doc["model"]["id"]


def test_a_failed_push_is_a_warning_and_the_step_stands(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("x")
    ci = _project(tmp_path / "ci", (tmp_path / "not-a-dir" / "remote").as_uri())
    res = ci("--json", "evaluate", "--promote", "production", code=0)
    assert "the push failed" in res.stderr and "run `mlops push`" in res.stderr
    assert res.json()["push"]["ok"] is False
    with Store.open(tmp_path / "ci" / ".mlops", create=False) as store:
        assert store.get_alias("model", "churn", "production") == res.json()["model"]["id"]
    res = ci("--json", "evaluate", "--promote", "production", "--no-push")
    assert "push" not in res.json()


def test_a_promotion_the_remote_refuses_exits_1_and_follows_the_remote(
    tmp_path: Path, remote_url: str
) -> None:
    a = _project(tmp_path / "a", remote_url)
    b = _project(tmp_path / "b", remote_url)
    won = b.json("evaluate", "--promote", "production")
    assert won["push"]["ok"] and not won["push"]["refused"]
    res = a("--json", "evaluate", "--promote", "production", code=1)
    doc = res.json()
    assert doc["passed"] and doc["push"]["refused"], doc
    assert "moved on the remote by another machine" in res.stderr
    with Store.open(tmp_path / "a" / ".mlops", create=False) as store:
        assert store.get_alias("model", "churn", "production") == won["model"]["id"]
        assert_alias_chains(store)


def test_retrain_pushes_its_record_and_any_promotion(tmp_path: Path) -> None:
    url = (tmp_path / "remote").as_uri()
    ci = _project(tmp_path / "ci", url)
    ci.json("evaluate", "--promote", "production")
    res = ci("--json", "retrain", "--force", code=None)
    doc = res.json()
    assert res.returncode == doc["exit_code"] in (0, 1), res.stderr
    assert doc["push"]["ok"], doc["push"]
    cron = tmp_path / "cron"
    Cli(tmp_path)("clone", url, str(cron))
    with Store.open(cron / ".mlops", create=False) as store:
        assert store.has(doc["record_id"])  # the decision and its monitoring report travel
        assert store.get_alias("model", "churn", "production") == (
            doc["candidate"]["id"] if doc["decision"] == "promoted" else doc["champion"]["id"]
        )


def test_run_push_sends_what_the_run_made_and_its_promotion(
    tmp_path: Path, remote_url: str
) -> None:
    root = tmp_path / "ci"
    root.mkdir()
    write_project(root, config=CONFIG + REMOTE.format(url=remote_url).replace("true", "false"))
    ci = Cli(root)
    doc = ci.json("run", "--push")
    assert doc["passed"] and doc["push"]["ok"], doc
    made = {k: v for s in doc["stages"] for k, v in s["outputs"].items() if k == "model"}
    cron = Cli(tmp_path)
    cron("clone", remote_url, "cron")
    shown = Cli(tmp_path / "cron").json("models", "show", "churn@production")
    assert shown["id"] == made["model"]
    assert "push" not in ci.json("run")  # auto_push is off: no push without --push
