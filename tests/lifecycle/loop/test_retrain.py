"""`mlops retrain`: triggers, promotion, refusal, lineage and the retrain lock."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.cli import child_env, run_cli
from mlops.config import load_config
from mlops.errors import LockedError
from mlops.lifecycle.loop import NO_RETRAIN, PROMOTED, RetrainLocked, retrain, run_pipeline
from mlops.store import Store


def batch(project: Path, rel: str) -> Path:
    return project / rel


@pytest.fixture
def trained(project: Path) -> Path:
    config = load_config(project / "mlops.yaml")
    with Store.open(project / ".mlops") as store:
        result = run_pipeline(config, store, stages=["evaluate"])
        assert result.passed, result.to_dict()
        assert store.get_alias("model", "churn", "production")
    return project


def test_no_trigger_keeps_champion_and_dry_run_changes_nothing(trained: Path):
    config = load_config(trained / "mlops.yaml")
    with Store.open(trained / ".mlops") as store:
        champ = store.get_alias("model", "churn", "production")
        quiet = retrain(config, store, [str(batch(trained, "data/batches/2026-02.csv"))])
        assert quiet.decision == NO_RETRAIN and quiet.exit_code == 0
        dry = retrain(
            config,
            store,
            [str(batch(trained, "data/batches/2026-05.csv"))],
            force=True,
            dry_run=True,
        )
        assert dry.decision == "dry-run"
        assert dry.training_set["files"] == [
            "data/train.csv",
            "data/batches/2026-04.csv",
            "data/batches/2026-05.csv",
        ]
        assert "--force" in dry.reasons
        assert store.get_alias("model", "churn", "production") == champ
        assert len(store.list_rows(kind="model")) == 1


def test_drift_retrains_promotes_and_links_every_step(trained: Path):
    config = load_config(trained / "mlops.yaml")
    with Store.open(trained / ".mlops") as store:
        champ = store.get_alias("model", "churn", "production")
        r = retrain(config, store, [str(batch(trained, "data/batches/2026-05.csv"))], force=True)
        assert r.decision == PROMOTED, r.why  # May's drift: the candidate beats January's model
        assert r.reasons and r.candidate and r.evaluation_id and r.record_id
        record = store.get(r.record_id)
        assert set(store.parents(record.id)) >= {
            r.monitor["report_id"],
            r.candidate["id"],
            r.evaluation_id,
            champ,
        }
        model_parents = store.parents(r.candidate["id"])
        assert store.parents(model_parents[0]) == [r.monitor["report_id"]]
        assert store.get_alias("model", "churn", "production") == r.candidate["id"]
        move = store.alias_history("model", "churn", "production")[-1]
        assert move["from_id"] == champ and move["to_id"] == r.candidate["id"]
        assert r.run_id[:12] in move["why"]


def test_worse_candidate_is_not_promoted_and_says_why(trained: Path):
    cfg = trained / "mlops.yaml"
    cfg.write_text(
        cfg.read_text()
        .replace("sklearn.linear_model.LogisticRegression", "sklearn.dummy.DummyClassifier")
        .replace("params: {C: 1.0, max_iter: 300}", "params: {strategy: prior}")
    )
    p = run_cli("retrain", "data/batches/2026-05.csv", "--force", "--json", cwd=trained)
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)
    assert data["decision"] == "kept"
    assert "beats @production on recent data" in data["why"]
    assert data["comparison"]["candidate"] < data["comparison"]["champion"]
    with Store.open(trained / ".mlops") as store:
        assert store.get_alias("model", "churn", "production") == data["champion"]["id"]
        assert store.get(data["record_id"]).metadata["decision"] == "kept"
    human = run_cli("retrain", "data/batches/2026-05.csv", "--force", cwd=trained)
    assert human.returncode == 1
    assert "kept the champion" in human.stdout


def test_two_retrains_at_once_promote_at_most_once(trained: Path):
    args = [
        sys.executable,
        "-m",
        "mlops",
        "retrain",
        "data/batches/2026-05.csv",
        "--force",
        "--json",
    ]
    procs = [
        subprocess.Popen(
            args,
            cwd=trained,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    docs = [json.loads(o) for o, _ in outs]  # --json: a result, or an error document
    # one promotes; the other found the lock taken, or ran after it and could not beat its
    # own twin (trained on the same rows): either way it exits 1 and moves nothing
    outcomes = sorted(d.get("decision") or d["error"].split(" (")[0] for d in docs)
    assert outcomes in (
        ["another retrain is running on this store", "promoted"],
        ["kept", "promoted"],
    ), docs
    assert sorted(codes) == [0, 1]
    with Store.open(trained / ".mlops") as store:
        moves = [
            m
            for m in store.alias_history("model", "churn", "production")
            if "retrain" in (m["why"] or "")
        ]
        assert len(moves) == 1


def test_locked_retrain_exit_code_is_configurable_and_a_killed_holder_leaves_no_lock(trained: Path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from mlops.store import Store\n"
            "s = Store.open(sys.argv[1])\n"
            "with s.lock('retrain'):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(60)\n",
            str(trained / ".mlops"),
        ],
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        cfg = trained / "mlops.yaml"
        cfg.write_text(cfg.read_text() + "  locked_exit_code: 75\n")
        config = load_config(cfg)
        with Store.open(trained / ".mlops") as store, pytest.raises(RetrainLocked) as info:
            retrain(config, store, [str(batch(trained, "data/batches/2026-02.csv"))])
        assert info.value.exit_code == 75
        assert f"pid {holder.pid}" in info.value.message
        p = run_cli("retrain", "data/batches/2026-02.csv", cwd=trained)
        assert p.returncode == 75
        assert "another retrain is running" in p.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    time.sleep(0.1)
    with Store.open(trained / ".mlops") as store:
        try:
            with store.lock("retrain"):
                pass
        except LockedError:  # pragma: no cover - the assertion below reports it
            pytest.fail("a killed retrain left its lock behind")
