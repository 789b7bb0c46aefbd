"""`mlops monitor` on a batch that carries its predictions (the prediction log): this tree
against another source tree, whole processes, interleaved.

    git archive <commit> src | tar -x -C /tmp/base
    python benchmarks/bench_monitor_log.py --base-src /tmp/base/src [--rows 1000000] [--runs 3]

Writes the project of bench_dask_monitor.py (a logistic regression on 25 columns: 20 numeric,
5 categorical), trains it with this tree, and a batch of ROWS rows holding the features and the
model's `_prediction` and `_proba_<class>` columns, so monitor only reads and profiles (it scans
such a batch from Arrow batches). Each `mlops --json monitor batch.parquet --fail-on none` is a
fresh process timed whole (start-up, store, report). Prints the medians of wall and CPU time
(user + system) of both trees, their ratio, and whether the two JSON reports agree.
"""

from __future__ import annotations

import argparse
import json
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

LOG = """
import sys
from mlops.lifecycle.model_io import load_model
from mlops.store import Store
import pandas as pd

store = Store.open(".mlops", create=False)
model = load_model(store, "bench")
batch = pd.read_parquet("plain.parquet")
pred, proba = model.predict(batch)
batch["_prediction"] = pred
for j, cls in enumerate(model.classes):
    batch[f"_proba_{cls}"] = proba[:, j]
batch.to_parquet("batch.parquet", index=False)
"""


def run(root: Path, argv: list[str], src: Path) -> tuple[float, float, bytes]:
    """(wall seconds, CPU seconds, stdout) of one child process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(argv[:4])} failed with status {status}")
    return wall, usage.ru_utime + usage.ru_stime, out


def report(out: bytes) -> dict:
    """The parts of the JSON report that must agree (not run ids or times)."""
    doc = json.loads(out)
    return {k: doc.get(k) for k in ("drift", "quality", "prediction_drift", "alerts", "windows")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-src", type=Path, required=True, help="the other tree's src/")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        write_project(root, 0, 0)
        frame(args.rows, 7).to_parquet(root / "plain.parquet", index=False)
        py = sys.executable
        run(root, [py, "-m", "mlops", "--quiet", "train"], SRC)
        run(root, [py, "-c", LOG], SRC)
        argv = [py, "-m", "mlops", "--json", "monitor", "batch.parquet", "--fail-on", "none"]
        times: dict[str, list[tuple[float, float]]] = {"this": [], "base": []}
        reports: dict[str, dict] = {}
        for _ in range(args.runs):  # interleaved, so both see the same load
            for name, src in (("this", SRC), ("base", args.base_src.resolve())):
                wall, cpu, out = run(root, argv, src)
                times[name].append((wall, cpu))
                reports[name] = report(out)
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for k, v in times.items()}  # fmt: skip
    print(f"{args.rows:,} rows x 25 columns with predictions, median of {args.runs} runs, "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    for k, (w, c) in med.items():
        print(f"{k:5s} {w:7.2f} s wall  {c:7.2f} s CPU")
    print(f"this / base: {med['this'][0] / med['base'][0]:.2f}x wall, "
          f"{med['this'][1] / med['base'][1]:.2f}x CPU; reports equal: "
          f"{reports['this'] == reports['base']}")  # fmt: skip


if __name__ == "__main__":
    main()
