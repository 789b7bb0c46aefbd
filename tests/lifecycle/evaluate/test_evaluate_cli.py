"""`mlops evaluate` end to end in process: the gate, promotion, JUnit, the model registry
commands, a tampered model, version skew, --data."""

from __future__ import annotations

import pickle
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from helpers.cli import Cli

LR = {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"max_iter": 3000}}

CASES = {
    "breast_cancer": (
        {"target": "target", **LR},
        ["roc_auc >= 0.95", {"metric": "roc_auc", "against": "production", "max_drop": 0.01}],
        "roc_auc >= 0.9999",
        "roc_auc",
    ),
    "wine": (
        {"target": "target", **LR, "cv": 3},
        ["f1 >= 0.9", {"metric": "f1", "against": "production", "max_drop": 0.02}],
        "log_loss <= 0.00001",
        "f1",
    ),
    "diabetes": (
        {"target": "target", "estimator": "sklearn.linear_model.Ridge", "params": {"alpha": 0.5}},
        ["r2 >= 0.3", {"metric": "rmse", "against": "production", "max_drop": 1.0}],
        "rmse <= 10",
        "r2",
    ),
}


@pytest.mark.parametrize("dataset", sorted(CASES))
def test_train_gate_promote_end_to_end(make_project, dataset, tmp_path):
    train_cfg, rules, impossible, metric = CASES[dataset]
    cli: Cli = make_project(dataset, {"train": train_cfg, "evaluate": {"gate": rules}})
    name = dataset.replace("_", "-")

    trained = cli.json("train")
    assert trained["model"]["label"] == f"{name}:1"
    assert trained["metrics"][metric] is not None

    junit = tmp_path / f"{dataset}.xml"
    ev = cli.json("evaluate", "--promote", "production", "--junit", str(junit))
    assert ev["passed"] and ev["promotion"]["moved"]
    assert [r["verdict"] for r in ev["rules"]] == ["pass", "pass"]
    assert "no model holds @production yet" in ev["rules"][1]["detail"]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "0"

    # a second version is compared with the champion on the same holdout and promoted
    cli.json("train")
    ev2 = cli.json("evaluate", "--promote", "production")
    assert ev2["rules"][1]["extra"]["champion"]["label"] == f"{name}:1"
    assert ev2["passed"] and ev2["promotion"]["moved"]

    models = cli.json("models", "ls")["models"]
    assert models[0]["aliases"]["production"]["version"] == 2

    # an impossible rule fails the gate: exit 1, the alias stays, JUnit shows the failure
    (cli.cwd / "mlops.yaml").write_text(
        (cli.cwd / "mlops.yaml").read_text().replace("gate:\n", f"gate:\n  - {impossible}\n", 1)
    )
    cli.json("train")
    failed = cli.json("evaluate", "--promote", "production", "--junit", str(junit), code=1)
    assert not failed["passed"] and not failed["promotion"]["moved"]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "1"
    assert suite.find("testcase/failure") is not None
    assert cli.json("models", "ls")["models"][0]["aliases"]["production"]["version"] == 2

    human = cli("evaluate", code=1)
    assert "FAIL" in human.stdout and "gate failed" in human.stdout

    hist = cli.json("models", "history", name)["events"]
    assert [e["to"]["label"] for e in hist] == [f"{name}:1", f"{name}:2"]
    assert all(e["who"] == "tester" and e["why"].startswith("gate passed") for e in hist)

    rolled = cli.json("models", "rollback", name, "--alias", "production")
    assert rolled["to"]["label"] == f"{name}:1"
    promoted = cli.json("models", "promote", name, "3", "--alias", "production", "--why", "hotfix")
    assert promoted["moved"] and promoted["previous"]["label"] == f"{name}:1"
    shown = cli.json("models", "show", name)
    assert [v["version"] for v in shown["versions"]] == [1, 2, 3]
    assert shown["aliases"]["production"] == shown["versions"][2]["id"]
    one = cli.json("models", "show", f"{name}@production")
    assert one["version"] == 3 and "model.joblib" in one["files"]


class _Marker:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_tampered_model_exits_3_and_nothing_runs(make_project, tmp_path):
    cli = make_project("wine", {"train": {"target": "target", **LR}})
    model = cli.json("train")["model"]
    shown = cli.json("show", model["id"])
    digest = shown["files"]["model.joblib"]["hash"]
    blob = cli.cwd / ".mlops" / "objects" / "sha256" / digest[:2] / digest[2:]
    marker = tmp_path / "marker-created-by-payload"
    blob.chmod(0o644)
    blob.write_bytes(pickle.dumps(_Marker(str(marker))))

    r = cli("evaluate", code=3)
    assert "do not match its hash" in r.stderr
    assert not marker.exists()
    # the same through a real process
    p = cli.subprocess("evaluate")
    assert p.returncode == 3, p.stderr
    assert "error:" in p.stderr and "Traceback" not in p.stderr
    assert not marker.exists()


def test_version_skew_warning_on_stderr(make_project):
    cli = make_project("wine", {"train": {"target": "target", **LR}})
    cli.json("train")
    from mlops.store import Store

    with Store.open(cli.cwd / ".mlops") as store:
        art = store.resolve("wine", kind="model")
        store.add_artifact(
            "model",
            "wine",
            dict(art.files),
            metadata={**art.metadata, "sklearn_version": "1.0.2"},
            parents=art.parents,
        )
    r = cli("--json", "evaluate", "wine:2")
    assert "warning:" in r.stderr and "scikit-learn 1.0.2" in r.stderr
    assert r.stdout.lstrip().startswith("{")


def test_evaluate_with_data_option(make_project, tmp_path: Path):
    cli = make_project(
        "diabetes", {"train": {"target": "target"}, "evaluate": {"gate": ["r2 >= 0.0"]}}
    )
    cli.json("train")
    test = tmp_path / "test.csv"
    lines = (cli.cwd / "data" / "train.csv").read_text().splitlines()
    test.write_text("\n".join(lines[:101]) + "\n")
    ev = cli.json("evaluate", "--data", str(test))
    assert ev["data"]["rows"] == 100 and ev["data"]["source"] == "data"
