"""The lifecycle end to end through the real `mlops` CLI, one subprocess per command.

Part of the regular suite, and the whole of the minimum-versions job
(scripts/min_versions.sh), which runs it against the lowest declared dependency versions.
Uses the bundled churn example (4000 rows a month), so it takes seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from helpers.cli import CliResult, run_cli

pytestmark = pytest.mark.smoke


def run(cwd: Path, *args: str) -> CliResult:
    """`mlops --json ARGS...` in cwd, in a new process; no traceback on stderr, even an ignored one
    (e.g. a library failing to inspect a shared library it does not know)."""
    proc = run_cli("--json", *args, cwd=cwd, env={"MLOPS_USER": "smoke"})
    assert "Traceback" not in proc.stderr, f"mlops {' '.join(args)}:\n{proc.stderr}"
    return proc


def mlops(cwd: Path, *args: str, code: int = 0) -> Any:
    """Run `mlops --json ARGS...` in cwd; check the exit code; return the parsed JSON."""
    proc = run(cwd, *args)
    assert proc.returncode == code, (
        f"mlops {' '.join(args)}: exit {proc.returncode} != {code}\n"
        f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
    )
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def test_lifecycle_through_the_cli(tmp_path: Path):
    made = mlops(tmp_path, "init", "--example", "churn", "churn")
    assert made["example"] == "churn"
    project = tmp_path / "churn"
    assert (project / "data" / "train.csv").is_file()
    assert len(list((project / "data" / "batches").glob("*.csv"))) == 5

    # validate: infer a schema from January, then check data against it
    inferred = mlops(project, "validate", "--infer", "data/train.csv", "-o", "schema.yaml")
    assert inferred["rows"] == 4000
    assert inferred["schema"]["columns"]["customer_id"]["unique"] is True
    assert (project / "schema.yaml").is_file()
    config = project / "mlops.yaml"
    config.write_text(config.read_text() + "\nschema: schema.yaml\n")

    valid = mlops(project, "validate")
    assert valid["passed"] is True
    assert valid["report"]["n_failed"] == 0
    assert valid["dataset"]["name"] == "churn-train"
    # May brings a payment method January never had: a failed check is exit 1
    may = mlops(project, "validate", "data/batches/2026-05.csv", code=1)
    assert may["passed"] is False
    assert any(not c["passed"] and c["column"] == "payment_method" for c in may["report"]["checks"])
    missing = run(project, "validate", "data/no-such-file.csv")
    assert missing.returncode == 2, missing.stderr
    assert missing.stderr.startswith("error: ") and "no-such-file.csv" in missing.stderr

    trained = mlops(project, "train")
    assert trained["model"]["label"] == "churn:1"
    assert trained["task"] == "classification"
    assert trained["rows"] == {"total": 4000, "train": 3000, "holdout": 1000}
    assert 0.7 < trained["metrics"]["roc_auc"] < 1.0

    # The example's gate ends with a single-row latency rule, whose verdict depends on how busy
    # the machine is: check that the gate ran it and follows it, then drop it to promote.
    proc = run(project, "evaluate")
    gate = json.loads(proc.stdout)
    *metric_rules, latency = gate["rules"]
    assert [r["verdict"] for r in metric_rules] == ["pass"] * 3
    assert latency["kind"] == "latency" and latency["value"] > 0
    assert latency["extra"]["calls"] == 30  # the churn example times 30 calls
    assert gate["passed"] is latency["passed"]
    assert proc.returncode == (0 if gate["passed"] else 1), proc.stderr
    lines = config.read_text().splitlines(keepends=True)
    kept = [line for line in lines if "latency_p95_ms" not in line]
    assert len(kept) == len(lines) - 1
    config.write_text("".join(kept))

    evaluated = mlops(project, "evaluate", "--promote", "production")
    assert evaluated["passed"] is True
    assert [r["verdict"] for r in evaluated["rules"]] == ["pass"] * 3
    assert evaluated["promotion"]["moved"] is True

    # monitor May with its labels: accuracy falls by ~0.1, a critical alert, exit 1
    labelled = mlops(
        project, "monitor", "data/batches/2026-05.csv", "--html", "reports/may.html", code=1
    )
    assert labelled["status"] == "fail"
    assert labelled["highest_severity"] == "critical"
    assert labelled["data"]["labels"] == "batch"
    performance = labelled["performance"]
    assert performance["labelled_rows"] == 4000
    assert performance["realised"]["accuracy"] < performance["reference"]["accuracy"] - 0.05
    assert any(a["kind"] == "performance" for a in labelled["alerts"])
    assert labelled["target_drift"]["columns"][0]["column"] == "churned"
    assert (project / "reports" / "may.html").stat().st_size > 0

    # monitor May without labels: drift and estimated performance only; warnings, exit 0
    unlabelled = project / "may-unlabelled.csv"
    pd.read_csv(project / "data" / "batches" / "2026-05.csv").drop(columns="churned").to_csv(
        unlabelled, index=False
    )
    blind = mlops(project, "monitor", unlabelled.name)
    assert blind["status"] == "warnings"  # warning alerts below fail_on: exit 0, not "ok"
    assert blind["highest_severity"] == "warning"
    assert blind["data"]["labels"] is None
    assert blind["target_drift"] is None
    assert {"payment_method", "monthly_charges"} <= set(blind["drift"]["drifted_columns"])
    assert blind["performance"]["realised"] is None
    assert blind["performance"]["labelled_rows"] == 0
    assert 0.5 < blind["performance"]["estimated"]["roc_auc"] < 1.0

    packaged = mlops(project, "package", "churn@production")
    assert packaged["model"] == "churn:1"
    assert {"model.pkl", "MLmodel", "requirements.txt"} <= set(packaged["files"])
    archive = Path(packaged["archive"])
    assert archive.is_file()

    # score the unlabelled rows from the .tar.gz alone
    scored = mlops(project, "predict", str(archive), "-i", unlabelled.name, "-o", "scored.parquet")
    assert scored["rows"] == 4000
    assert scored["model"]["source"].startswith("package ")
    frame = pd.read_parquet(project / "scored.parquet")
    assert list(frame.columns) == ["customer_id", "prediction", "proba_0", "proba_1"]
    assert len(frame) == 4000
    assert frame["customer_id"].is_unique
    assert set(frame["prediction"]) <= {0, 1}
    assert frame["proba_1"].between(0, 1).all()
    assert sum(scored["prediction_counts"].values()) == 4000
