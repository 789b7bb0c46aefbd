"""The real mlflow, in its own virtualenv (scripts/setup_mlflow_venv.sh): where it is, and a
bundle loaded with `mlflow.pyfunc.load_model` there."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.cli import REPO


def _mlflow_python() -> Path | None:
    explicit = os.environ.get("MLOPS_MLFLOW_PYTHON")
    if explicit:
        return Path(explicit)
    venv = Path(os.environ.get("MLOPS_MLFLOW_VENV", REPO / ".venv-mlflow"))
    candidate = venv / "bin" / "python"
    return candidate if candidate.exists() else None


MLFLOW_PYTHON = _mlflow_python()
MLFLOW_SKIP_REASON = (
    "no mlflow virtualenv: run scripts/setup_mlflow_venv.sh "
    "(or set MLOPS_MLFLOW_PYTHON to a python that has mlflow installed)"
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


def mlflow_predict(model_dir: Path, rows: pd.DataFrame, tmp: Path) -> dict[str, Any]:
    """Load model_dir with mlflow.pyfunc.load_model in the mlflow venv; predict rows."""
    assert MLFLOW_PYTHON is not None
    frame_json = tmp / "mlflow-frame.json"
    frame_json.write_text(rows.to_json(orient="split", index=False))
    script = tmp / "mlflow-load.py"
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
    return json.loads(r.stdout.strip().splitlines()[-1])
