"""`validate --infer` on data with a time or period column: the next batch must pass."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.cli import invoke_cli as invoke
from helpers.cli import run_cli
from mlops.data.infer import SchemaInferrer
from mlops.data.schema import Dtype


def _batch(period: str, n: int = 400) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": [period[:7]] * n,  # '2026-01'
            "period": [f"P{period}"] * n,  # not a date, but named like a time column
            "batch": [f"b-{period}"] * n,  # the config's data.time_column
            "plan": (["basic", "pro"] * n)[:n],
            "x": range(n),
        }
    )


def test_time_columns_are_never_one_value_categories() -> None:
    schema = SchemaInferrer(time_columns=["batch"]).fit(_batch("2026-01")).schema_
    assert schema.columns["month"].dtype is Dtype.DATETIME
    assert schema.columns["month"].min == "2026-01-01T00:00:00"
    assert schema.columns["month"].max is None
    for name in ("period", "batch"):
        assert schema.columns[name].dtype is Dtype.STRING and schema.columns[name].allowed is None
    assert schema.columns["plan"].allowed == ["basic", "pro"]  # ordinary text keeps its set


def test_the_next_batch_passes_from_the_cli(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path
    monkeypatch.chdir(project)
    (project / "mlops.yaml").write_text("project: demo\ndata:\n  time_column: batch\n")
    _batch("2026-01").to_csv(project / "jan.csv", index=False)
    _batch("2026-02").to_csv(project / "feb.csv", index=False)
    r = invoke("validate", "--infer", "jan.csv", "-o", "schema.yaml")
    assert r.exit_code == 0, r.stderr
    r = invoke("--json", "validate", "--schema", "schema.yaml", "--no-record", "feb.csv")
    assert r.exit_code == 0, [c for c in r.json()["checks"] if not c["passed"]]


def test_the_readme_walkthrough_next_step_passes(tmp_path: Path) -> None:
    """README: infer a schema from January, then February's batch validates."""
    assert run_cli("init", "--example", "churn", "churn", cwd=tmp_path).returncode == 0
    churn = tmp_path / "churn"
    r = run_cli("validate", "--infer", "data/train.csv", "-o", "schema.yaml", cwd=churn)
    assert r.returncode == 0, r.stderr
    with (churn / "mlops.yaml").open("a") as f:
        f.write("schema: schema.yaml\n")
    r = run_cli("validate", "--no-record", "data/batches/2026-02.csv", cwd=churn)
    assert r.returncode == 0, r.stdout + r.stderr
