"""Helpers of the loop tests: a small churn project (few rows, a fast estimator) and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[2] / "src"
ROWS = 400

CONFIG = """\
project: churn
data:
  train: data/train.csv
  current: data/batches/2026-05.csv
  id_column: customer_id
  time_column: month
train:
  target: churned
  estimator: sklearn.linear_model.LogisticRegression
  params: {C: 1.0, max_iter: 300}
  split: {method: stratified, test_size: 0.3}
  random_state: 7
  metrics: [roc_auc, accuracy]
  importance: false
evaluate:
  gate:
    - roc_auc >= 0.6
    - {metric: roc_auc, against: production, max_drop: 0.05}
retrain:
  batches: data/batches/*.csv
  triggers: {drift_share: 0.3}
  training_set: {policy: reference_plus_recent, window: 2}
"""


def write_project(directory: Path, rows: int = ROWS, config: str = CONFIG) -> Path:
    from mlops.examples import churn

    rng = np.random.default_rng(11)
    batches = directory / "data" / "batches"
    batches.mkdir(parents=True)
    next_id = 1000
    for i, month in enumerate(churn.MONTHS):
        df = churn.generate_month(i, rows, rng, next_id)
        next_id += rows
        df.to_csv(
            directory / "data" / "train.csv" if i == 0 else batches / f"{month}.csv", index=False
        )
    (directory / "mlops.yaml").write_text(config, encoding="utf-8")
    return directory


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC)
    env.pop("MLOPS_STORE", None)
    env["COLUMNS"] = "200"
    return env


def mlops(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlops", *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
