#!/usr/bin/env bash
# Create a separate virtualenv holding `dvc` with its S3 plugin, used only by
# benchmarks/bench_remote.py to push and pull the same files as `mlops push/pull` in one run.
# dvc pins its own set of dependencies, so it lives apart from the tool's environment.
#
#   scripts/setup_dvc_venv.sh [VENV_DIR]      (default: $MLOPS_DVC_VENV or .venv-dvc in the repository)
#
# The benchmark finds the dvc executable through MLOPS_DVC, or VENV_DIR/bin/dvc at the default
# place, and leaves the dvc columns out (saying why) when neither exists.
set -euo pipefail

VENV="${1:-${MLOPS_DVC_VENV:-$(cd "$(dirname "$0")/.." && pwd)/.venv-dvc}}"
PYTHON="${PYTHON:-python3}"

if [ -x "$VENV/bin/dvc" ] && "$VENV/bin/python" -c "import dvc_s3" 2>/dev/null; then
    echo "dvc venv ready: $VENV ($("$VENV/bin/dvc" --version))"
    exit 0
fi

start=$(date +%s)
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check dvc dvc-s3
echo "dvc $("$VENV/bin/dvc" --version) venv created in $(( $(date +%s) - start ))s: $VENV"
