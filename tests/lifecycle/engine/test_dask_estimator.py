"""`train.estimator: lightgbm.DaskLGBMClassifier` trains on the Dask cluster and is stored as a
plain `lightgbm.LGBMClassifier`, so the model predicts without Dask; on the local engine it is a
config error (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers.cli import child_env

LGBM = """estimator: lightgbm.DaskLGBMClassifier
  params:
    n_estimators: 40
    num_leaves: 7"""
LR = """estimator: sklearn.linear_model.LogisticRegression
  params:
    C: 1.0
    max_iter: 1000"""


def _use_dask_lgbm(churn: Path) -> None:
    text = (churn / "mlops.yaml").read_text()
    assert LR in text
    (churn / "mlops.yaml").write_text(text.replace(LR, LGBM))


def test_dask_lightgbm_trains_on_the_cluster_and_predicts_without_dask(
    churn: Path, dask_engine: Any
) -> None:
    pytest.importorskip("lightgbm")
    from mlops.config import load_config
    from mlops.lifecycle.model_io import load_model
    from mlops.lifecycle.train import train
    from mlops.store import Store

    _use_dask_lgbm(churn)
    config = load_config(churn / "mlops.yaml")
    with Store.open(churn / ".mlops") as store:
        result = train(config, store, engine=dask_engine)
        model = load_model(store, result.model["id"])
    assert result.estimator == "lightgbm.DaskLGBMClassifier"
    assert result.metrics["roc_auc"] > 0.75  # it learned (the example's gate bound)
    assert result.params["params.n_estimators"] == 40
    assert result.params.get("params.client") is None  # the run does not record a client
    final = model.pipeline.steps[-1][1]
    assert type(final).__module__.startswith("lightgbm") and type(final).__name__ == (
        "LGBMClassifier"
    )
    # a fresh process scores with the stored model and never imports Dask
    code = (
        "import sys, pandas as pd\n"
        "from mlops.lifecycle.model_io import load_model\n"
        "from mlops.store import Store\n"
        f"store = Store.open({str(churn / '.mlops')!r})\n"
        f"m = load_model(store, {result.model['id']!r})\n"
        f"pred, proba = m.predict(pd.read_csv({str(churn / 'data' / 'batches' / '2026-02.csv')!r}))\n"
        "assert len(pred) > 100 and proba is not None\n"
        "assert 'distributed' not in sys.modules and 'dask' not in sys.modules, 'dask imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr


def test_dask_estimator_on_the_local_engine_is_exit_2(churn: Path, cli: Any) -> None:
    pytest.importorskip("lightgbm")
    _use_dask_lgbm(churn)
    proc = cli("train", cwd=churn)
    assert proc.returncode == 2, proc.stderr
    assert "DaskLGBMClassifier trains on a Dask cluster" in proc.stderr
    assert "--engine dask" in proc.stderr
    assert "Traceback" not in proc.stderr
