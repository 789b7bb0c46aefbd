"""`mlops monitor` with model scoring against its floor: one predict_proba pass plus profiling.

    python benchmarks/bench_monitor_scoring.py [--rows 1000000] [--runs 3] [--dir DIR]

Writes a project (the same 25-column data and logistic-regression model as
bench_dask_monitor.py), trains it, then times, as fresh interleaved processes:

  mlops:  `mlops --json monitor batch.parquet --fail-on none` (reads the batch in chunks, scores
          it once, profiles features and outputs, computes drift and quality, stores the report);
  floor:  a script that loads the same verified model and reference with mlops's library calls,
          reads the whole batch with pandas, runs `predict_proba` once on it and profiles the
          features and the outputs with the reference's bins: the work no monitor can skip.

Prints the medians of wall and CPU time (user + system of the child) and the ratio mlops / floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_dask_monitor import frame, write_project  # noqa: E402

SRC = Path(__file__).resolve().parent.parent / "src"

FLOOR = """
import sys
import numpy as np
import pandas as pd
from mlops.lifecycle.model_io import load_model
from mlops.lifecycle.monitor.data import load_reference
from mlops.lifecycle.monitor.scan import output_names, subset
from mlops.stats.profile import DatasetProfile
from mlops.store import Store

store = Store.open(".mlops", create=False)
model = load_model(store, "bench")
ref = load_reference(store, model.artifact)
batch = pd.read_parquet(sys.argv[1])
proba = model.pipeline.predict_proba(batch[ref.features])
out = pd.DataFrame({ref.prediction: np.asarray(model.pipeline.classes_)[proba.argmax(axis=1)]})
for j, col in enumerate(ref.proba.values()):
    out[col] = proba[:, j]
features = DatasetProfile.empty(subset(ref.data, ref.features).spec)
outputs = DatasetProfile.empty(subset(ref.outputs, output_names(ref)).spec)
features.update(batch[ref.features])
outputs.update(out)
print(features.rows, outputs.rows)
"""


def run(root: Path, argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one child process."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(argv[:4])} failed with status {status}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        write_project(root, 0, 0)
        frame(args.rows, 7).to_parquet(root / "batch.parquet", index=False)
        py = sys.executable
        run(root, [py, "-m", "mlops", "--quiet", "train"])
        mlops_argv = [py, "-m", "mlops", "--json", "monitor", "batch.parquet", "--fail-on", "none"]
        floor_argv = [py, "-c", FLOOR, "batch.parquet"]
        times: dict[str, list[tuple[float, float]]] = {"mlops": [], "floor": []}
        for _ in range(args.runs):  # interleaved, so both see the same load
            times["mlops"].append(run(root, mlops_argv))
            times["floor"].append(run(root, floor_argv))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for k, v in times.items()}  # fmt: skip
    load = os.getloadavg()[0]
    print(f"{args.rows:,} rows x 25 columns, logistic regression, median of {args.runs} runs, "
          f"load {load:.1f}")  # fmt: skip
    for k, (w, c) in med.items():
        print(f"{k:6s} {w:7.2f} s wall  {c:7.2f} s CPU")
    print(f"mlops / floor: {med['mlops'][0] / med['floor'][0]:.2f}x wall, "
          f"{med['mlops'][1] / med['floor'][1]:.2f}x CPU")  # fmt: skip


if __name__ == "__main__":
    main()
