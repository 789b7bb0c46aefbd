"""End to end from the CLI on the churn example: train, then monitor months 2 and 6."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from helpers.cli import run_cli, run_json


def test_month2_little_drift_passes(churn: Path) -> None:
    code, data = run_json("monitor", "data/batches/2026-02.csv", cwd=churn)
    assert code == 0, data["alerts"]
    assert data["status"] == "ok"
    assert data["data"]["rows"] == 4000
    assert not data["drift"]["dataset_drift"]
    assert data["drift"]["n_drifted"] <= 1  # at most the gradual price rise
    assert not [a for a in data["alerts"] if a["severity"] == "critical"]
    assert data["performance"]["realised"]["accuracy"] > 0.75
    assert data["report_id"] and data["data"]["dataset_id"] is None  # store_data is off by default
    digest = hashlib.sha256((churn / "data/batches/2026-02.csv").read_bytes()).hexdigest()
    assert data["data"]["files"] == [
        {
            "path": "data/batches/2026-02.csv",
            "sha256": digest,
            "size": len((churn / "data/batches/2026-02.csv").read_bytes()),
        }
    ]


def test_month6_sudden_drift_alerts_and_fails(churn: Path) -> None:
    html, prom = churn / "out" / "r.html", churn / "out" / "r.prom"
    proc = run_cli(
        "monitor",
        "data/batches/2026-06.csv",
        "--fail-on",
        "warning",
        "--html",
        str(html),
        "--prometheus",
        str(prom),
        cwd=churn,
    )
    assert proc.returncode == 1, proc.stderr
    assert "payment_method" in proc.stdout and "support_calls" in proc.stdout
    code, data = run_json("monitor", "data/batches/2026-06.csv", "--fail-on", "warning", cwd=churn)
    assert code == 1
    by = {(a["kind"], a["feature"]): a for a in data["alerts"]}
    unseen = by[("data_quality", "payment_method")]
    assert unseen["metric"] == "unseen_categories" and unseen["value"] > unseen["threshold"]
    assert "wallet" in unseen["message"]
    assert ("feature_drift", "payment_method") in by
    calls = by[("feature_drift", "support_calls")]
    assert calls["value"] >= calls["threshold"]
    assert "consider `mlops retrain`" in calls["action"]
    assert re.search(r"\d+ of 10 features drifted", calls["message"])
    # concept drift: realised accuracy falls well below the holdout's
    perf = data["performance"]
    assert perf["realised"]["accuracy"] < perf["reference"]["accuracy"] - 0.05
    assert any(a["kind"] == "performance" for a in data["alerts"])
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "data:image" not in page
    assert page.count("<figure><svg ") >= 10 + 1  # one per feature, then the history
    assert "payment_method" in page and "History" in page
    assert "mlops_monitor_drift_share" in prom.read_text()


def test_default_fail_on_is_critical_and_none_never_fails(churn: Path) -> None:
    code, data = run_json("monitor", "data/batches/2026-06.csv", "--fail-on", "none", cwd=churn)
    assert code == 0 and data["alerts"]
    assert data["status"] == "warnings"  # alerts below fail_on: not "ok"
    assert run_cli("monitor", "x.csv", "--fail-on", "loud", cwd=churn).returncode == 2


def test_history_shows_past_runs(churn: Path) -> None:
    run_cli("monitor", "data/batches/2026-02.csv", cwd=churn)
    run_cli("monitor", "data/batches/2026-06.csv", cwd=churn)
    code, data = run_json("monitor", "history", cwd=churn)
    assert code == 0
    runs = data["runs"]
    assert len(runs) == 2
    assert runs[0]["n_drifted"] < runs[1]["n_drifted"]
    assert runs[1]["alerts"]["warning"] > 0 and runs[0]["created_at"] <= runs[1]["created_at"]
    proc = run_cli("--format", "table", "monitor", "history", cwd=churn, env={"COLUMNS": "80"})
    assert proc.returncode == 0 and "monitor history" in proc.stdout
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, proc.stdout
    assert "fail" in proc.stdout
    piped = run_cli("monitor", "history", cwd=churn).stdout.splitlines()
    assert len(piped) == 3 and piped[0].startswith("when (UTC)\treport\trows")


def test_report_is_stored_with_lineage(churn: Path) -> None:
    from mlops.store import Store

    code, plain = run_json("monitor", "data/batches/2026-02.csv", cwd=churn)
    config = churn / "mlops.yaml"
    config.write_text(config.read_text().replace("monitor:\n", "monitor:\n  store_data: true\n", 1))
    code, data = run_json("monitor", "data/batches/2026-02.csv", cwd=churn)
    with Store.open(churn / ".mlops") as store:
        assert store.get(plain["report_id"]).parents == [plain["model"]["id"]]
        art = store.get(data["report_id"])
        assert art.kind == "monitor-report"
        assert set(art.parents) == {data["model"]["id"], data["data"]["dataset_id"]}
        dataset = store.get(data["data"]["dataset_id"])
        assert dataset.files["data/batches/2026-02.csv"].hash == data["data"]["files"][0]["sha256"]
        stored = store.read_json(art, "report.json")
        assert stored["drift"] == data["drift"]
        runs = store.list_runs(step="monitor")
        assert runs and runs[0]["status"] == "succeeded"


def test_default_model_falls_back_to_latest_with_a_note(churn: Path) -> None:
    code, data = run_json("monitor", "data/batches/2026-02.csv", cwd=churn)
    assert any("churn@production" in n for n in data["notes"])
    code, data = run_json("monitor", "data/batches/2026-02.csv", "--model", "churn:1", cwd=churn)
    assert not any("production" in n for n in data["notes"])
