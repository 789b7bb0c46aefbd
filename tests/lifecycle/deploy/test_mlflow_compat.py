"""A bundle loads with the real `mlflow.pyfunc.load_model` and predicts what the model predicts.

mlflow lives in its own virtualenv (scripts/setup_mlflow_venv.sh); the test runs that
interpreter in a subprocess. It is found through MLOPS_MLFLOW_PYTHON, or at
$MLOPS_MLFLOW_VENV/bin/python (default .venv-mlflow/bin/python in the repository).
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.data import features_of
from helpers.mlflow_venv import MLFLOW_PYTHON, MLFLOW_SKIP_REASON, mlflow_predict
from mlops.lifecycle.deploy import build_package
from mlops.lifecycle.deploy import bundle as bundle_io

pytestmark = pytest.mark.skipif(MLFLOW_PYTHON is None, reason=MLFLOW_SKIP_REASON)


@pytest.mark.slow
@pytest.mark.parametrize("form", ["directory", "extracted-archive"])
def test_mlflow_pyfunc_loads_bundle_and_predicts(project, tmp_path, form):
    with project.store() as store:
        result = build_package(store, "churn", tmp_path / "dist")
    if form == "directory":
        model_dir = result.directory
    else:
        model_dir = bundle_io.bundle_root(bundle_io.safe_extract(result.archive, tmp_path / "x"))

    rows = features_of(project.batch.head(60))
    out = mlflow_predict(model_dir, rows, tmp_path)
    assert out["loader"] == "mlflow.sklearn"
    assert out["mlops_model_id"] == project.model.id
    assert out["signature_inputs"] == list(rows.columns)
    np.testing.assert_array_equal(out["predictions"], project.pipeline.predict(rows))
