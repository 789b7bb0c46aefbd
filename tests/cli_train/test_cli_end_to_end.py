from __future__ import annotations

import pickle
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from traincli_help import Cli

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


def test_churn_example_trains_and_promotes(tmp_path):
    cli = Cli(tmp_path)
    cli("init", "--example", "churn", "churn")
    cli = Cli(tmp_path / "churn")
    trained = cli.json("train")
    assert trained["model"]["label"] == "churn:1"
    assert 0.75 <= trained["metrics"]["roc_auc"] <= 0.85
    assert "customer_id" not in trained["features"] and "month" not in trained["features"]
    ev = cli.json("evaluate", "--promote", "production")
    assert ev["passed"], ev["rules"]
    assert ev["promotion"]["moved"]
    assert {r["kind"] for r in ev["rules"]} == {"absolute", "relative", "slice", "latency"}
    human = cli("models", "show", "churn")
    assert "@production" in human.stdout


def test_runs_ls_show_compare(make_project):
    cli = make_project("wine", {"train": {"target": "target", **LR}})
    a = cli.json("train")["run_id"]
    (cli.cwd / "mlops.yaml").write_text(
        (cli.cwd / "mlops.yaml")
        .read_text()
        .replace("max_iter: 3000", "max_iter: 3000\n    C: 0.01")
    )
    b = cli.json("train")["run_id"]
    runs = cli.json("runs", "ls")["runs"]
    assert [r["id"] for r in runs] == [b, a]
    shown = cli.json("runs", "show", a[:10])
    assert shown["id"] == a and shown["params"]["params.max_iter"] == 3000
    cmp = cli.json("runs", "compare", a, b)
    rows = {r["key"]: r for r in cmp["params"]}
    assert rows["params.C"]["differs"] and not rows["params.max_iter"]["differs"]
    human = cli("runs", "compare", a, b)
    assert "* params.C" in human.stdout
    assert "difference(s)" in human.stdout
    assert a[:8] in cli("runs", "ls").stdout


@pytest.mark.parametrize(
    ("train_cfg", "key"),
    [
        (
            {"target": "target", "estimator": "sklearn.linear_model.LogisticRegresion"},
            "train.estimator",
        ),
        (
            {"target": "target", "estimator": "sklearn.svm.SVC", "params": {"C": -1}},
            "train.params.C",
        ),
        ({"target": "label"}, "train.target"),
    ],
)
def test_bad_config_exits_2_with_position(make_project, train_cfg, key):
    cli = make_project("breast_cancer", {"train": train_cfg})
    r = cli("train", code=2)
    err = r.stderr.strip().splitlines()
    assert err[0].startswith("error: mlops.yaml:") and f": {key}: " in err[0], r.stderr
    assert r.stdout == ""


def test_single_class_and_text_regression_target_exit_2(make_project):
    cli = make_project("breast_cancer", {"train": {"target": "target"}})
    data = cli.cwd / "data" / "train.csv"
    text = data.read_text().splitlines()
    header, rows = text[0], text[1:]
    data.write_text("\n".join([header] + [r.rsplit(",", 1)[0] + ",1" for r in rows]) + "\n")
    r = cli("train", code=2)
    assert ": train.target: " in r.stderr and "single class" in r.stderr
    data.write_text("\n".join([header] + [r.rsplit(",", 1)[0] + ",abc" for r in rows]) + "\n")
    (cli.cwd / "mlops.yaml").write_text(
        (cli.cwd / "mlops.yaml").read_text() + "  task: regression\n"
    )
    r = cli("train", code=2)
    assert "mlops.yaml:" in r.stderr and ": train.task: " in r.stderr and "not numeric" in r.stderr


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
