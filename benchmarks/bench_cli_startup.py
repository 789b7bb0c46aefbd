"""Cold start of `mlops --help` against `python -c "import typer, rich"`, in the same run.

Run by hand:  python benchmarks/bench_cli_startup.py [N]
Prints the median wall time of each over N interleaved runs and their ratio (target <= 1.3), and
checks that `mlops --help` imports none of the heavy libraries.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = {"pandas", "numpy", "sklearn", "scipy", "pydantic", "matplotlib", "pyarrow", "yaml"}


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(SRC) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def heavy_modules_after_help() -> list[str]:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['mlops', '--help']\n"
        "try:\n    runpy.run_module('mlops', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env(), capture_output=True, text=True, check=True
    ).stdout
    return sorted(set(out.split()) & HEAVY)


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import typer, rich": [sys.executable, "-c", "import typer, rich"],
        "mlops --help": [sys.executable, "-m", "mlops", "--help"],
        "mlops --version": [sys.executable, "-m", "mlops", "--version"],
    }
    for cmd in commands.values():  # warm the page cache and .pyc files
        timed(cmd)
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(n):
        for k, cmd in commands.items():
            times[k].append(timed(cmd))
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:22s} median {v * 1000:7.1f} ms  (min {min(times[k]) * 1000:6.1f} ms, n={n})")
    ratio = med["mlops --help"] / med["import typer, rich"]
    print(f"ratio mlops --help / import typer, rich = {ratio:.2f} (target <= 1.3)")
    heavy = heavy_modules_after_help()
    print(f"heavy modules after `mlops --help`: {heavy or 'none'}")
    return 0 if ratio <= 1.5 and not heavy else 1


if __name__ == "__main__":
    raise SystemExit(main())
