"""Validation speed and peak memory: mlops vs pandera (lazy=True), and a large Parquet run.

    python benchmarks/bench_validate.py compare [--rows 5000000] [--rounds 5] [--interleave 3]
        [--pandera-python PY]
    python benchmarks/bench_validate.py parquet [--rows 50000000] [--path FILE]

`compare` runs each validator in its own subprocess (so peak RSS does not mix) on the same
seeded frame: 4 float columns in [-9, 9] with 1% NaN (nullable), 3 int64 columns in [0, 1000],
3 text columns with 5-8 categories. Checks in both: dtype, nullability, range on the 7 numeric
columns, allowed set on the 3 text columns. "dirty" puts 0.1% bad values into three columns.
pandera runs from --pandera-python (else $PANDERA_PYTHON, else
<temp dir>/mlops-bench/pandera/bin/python, e.g. /tmp/mlops-bench/pandera/bin/python); create
that venv with

    python -m venv /tmp/mlops-bench/pandera
    /tmp/mlops-bench/pandera/bin/pip install pandera==0.35.0 pandas numpy

`parquet` writes FILE once (default: <temp dir>/mlops-bench/validate.parquet) and reuses it.
Peak memory is ru_maxrss after validation minus ru_maxrss after building the frame.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
BENCH_TMP = Path(tempfile.gettempdir()) / "mlops-bench"
CATEGORIES = [
    ["a", "b", "c", "d", "e"],
    ["red", "green", "blue", "cyan", "magenta", "yellow"],
    ["north", "south", "east", "west", "up", "down", "in", "out"],
]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_high_water_mark() -> bool:
    """Linux only: reset VmHWM so a later reading covers only what follows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def proc_status_mib(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_frame(rows: int, dirty: bool, seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    data = {}
    for i in range(4):
        values = rng.uniform(-9, 9, rows)
        values[rng.random(rows) < 0.01] = np.nan
        data[f"f{i}"] = values
    for i in range(3):
        data[f"i{i}"] = rng.integers(0, 1001, rows)
    for i, cats in enumerate(CATEGORIES):
        data[f"s{i}"] = pd.Series(
            np.array(cats, dtype=object)[rng.integers(0, len(cats), rows)], dtype="str"
        )
    frame = pd.DataFrame(data)
    if dirty:
        bad = rng.random(rows) < 0.001
        frame.loc[bad, "f0"] = 50.0
        frame.loc[bad, "i1"] = -1
        frame.loc[bad, "s2"] = "nowhere"
    return frame


def ours_validator():
    sys.path.insert(0, str(SRC))
    from mlops.data.schema import DatasetSchema
    from mlops.data.validate import validate_frame

    columns: dict = {}
    for i in range(4):
        columns[f"f{i}"] = {"dtype": "float", "nullable": True, "min": -9, "max": 9}
    for i in range(3):
        columns[f"i{i}"] = {"dtype": "int", "min": 0, "max": 1000}
    for i, cats in enumerate(CATEGORIES):
        columns[f"s{i}"] = {"dtype": "category", "allowed": cats}
    # pandera's checks do not look for +/-inf, so ours does not either here.
    schema = DatasetSchema.model_validate({"columns": columns, "allow_nan_inf": True})

    def run(frame) -> int:
        report = validate_frame(frame, schema)
        return sum(c.failing_rows for c in report.failures)

    return run


def pandera_validator(inplace: bool):
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

    columns = {}
    for i in range(4):
        columns[f"f{i}"] = pa.Column(float, pa.Check.in_range(-9, 9), nullable=True)
    for i in range(3):
        columns[f"i{i}"] = pa.Column("int64", pa.Check.in_range(0, 1000))
    for i, cats in enumerate(CATEGORIES):
        columns[f"s{i}"] = pa.Column(str, pa.Check.isin(cats))
    schema = pa.DataFrameSchema(columns)

    def run(frame) -> int:
        try:
            schema.validate(frame, lazy=True, inplace=inplace)
        except SchemaErrors as exc:
            return len(exc.failure_cases)
        return 0

    return run


def worker(method: str, rows: int, dirty: bool, rounds: int) -> None:
    import gc

    frame = make_frame(rows, dirty)
    if method == "mlops":
        run = ours_validator()
    else:
        run = pandera_validator(inplace=method == "pandera-inplace")
    run(frame.head(1000))
    gc.collect()
    before = peak_rss_mib()
    rss_before = proc_status_mib("VmRSS")
    hwm_reset = reset_high_water_mark()
    times, failures = [], 0
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        failures = run(frame)
        times.append(time.perf_counter() - start)
    out = {
        "method": method,
        "best_s": min(times),
        "median_s": statistics.median(times),
        # ru_maxrss cannot be reset, and building the frame peaks higher than a validation
        # that copies nothing; VmHWM (reset above) shows the validation's own peak.
        "extra_peak_mib": (proc_status_mib("VmHWM") if hwm_reset else peak_rss_mib()) - rss_before,
        "ru_maxrss_mib": peak_rss_mib(),
        "maxrss_before_mib": before,
        "failures": failures,
    }
    print(json.dumps(out))


def merged(runs: list[dict]) -> dict:
    """One method's processes together: best of bests, median of medians, largest memory."""
    out = dict(runs[0])
    out["best_s"] = min(r["best_s"] for r in runs)
    out["median_s"] = statistics.median(r["median_s"] for r in runs)
    for key in ("extra_peak_mib", "ru_maxrss_mib"):
        out[key] = max(r[key] for r in runs)
    return out


def compare(rows: int, rounds: int, pandera_python: str, interleave: int = 3) -> None:
    print(
        f"rows={rows:,} columns=10 rounds={rounds} x {interleave} interleaved processes per "
        f"method; load average before: {os.getloadavg()[0]:.1f}"
    )
    header = (
        f"{'data':6} {'method':16} {'best s':>8} {'median s':>9} {'extra peak MiB':>15} "
        f"{'ru_maxrss MiB':>14} {'failures':>9}"
    )
    for dirty in (False, True):
        runs: dict[str, list[dict]] = {m: [] for m in ("mlops", "pandera", "pandera-inplace")}
        for _ in range(interleave):  # the methods take turns, so machine load hits all alike
            for method in runs:
                python = sys.executable if method == "mlops" else pandera_python
                cmd = [python, __file__, "worker", method, str(rows), str(int(dirty)), str(rounds)]
                proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
                runs[method].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        results = {m: merged(r) for m, r in runs.items()}
        print(header if not dirty else "")
        if dirty:
            print(header)
        for method, r in results.items():
            print(
                f"{'dirty' if dirty else 'clean':6} {method:16} {r['best_s']:8.3f} {r['median_s']:9.3f} "
                f"{r['extra_peak_mib']:15.1f} {r['ru_maxrss_mib']:14.0f} {r['failures']:9d}"
            )
        ours = results["mlops"]
        for peer in ("pandera", "pandera-inplace"):
            p = results[peer]
            print(
                f"  {peer} / mlops: time {p['best_s'] / ours['best_s']:.2f}x (best), "
                f"{p['median_s'] / ours['median_s']:.2f}x (median); extra peak memory "
                f"{p['extra_peak_mib']:.0f} vs {ours['extra_peak_mib']:.0f} MiB, process peak "
                f"{p['ru_maxrss_mib'] / ours['ru_maxrss_mib']:.2f}x"
            )


def write_parquet(path: Path, rows: int, row_group: int = 1_000_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    done = 0
    seed = 0
    while done < rows:
        n = min(row_group, rows - done)
        table = pa.Table.from_pandas(make_frame(n, dirty=False, seed=seed), preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=row_group)
        done += n
        seed += 1
    assert writer is not None
    writer.close()


def parquet_worker(path: Path, chunk_rows: int) -> None:
    sys.path.insert(0, str(SRC))
    from mlops.data.readers import iter_chunks_with_offset
    from mlops.data.schema import DatasetSchema
    from mlops.data.validate import validate_chunks

    columns: dict = {
        f"f{i}": {"dtype": "float", "nullable": True, "min": -9, "max": 9} for i in range(4)
    }
    columns |= {f"i{i}": {"dtype": "int", "min": 0, "max": 1000} for i in range(3)}
    columns |= {f"s{i}": {"dtype": "category", "allowed": c} for i, c in enumerate(CATEGORIES)}
    schema = DatasetSchema.model_validate({"columns": columns})
    before = peak_rss_mib()
    start = time.perf_counter()
    report = validate_chunks(iter_chunks_with_offset([path], chunk_rows=chunk_rows), schema)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "rows": report.n_rows,
                "passed": report.passed,
                "seconds": seconds,
                "rows_per_s": report.n_rows / seconds,
                "peak_rss_mib": peak_rss_mib(),
                "rss_before_mib": before,
            }
        )
    )


def parquet(rows: int, path: Path, chunk_rows: int) -> None:
    start = time.perf_counter()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_parquet(path, rows)
    print(
        f"wrote/used {path} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - start:.0f} s"
    )
    cmd = [sys.executable, __file__, "parquet-worker", str(path), str(chunk_rows)]
    result = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    print(
        f"validated {result['rows']:,} rows in {result['seconds']:.1f} s "
        f"({result['rows_per_s'] / 1e6:.2f} M rows/s), passed={result['passed']}, "
        f"peak RSS {result['peak_rss_mib']:.0f} MiB (after imports: {result['rss_before_mib']:.0f} MiB)"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        _, _, method, rows, dirty, rounds = sys.argv
        worker(method, int(rows), bool(int(dirty)), int(rounds))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "parquet-worker":
        parquet_worker(Path(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["compare", "parquet"])
    parser.add_argument("--rows", type=int)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--interleave", type=int, default=3, help="processes per method, in turn")
    parser.add_argument(
        "--pandera-python",
        default=os.environ.get("PANDERA_PYTHON", str(BENCH_TMP / "pandera" / "bin" / "python")),
        help="Python of a venv with pandera (default: $PANDERA_PYTHON, else "
        "<temp dir>/mlops-bench/pandera/bin/python)",
    )
    parser.add_argument("--path", type=Path, default=BENCH_TMP / "validate.parquet")
    parser.add_argument("--chunk-rows", type=int, default=500_000)
    args = parser.parse_args()
    if args.mode == "compare":
        if not Path(args.pandera_python).exists():
            raise SystemExit(f"no {args.pandera_python}: create the pandera venv (see --help)")
        compare(args.rows or 5_000_000, args.rounds, args.pandera_python, args.interleave)
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    else:
        parquet(args.rows or 50_000_000, args.path, args.chunk_rows)


if __name__ == "__main__":
    main()
