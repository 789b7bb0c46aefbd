#!/usr/bin/env bash
# Create a separate virtualenv holding the real `mlflow` package, used only by the test that
# loads an `mlops package` bundle with `mlflow.pyfunc.load_model`. mlflow pins its own set of
# dependencies, so it lives apart from the tool's environment.
#
#   scripts/setup_mlflow_venv.sh [VENV_DIR]      (default: $MLOPS_MLFLOW_VENV or .venv-mlflow in the repository)
#
# The test finds the interpreter through MLOPS_MLFLOW_PYTHON, or VENV_DIR/bin/python at the
# default place, and is skipped with a reason when neither exists.
set -euo pipefail

VENV="${1:-${MLOPS_MLFLOW_VENV:-$(cd "$(dirname "$0")/.." && pwd)/.venv-mlflow}}"
PYTHON="${PYTHON:-python3}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import mlflow.pyfunc, sklearn" 2>/dev/null; then
    echo "mlflow venv ready: $VENV ($("$VENV/bin/python" -c 'import mlflow; print(mlflow.__version__)'))"
    exit 0
fi

start=$(date +%s)
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
# Same scikit-learn as the tool, so the pickled pipeline loads without a version warning.
SKLEARN="$("$PYTHON" -c 'import sklearn; print(sklearn.__version__)' 2>/dev/null || true)"
SKLEARN_REQ="scikit-learn"
if [ -n "$SKLEARN" ]; then SKLEARN_REQ="scikit-learn==$SKLEARN"; fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    mlflow-skinny "$SKLEARN_REQ" pandas pyarrow
"$VENV/bin/python" -c "import mlflow.pyfunc, mlflow.sklearn, sklearn, pandas; print('mlflow', mlflow.__version__, 'sklearn', sklearn.__version__, 'pandas', pandas.__version__)"
echo "mlflow venv created in $(( $(date +%s) - start ))s: $VENV"
