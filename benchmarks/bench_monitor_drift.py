"""Drift from profiles (mlops.stats) vs a plain scipy loop, and optionally Evidently, on one dataset.

Data: reference and current frames of ROWS x 25 columns (20 float: normal, lognormal, uniform,
exponential in turn; 5 string categoricals with 10 levels), a few columns shifted in current.

Each measured variant runs in a fresh child process that reads the same parquet files; the
figures are the compute time after loading and the child's peak RSS (ru_maxrss):
  mlops    build_spec(reference) + profile_chunks(reference) + profile_chunks(current) + compute_drift
  scipy    per numeric column ks_2samp + wasserstein_distance / std; per categorical column
           chi2_contingency over the union of categories
  evidently  (--evidently) Report([DataDriftPreset()]).run(current, reference) in its own venv
           (Evidently needs pandas<3)

    python benchmarks/bench_monitor_drift.py [--rows 1000000] [--reps 3] [--evidently]
        [--evidently-venv DIR] [--dir DIR]

--dir: where the Parquet files go (default: a new temporary directory, removed at the end).
--evidently-venv (else $EVIDENTLY_VENV, else <temp dir>/mlops-bench/evidently, e.g.
/tmp/mlops-bench/evidently) is created on first use, as by hand with

    python -m venv /tmp/mlops-bench/evidently
    /tmp/mlops-bench/evidently/bin/pip install evidently==0.7.23 "pandas<3" pyarrow
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

EVIDENTLY_VENV = Path(
    os.environ.get("EVIDENTLY_VENV", Path(tempfile.gettempdir()) / "mlops-bench" / "evidently")
)
ROOT = Path(__file__).resolve().parents[1]


def make_data(rows: int, out: Path) -> None:
    import numpy as np
    import pandas as pd

    def frame(seed: int, shifted: bool) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        cols: dict[str, object] = {}
        gens = [rng.normal, rng.lognormal, rng.uniform, rng.exponential]
        for i in range(20):
            x = gens[i % 4](size=rows)
            if shifted and i in (0, 4):
                x = x + 0.5 * x.std()
            cols[f"n{i:02d}"] = x
        levels = np.array([f"level{j}" for j in range(10)])
        for i in range(5):
            p = np.arange(1, 11, dtype=float)
            if shifted and i == 0:
                p = p[::-1].copy()
            cols[f"c{i}"] = levels[rng.choice(10, size=rows, p=p / p.sum())]
        return pd.DataFrame(cols)

    frame(1, False).to_parquet(out / "reference.parquet")
    frame(2, True).to_parquet(out / "current.parquet")


def run_mlops(data: Path) -> dict:
    import pandas as pd

    sys.path.insert(0, str(ROOT / "src"))
    from mlops.stats import build_spec, compute_drift, profile_chunks

    ref, cur = (
        pd.read_parquet(data / "reference.parquet"),
        pd.read_parquet(data / "current.parquet"),
    )
    t0, c0 = time.perf_counter(), time.process_time()
    spec = build_spec(ref)
    t1 = time.perf_counter()
    ref_prof = profile_chunks(ref, spec)
    cur_prof = profile_chunks(cur, spec)
    t2 = time.perf_counter()
    result = compute_drift(ref_prof, cur_prof)
    t3 = time.perf_counter()
    return {
        "seconds": t3 - t0,
        "cpu_seconds": time.process_time() - c0,
        "phases": {"build_spec": t1 - t0, "profile_both": t2 - t1, "compute_drift": t3 - t2},
        "drifted": result.drifted_columns,
        "profile_json_bytes": len(json.dumps(ref_prof.to_dict())),
    }


def run_scipy(data: Path) -> dict:
    import numpy as np
    import pandas as pd
    from scipy import stats

    ref, cur = (
        pd.read_parquet(data / "reference.parquet"),
        pd.read_parquet(data / "current.parquet"),
    )
    t0, c0 = time.perf_counter(), time.process_time()
    drifted = []
    for name in ref.columns:
        if pd.api.types.is_numeric_dtype(ref[name]):
            a, b = ref[name].dropna().to_numpy(), cur[name].dropna().to_numpy()
            stats.ks_2samp(a, b)
            if stats.wasserstein_distance(a, b) / max(a.std(), 1e-3) >= 0.1:
                drifted.append(name)
        else:
            table = pd.concat([ref[name].value_counts(), cur[name].value_counts()], axis=1).fillna(
                0
            )
            stats.chi2_contingency(np.asarray(table).T)
    return {
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
        "drifted": drifted,
    }


def run_evidently(data: Path) -> dict:
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    ref, cur = (
        pd.read_parquet(data / "reference.parquet"),
        pd.read_parquet(data / "current.parquet"),
    )
    t0, c0 = time.perf_counter(), time.process_time()
    snapshot = Report([DataDriftPreset()]).run(cur, ref)
    snapshot.dict()
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}


def child(variant: str, data: Path, python: str = sys.executable) -> dict:
    code = (
        f"import json, resource, sys; sys.path.insert(0, {str(ROOT)!r}); "
        "import benchmarks.bench_monitor_drift as b; from pathlib import Path; "
        f"r = b.run_{variant}(Path({str(data)!r})); "
        "r['peak_rss_mib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; "
        "print(json.dumps(r))"
    )
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def evidently_python(venv: Path) -> str:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "evidently==0.7.23", "pandas<3", "pyarrow"],
            check=True,
        )
    return str(python)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--evidently", action="store_true", help="also run Evidently 0.7.23 in its venv"
    )
    parser.add_argument(
        "--evidently-venv",
        type=Path,
        default=EVIDENTLY_VENV,
        help="Evidently's venv, created if missing (default: $EVIDENTLY_VENV, else "
        "<temp dir>/mlops-bench/evidently)",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="keep the Parquet files here (default: a temp dir)"
    )
    args = parser.parse_args()

    variants = {"mlops": sys.executable, "scipy": sys.executable}
    if args.evidently:
        variants["evidently"] = evidently_python(args.evidently_venv)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.dir or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        make_data(args.rows, data)
        runs: dict[str, list[dict]] = {v: [] for v in variants}
        for rep in range(args.reps):
            order = list(variants) if rep % 2 == 0 else list(reversed(variants))
            for v in order:
                runs[v].append(child(v, data, variants[v]))
    print(
        f"rows per frame: {args.rows:,} x 25 columns, {args.reps} reps, cpus: {os.cpu_count()}, "
        f"load avg: {os.getloadavg()[0]:.1f}"
    )
    summary = {}
    for v, rs in runs.items():
        secs = statistics.median(r["seconds"] for r in rs)
        cpu = statistics.median(r["cpu_seconds"] for r in rs)
        rss = statistics.median(r["peak_rss_mib"] for r in rs)
        summary[v] = (secs, cpu)
        extra = ""
        if v == "mlops":
            phases = {
                k: round(statistics.median(r["phases"][k] for r in rs), 3) for k in rs[0]["phases"]
            }
            extra = f"  phases {phases}  profile.json {rs[0]['profile_json_bytes'] / 1024:.0f} KiB"
        drifted = rs[0].get("drifted")
        print(
            f"{v:10s} median {secs:7.2f} s wall, {cpu:7.2f} s cpu  (runs {[round(r['seconds'], 2) for r in rs]})  "
            f"peak RSS {rss:7.0f} MiB{extra}"
            + (f"  drifted {drifted}" if drifted is not None else "")
        )
    for v in summary:
        if v != "mlops":
            wall = summary[v][0] / summary["mlops"][0]
            cpu_ratio = summary[v][1] / summary["mlops"][1]
            print(f"ratio {v} / mlops: {wall:.1f}x wall, {cpu_ratio:.1f}x cpu")


if __name__ == "__main__":
    main()
