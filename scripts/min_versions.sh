#!/usr/bin/env bash
# The minimum-versions job: install mlops with every dependency at its declared lower bound
# (constraints/minimum.txt) into a fresh virtualenv, and run the end-to-end CLI smoke test
# (tests/test_smoke_lifecycle.py) there.
#
#   scripts/min_versions.sh VENV_DIR
#
# VENV_DIR is emptied and recreated. Wheels only: an old release that would have to be compiled
# here does not count as installable. PYTHON picks the interpreter (default: python3).
set -euo pipefail

VENV="${1:?usage: scripts/min_versions.sh VENV_DIR}"
mkdir -p "$VENV" && VENV="$(cd "$VENV" && pwd)"
PYTHON="${PYTHON:-python3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CONSTRAINTS="$ROOT/constraints/minimum.txt"
start=$(date +%s)

"$PYTHON" -m venv --clear "$VENV"
PY="$VENV/bin/python"
"$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip
# The project itself is built from source; every dependency must come as a wheel.
# (hypothesis: tests/conftest.py configures it.)
"$PY" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    -c "$CONSTRAINTS" -e "$ROOT" pytest hypothesis
"$PY" -m pip check
echo "installed: $("$PY" -m pip list --disable-pip-version-check --format=freeze | tr '\n' ' ')"

# Every pin must be what is installed (a pin for a package nothing requires would go untested).
"$PY" - "$CONSTRAINTS" <<'EOF'
import sys
from importlib.metadata import version

bad = []
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, pinned = line.split("==")
    try:
        installed = version(name)
    except ImportError:
        installed = "not installed"
    if installed != pinned:
        bad.append(f"{name}: pinned {pinned}, installed {installed}")
    print(f"{name}=={installed}")
if bad:
    sys.exit("constraints/minimum.txt does not match the environment:\n  " + "\n  ".join(bad))
EOF

cd "$ROOT"
"$PY" -m pytest -q -p no:cacheprovider tests/test_smoke_lifecycle.py
echo "minimum versions: passed in $(( $(date +%s) - start ))s ($VENV)"
