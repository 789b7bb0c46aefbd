"""`mlops monitor` end to end: the local engine vs `--scheduler` of a 2-worker LocalCluster.

Writes a project: a model (logistic regression) trained on 100k rows of 25 columns (20 numeric,
5 categorical) and a batch of ROWS rows in FILES Parquet files without predictions, so monitor
scores the model (on the workers with Dask) as well as profiling. The cluster is started first
and stays up; each `mlops monitor BATCH --json` is a fresh process, timed whole (start-up, store,
report). Prints both wall times, the monitor process's peak RSS, each worker's peak RSS and
whether the two reports agree (rows, drift figures, alerts).

    python benchmarks/bench_dask_monitor.py --rows 10000000 --files 40
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SRC = Path(__file__).resolve().parent.parent / "src"
YAML = """project: bench
data: {train: train.parquet}
train:
  target: y
  estimator: sklearn.linear_model.LogisticRegression
  params: {max_iter: 300}
  importance: {max_rows: 200, repeats: 2}
monitor: {window: null}
"""


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = pd.DataFrame({f"n{j:02d}": rng.normal(j, 1 + j / 10, rows) for j in range(20)})
    for j in range(5):
        out[f"c{j}"] = rng.choice([f"v{k}" for k in range(10 + j * 5)], rows)
    return out


def write_project(root: Path, rows: int, files: int) -> None:
    train = frame(100_000, 1)
    train["y"] = (
        train["n00"] + train["n01"] / 2 + np.random.default_rng(2).normal(0, 1, 100_000) > 0.5
    ).astype(int)
    train.to_parquet(root / "train.parquet", index=False)
    (root / "mlops.yaml").write_text(YAML)
    (root / "batch").mkdir()
    for i in range(files):
        frame(rows // files, 100 + i).to_parquet(root / "batch" / f"part-{i:04d}.parquet")


def mlops(root: Path, *args: str) -> tuple[float, float, dict]:  # type: ignore[type-arg]
    """(wall seconds, peak RSS MiB, parsed JSON) of one mlops process."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out_path, err_path = root / "out.json", root / "err.txt"
    t0 = time.perf_counter()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlops", "--json", *args],
            cwd=root,
            env=env,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"mlops {' '.join(args)} failed:\n{err_path.read_text()}")
    return seconds, usage.ru_maxrss / 1024, json.loads(out_path.read_text())


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=8)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        root = Path(tmp)
        write_project(root, args.rows, args.files)
        mlops(root, "train")
        t_local, rss_local, local = mlops(root, "monitor", "batch", "--fail-on", "none")
        t_dask, rss_dask, dask = mlops(
            root, "monitor", "batch", "--fail-on", "none", "--scheduler", cluster.scheduler_address
        )
        peaks = client.run(_peak_rss_mib)
    same = _agree(local, dask)
    print(f"mlops monitor, {args.rows:,} rows x 25 cols in {args.files} files (model scored)")
    print(f"local engine     {t_local:8.2f} s  ({args.rows / t_local:,.0f} rows/s)")
    print(f"dask, 2 workers  {t_dask:8.2f} s  ({args.rows / t_dask:,.0f} rows/s)")
    print(f"dask / local     {t_dask / t_local:8.2f}x")
    print(
        f"peak RSS of the monitor process, MiB: local {rss_local:.0f}, dask client {rss_dask:.0f}"
    )
    print("peak RSS per worker, MiB: " + ", ".join(f"{v:.0f}" for v in peaks.values()))
    print(f"reports agree (rows, drift, alerts): {same}")


def _agree(a: dict, b: dict) -> bool:  # type: ignore[type-arg]
    """Same rows, alerts and drifted columns, and every drift score and p-value within 1e-12."""

    def figures(doc: dict) -> list[tuple[str, object, object, object]]:  # type: ignore[type-arg]
        out = []
        for w in [doc, *doc["windows"]]:  # the whole batch, then each window
            for block in ("drift", "prediction_drift"):
                for c in (w.get(block) or {}).get("columns", []):
                    out.append((c["column"], c["score"], c["p_value"], c["drifted"]))
        return out

    fa, fb = figures(a), figures(b)
    close = all(
        x[0] == y[0] and x[3] == y[3] and _close(x[1], y[1]) and _close(x[2], y[2])
        for x, y in zip(fa, fb, strict=True)
    )
    alerts = [x.get("message") for x in a.get("alerts", [])]
    return (
        bool(fa)
        and close
        and alerts == [x.get("message") for x in b.get("alerts", [])]
        and (a["data"]["rows"] == b["data"]["rows"])
    )


def _close(x: object, y: object) -> bool:
    import math

    if isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)
    return x == y


if __name__ == "__main__":
    main()
