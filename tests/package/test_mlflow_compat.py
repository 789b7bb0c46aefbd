"""A bundle loads with the real `mlflow.pyfunc.load_model` and predicts what the model predicts.

mlflow lives in its own virtualenv (scripts/setup_mlflow_venv.sh); the test runs that
interpreter in a subprocess. It is found through MLOPS_MLFLOW_PYTHON, or at
$MLOPS_MLFLOW_VENV/bin/python (default /work/venv-mlflow/bin/python).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import features_of

from mlops.lifecycle.package import build_package


def _mlflow_python() -> Path | None:
    explicit = os.environ.get("MLOPS_MLFLOW_PYTHON")
    if explicit:
        return Path(explicit)
    venv = Path(os.environ.get("MLOPS_MLFLOW_VENV", "/work/venv-mlflow"))
    candidate = venv / "bin" / "python"
    return candidate if candidate.exists() else None


MLFLOW_PYTHON = _mlflow_python()

pytestmark = pytest.mark.skipif(
    MLFLOW_PYTHON is None,
    reason="no mlflow virtualenv: run scripts/setup_mlflow_venv.sh "
    "(or set MLOPS_MLFLOW_PYTHON to a python that has mlflow installed)",
)

SCRIPT = r"""
import json, sys
import pandas as pd
import mlflow.pyfunc

model = mlflow.pyfunc.load_model(sys.argv[1])
frame = pd.read_json(sys.argv[2], orient="split")
pred = model.predict(frame)
meta = model.metadata
print(json.dumps({
    "predictions": [p.item() if hasattr(p, "item") else p for p in list(pred)],
    "loader": meta.flavors["python_function"]["loader_module"],
    "signature_inputs": [c.name for c in meta.signature.inputs.inputs],
    "mlops_model_id": meta.metadata["mlops_model_id"],
}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("form", ["directory", "extracted-archive"])
def test_mlflow_pyfunc_loads_bundle_and_predicts(project, tmp_path, form):
    from mlops.lifecycle import bundle as bundle_io

    with project.store() as store:
        result = build_package(store, "churn", tmp_path / "dist")
    if form == "directory":
        model_dir = result.directory
    else:
        model_dir = bundle_io.bundle_root(bundle_io.safe_extract(result.archive, tmp_path / "x"))

    rows = features_of(project.batch.head(60))
    frame_json = tmp_path / "frame.json"
    frame_json.write_text(rows.to_json(orient="split", index=False))
    script = tmp_path / "load.py"
    script.write_text(SCRIPT)
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    r = subprocess.run(
        [str(MLFLOW_PYTHON), str(script), str(model_dir), str(frame_json)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-4000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["loader"] == "mlflow.sklearn"
    assert out["mlops_model_id"] == project.model.id
    assert out["signature_inputs"] == list(rows.columns)
    np.testing.assert_array_equal(out["predictions"], project.pipeline.predict(rows))
