"""Example projects on disk: a small churn project for the loop (few rows, a fast estimator),
the bundled churn example trained with `mlops train`, and train settings that run fast."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.cli import run_cli

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
    """The churn months as data/train.csv and data/batches/*.csv, and CONFIG as mlops.yaml."""
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


def trained_churn_example(root: Path) -> Path:
    """`mlops init --example churn ROOT`, then `mlops train` there (real processes)."""
    proc = run_cli("init", "--example", "churn", str(root), cwd=root.parent)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("train", cwd=root)
    assert proc.returncode == 0, proc.stderr
    return root


# train settings for a fast logistic regression (a small importance sample)
FAST_LR = {
    "estimator": "sklearn.linear_model.LogisticRegression",
    "params": {"max_iter": 2000},
    "importance": {"max_rows": 200, "repeats": 2},
}
