"""`mlops demo` (the whole loop and its five HTML reports) at two versions of the code.

    python benchmarks/bench_demo.py [--base REV] [--runs 3]

REV (a git revision of this repository, default `main`) is exported to a temporary directory;
its `src/` and this checkout's take turns (base, this, base, this, ...) so that machine load
falls on both alike. Each run is a whole process, `python -m mlops demo DIR` on a fresh DIR;
its wall time and CPU time (user + system of it and its children, a helper process included)
are printed per run with the 1-minute load average, then the medians and their ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def export(rev: str, dest: Path) -> Path:
    """`src/` of git revision rev, unpacked under dest; returns that src directory."""
    archive = dest / "src.tar"
    with archive.open("wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], stdout=f, check=True)
    with tarfile.open(archive) as t:
        t.extractall(dest, filter="data")
    return dest / "src"


def run_demo(src: Path, work: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one `mlops demo` process run on src."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mlops", "demo", str(work)],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="main")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"base": [], "this": []}
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        sources = {"base": export(args.base, Path(tmp)), "this": ROOT / "src"}
        for i in range(args.runs):
            for name, src in sources.items():
                load = os.getloadavg()[0]
                wall, cpu = run_demo(src, Path(tmp) / f"{name}-{i}")
                results[name].append((wall, cpu))
                print(f"{name:4} run {i + 1}: {wall:6.2f} s wall {cpu:6.2f} s CPU  load {load:.1f}")
    med = {
        k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for k, v in results.items()
    }
    for k, (w, c) in med.items():
        print(f"{k:4} median: {w:.2f} s wall, {c:.2f} s CPU")
    (bw, bc), (tw, tc) = med["base"], med["this"]
    print(f"base / this: {bw / tw:.2f}x wall, {bc / tc:.2f}x CPU")


if __name__ == "__main__":
    main()
