"""Drift computation: mlops (mergeable profiles) vs Evidently 0.7.23 DataDriftPreset, side by side.

    python benchmarks/bench_monitor.py [--rows 1000000] [--big-rows 50000000] [--reps 1]
        [--mlops-reps 1] [--evidently-python PYTHON] [--dir DIR] [--skip-evidently]

--dir (default: <temp dir>/mlops-bench/monitor, e.g. /tmp/mlops-bench/monitor) holds the Parquet
files and summary_<rows>.json. Each repetition runs Evidently once and mlops `--mlops-reps` times
(mlops first, then Evidently, then the other mlops runs); ratios use the medians. --evidently-python (else $EVIDENTLY_PYTHON, else
<temp dir>/mlops-bench/evidently/bin/python) is the peer's interpreter; create that venv with

    python -m venv /tmp/mlops-bench/evidently
    /tmp/mlops-bench/evidently/bin/pip install evidently==0.7.23 "pandas<3" pyarrow

Data: reference and current frames of 25 columns (20 float64: normal, lognormal, uniform,
exponential in turn; 5 string categoricals of 10 levels), written to Parquet first. In the current
frame n00 moves +0.5 sd, n01 scales x1.5, n02 +0.1 sd, n03 +0.02 sd, n04 +0.25 sd, c0's level
probabilities change and n10 goes from 1% to 5% missing.

`--stages` instead prints the CPU seconds of each stage of the mlops side (reading one file,
the spec, each profile, numeric and categorical column updates, drift and quality), median of 3.

Each measured side is a fresh child process; peak RSS is the child's ru_maxrss from os.wait4.
  mlops:     read both Parquet files in chunks (Arrow record batches, `iter_batches`), build the
             reference spec, profile both, compute drift (default methods, BH correction) and
             data quality, write the JSON result.
  evidently: read both Parquet files, Dataset.from_pandas x2,
             Report([DataDriftPreset()], include_tests=True).run(), .dict() -> JSON.
Evidently needs pandas<3, hence its own venv. The big run streams `--big-rows` rows of current Parquet through mlops alone and
reports rows per second and peak RSS.
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

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
BENCH_TMP = Path(tempfile.gettempdir()) / "mlops-bench"


def make_frame(rows: int, seed: int, shifted: bool):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = {}
    shifts = {
        0: ("loc", 0.5),
        1: ("scale", 1.5),
        2: ("loc", 0.1),
        3: ("loc", 0.02),
        4: ("loc", 0.25),
    }
    for i in range(20):
        kind = i % 4
        if kind == 0:
            x = rng.normal(0, 1, rows)
        elif kind == 1:
            x = rng.lognormal(0, 0.5, rows)
        elif kind == 2:
            x = rng.uniform(0, 1, rows)
        else:
            x = rng.exponential(1, rows)
        if shifted and i in shifts:
            how, by = shifts[i]
            sd = float(np.std(x))
            x = x + by * sd if how == "loc" else (x - x.mean()) * by + x.mean()
        if i == 10:
            x[rng.random(rows) < (0.05 if shifted else 0.01)] = np.nan
        cols[f"n{i:02d}"] = x
    levels = np.array([f"level_{j}" for j in range(10)], dtype=object)
    for i in range(5):
        p = np.full(10, 0.1)
        if shifted and i == 0:
            p = np.array([0.2, 0.15, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.1, 0.05])
        cols[f"c{i}"] = levels[rng.choice(10, rows, p=p)]
    return pd.DataFrame(cols)


def write_data(directory: Path, rows: int) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    ref, cur = directory / f"ref_{rows}.parquet", directory / f"cur_{rows}.parquet"
    if not ref.exists():
        make_frame(rows, 1, False).to_parquet(ref, row_group_size=200_000)
    if not cur.exists():
        make_frame(rows, 2, True).to_parquet(cur, row_group_size=200_000)
    return ref, cur


def write_big(directory: Path, rows: int, part_rows: int = 1_000_000) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = directory / f"big_{rows}.parquet"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    writer = None
    done = 0
    seed = 100
    while done < rows:
        n = min(part_rows, rows - done)
        table = pa.Table.from_pandas(make_frame(n, seed, True), preserve_index=False)
        writer = writer or pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table, row_group_size=200_000)
        done += n
        seed += 1
    assert writer is not None
    writer.close()
    tmp.rename(path)
    return path


# -- the measured sides (run in child processes) -------------------------------------------------
def side_mlops(ref: Path, cur: Path, out: Path, chunk_rows: int) -> dict:
    t0 = time.perf_counter()
    import pyarrow.parquet  # noqa: F401  (imports are timed apart, as on the Evidently side)
    import scipy.special  # noqa: F401

    from mlops.data.readers import iter_batches
    from mlops.stats.drift import compute_drift
    from mlops.stats.profile import build_spec, profile_chunks
    from mlops.stats.quality import compute_quality

    t_import = time.perf_counter() - t0
    t1, c1 = time.perf_counter(), time.process_time()
    spec = build_spec(iter_batches([ref], chunk_rows=chunk_rows))
    reference = profile_chunks(iter_batches([ref], chunk_rows=chunk_rows), spec)
    current = profile_chunks(iter_batches([cur], chunk_rows=chunk_rows), spec)
    drift = compute_drift(reference, current)
    quality = compute_quality(reference, current)
    out.write_text(json.dumps({"drift": drift.to_dict(), "quality": quality.to_dict()}))
    return {
        "import_s": t_import,
        "compute_s": time.perf_counter() - t1,
        "compute_cpu_s": time.process_time() - c1,
        "rows": current.rows,
        "drifted": drift.drifted_columns,
        "scores": {c.column: c.score for c in drift.columns},
    }


def side_stages(ref: Path, cur: Path, out: Path, chunk_rows: int) -> dict:
    """CPU seconds of each stage of the mlops side (median of 3 after a warm-up run)."""
    import statistics

    from mlops.data.readers import iter_batches
    from mlops.stats.columns import column
    from mlops.stats.drift import compute_drift
    from mlops.stats.profile import DatasetProfile, NumericProfile, build_spec, profile_chunks
    from mlops.stats.quality import compute_quality

    def batches(path: Path):  # type: ignore[no-untyped-def]
        return iter_batches([path], chunk_rows=chunk_rows)

    def updates(spec) -> dict:  # type: ignore[no-untyped-def]
        prof, cpu = DatasetProfile.empty(spec), {"numeric": 0.0, "categorical": 0.0}
        for batch in batches(cur):
            for name, col in prof.columns.items():
                c = time.process_time()
                col.update(column(batch, name))
                kind = "numeric" if isinstance(col, NumericProfile) else "categorical"
                cpu[kind] += time.process_time() - c
        return cpu

    runs: list[dict] = []
    for _ in range(4):
        c = [time.process_time()]
        n_read = sum(len(b) for b in batches(cur))
        c.append(time.process_time())
        spec = build_spec(batches(ref))
        c.append(time.process_time())
        reference = profile_chunks(batches(ref), spec)
        c.append(time.process_time())
        current = profile_chunks(batches(cur), spec)
        c.append(time.process_time())
        drift, quality = compute_drift(reference, current), compute_quality(reference, current)
        json.dumps([drift.to_dict(), quality.to_dict(), n_read])
        c.append(time.process_time())
        stages = ("read_one_file", "spec", "profile_reference", "profile_current", "drift_json")
        run = {k: c[i + 1] - c[i] for i, k in enumerate(stages)}
        runs.append({**run, **{f"updates_{k}": v for k, v in updates(spec).items()}})
    out.write_text(json.dumps(runs))
    return {k: statistics.median(r[k] for r in runs[1:]) for k in runs[0]}


def side_evidently(ref: Path, cur: Path, out: Path) -> dict:
    t0 = time.perf_counter()
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    r, c = pd.read_parquet(ref), pd.read_parquet(cur)
    t_load = time.perf_counter() - t1
    t2, c2 = time.perf_counter(), time.process_time()
    num = [x for x in r.columns if x.startswith("n")]
    cat = [x for x in r.columns if x.startswith("c")]
    definition = DataDefinition(numerical_columns=num, categorical_columns=cat)
    rd = Dataset.from_pandas(r, data_definition=definition)
    cd = Dataset.from_pandas(c, data_definition=definition)
    snap = Report([DataDriftPreset()], include_tests=True).run(cd, rd)
    out.write_text(json.dumps(snap.dict(), default=str))
    return {
        "import_s": t_import,
        "load_s": t_load,
        "compute_s": time.perf_counter() - t2,
        "compute_cpu_s": time.process_time() - c2,
        "total_s": time.perf_counter() - t1,
    }


def run_child(
    python: str, side: str, ref: Path, cur: Path, directory: Path, chunk_rows: int
) -> dict:
    out = directory / f"out_{side}.json"
    stats = directory / f"stats_{side}.json"
    code = (
        "import json,sys;sys.path.insert(0,{!r});import bench_monitor as b;"
        "from pathlib import Path;"
        "r=b.side_{}(Path({!r}),Path({!r}),Path({!r}){});"
        "open({!r},'w').write(json.dumps(r))"
    ).format(
        str(HERE),
        side,
        str(ref),
        str(cur),
        str(out),
        f",{chunk_rows}" if side != "evidently" else "",
        str(stats),
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    t0 = time.perf_counter()
    proc = subprocess.Popen([python, "-c", code], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{side} child failed with status {status}")
    result = json.loads(stats.read_text())
    result["wall_s"] = wall
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["peak_rss_mib"] = usage.ru_maxrss / 1024
    return result


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--big-rows", type=int, default=50_000_000)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--mlops-reps", type=int, default=1, help="mlops runs per repetition")
    ap.add_argument("--chunk-rows", type=int, default=200_000)
    ap.add_argument("--dir", type=Path, default=BENCH_TMP / "monitor", help="work directory")
    ap.add_argument(
        "--evidently-python",
        default=os.environ.get("EVIDENTLY_PYTHON", str(BENCH_TMP / "evidently" / "bin" / "python")),
        help="Python of a venv with evidently==0.7.23 (default: $EVIDENTLY_PYTHON, else "
        "<temp dir>/mlops-bench/evidently/bin/python)",
    )
    ap.add_argument("--skip-evidently", action="store_true")
    ap.add_argument(
        "--stages", action="store_true", help="print the CPU time of each mlops stage and exit"
    )
    args = ap.parse_args()
    if args.stages:
        ref, cur = write_data(args.dir, args.rows)
        res = run_child(sys.executable, "stages", ref, cur, args.dir, args.chunk_rows)
        print(json.dumps(res, indent=2))
        return
    if not args.skip_evidently and not Path(args.evidently_python).exists():
        raise SystemExit(
            f"no {args.evidently_python}: create the Evidently venv (see --help) or pass "
            "--skip-evidently"
        )
    ref, cur = write_data(args.dir, args.rows)
    summary: dict = {"rows": args.rows, "columns": 25, "runs": []}
    for rep in range(args.reps):
        order = ["mlops", "evidently"] if rep % 2 == 0 else ["evidently", "mlops"]
        order += ["mlops"] * (args.mlops_reps - 1)
        for side in order:
            if side == "evidently" and args.skip_evidently:
                continue
            python = sys.executable if side == "mlops" else args.evidently_python
            res = run_child(python, side, ref, cur, args.dir, args.chunk_rows)
            res["side"], res["rep"] = side, rep
            summary["runs"].append(res)
            print(json.dumps(res), flush=True)
    ours = [r for r in summary["runs"] if r["side"] == "mlops"]
    theirs = [r for r in summary["runs"] if r["side"] == "evidently"]
    if ours and theirs:
        med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        keys = ("compute_s", "compute_cpu_s", "wall_s", "cpu_s", "peak_rss_mib")
        summary["mlops_median"] = {k: med([r[k] for r in ours]) for k in keys}
        summary["evidently_median"] = {k: med([r[k] for r in theirs]) for k in keys}
        # ours includes reading Parquet; Evidently's compute excludes it (conservative for us)
        summary["speedup_compute"] = med([r["compute_s"] for r in theirs]) / med(
            [r["compute_s"] for r in ours]
        )
        summary["speedup_compute_cpu"] = med([r["compute_cpu_s"] for r in theirs]) / med(
            [r["compute_cpu_s"] for r in ours]
        )
        summary["speedup_cpu"] = med([r["cpu_s"] for r in theirs]) / med([r["cpu_s"] for r in ours])
        summary["speedup_wall"] = med([r["wall_s"] for r in theirs]) / med(
            [r["wall_s"] for r in ours]
        )
        summary["rss_ratio"] = med([r["peak_rss_mib"] for r in ours]) / med(
            [r["peak_rss_mib"] for r in theirs]
        )
    if args.big_rows:
        t0 = time.perf_counter()
        big = write_big(args.dir, args.big_rows)
        print(f"wrote {big} in {time.perf_counter() - t0:.0f}s", flush=True)
        res = run_child(sys.executable, "mlops", ref, big, args.dir, args.chunk_rows)
        res["rows_per_s"] = res["rows"] / res["compute_s"]
        summary["big"] = res
        print(json.dumps(res), flush=True)
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    (args.dir / f"summary_{args.rows}.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
