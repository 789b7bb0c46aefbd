"""`mlops train` end to end in process: the churn example, runs ls/show/compare, bad config and
bad targets exit 2."""

from __future__ import annotations

import pytest

from helpers.cli import Cli

LR = {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"max_iter": 3000}}


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
