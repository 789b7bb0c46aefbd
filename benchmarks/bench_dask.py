"""The profile scan behind `mlops monitor` on the local engine vs a 2-worker Dask LocalCluster.

Writes ROWS x 25 columns (20 numeric, 5 categorical) as FILES Parquet files, builds a profile
spec from the first file, then profiles every file:
  local: one process, chunk by chunk (what `mlops monitor` does without --engine);
  dask:  one task per file on a LocalCluster(n_workers=2, processes=True), results merged in a
         tree on the workers (the cluster is started before the clock starts).
It prints wall time for each, their ratio, and the bytes each partition sends back (the pickled
profile), at ROWS and at ROWS/4, to show that the bytes do not grow with rows.

    python benchmarks/bench_dask.py                 # 2M rows, 8 files: a few minutes here
    python benchmarks/bench_dask.py --rows 50000000 --files 100

Also printed: the size of the merged profile the client receives, and a bound on the bytes moved
between processes (every partition and merge result, at the pickled size of one); the scheduler
itself receives only task metadata. Peak RSS per worker is each worker process's ru_maxrss.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def write_data(root: Path, rows: int, files: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    per = rows // files
    for i in range(files):
        frame = pd.DataFrame({f"n{j:02d}": rng.normal(j, 1 + j / 10, per) for j in range(20)})
        for j in range(5):
            frame[f"c{j}"] = rng.choice([f"v{k}" for k in range(10 + j * 5)], per)
        path = root / f"part-{i:04d}.parquet"
        frame.to_parquet(path, index=False)
        paths.append(path)
    return paths


def profile_file(path: Path, spec, chunk_rows: int):  # type: ignore[no-untyped-def]
    from mlops.data.readers import iter_chunks
    from mlops.stats.profile import profile_chunks

    return profile_chunks(iter_chunks([path], chunk_rows=chunk_rows), spec)


def merge(a, b):  # type: ignore[no-untyped-def]
    return a.merge(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    from mlops.lifecycle.engine.cluster import DaskEngine
    from mlops.lifecycle.engine.tree import tree_merge
    from mlops.stats.spec import build_spec

    # The cluster starts first: a spawned process inherits its parent's peak RSS (Linux keeps
    # ru_maxrss across fork and exec), so workers started later would report the parent's.
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        paths = write_data(Path(tmp), args.rows, args.files)
        spec = build_spec(pd.read_parquet(paths[0]))
        t0 = time.perf_counter()
        local = profile_file(paths[0], spec, args.chunk_rows)
        for p in paths[1:]:
            local = local.merge(profile_file(p, spec, args.chunk_rows))
        t_local = time.perf_counter() - t0

        engine = DaskEngine(client, cluster.scheduler_address, "bench", 2)
        t0 = time.perf_counter()
        futures = [client.submit(profile_file, p, spec, args.chunk_rows) for p in paths]
        merged = tree_merge(engine.client, futures, merge)
        t_dask = time.perf_counter() - t0
        sizes = [len(pickle.dumps(f.result())) for f in futures[:1]]
        peaks = client.run(_peak_rss_mib)
        one, two = futures[0].result(), futures[1].result()
        t0 = time.perf_counter()
        for _ in range(20):
            one.merge(two)
        t_merge = (time.perf_counter() - t0) / 20
        quarter = profile_chunks_rows(paths[0], spec, args.rows // args.files // 4)
        print(f"rows {args.rows:,} x 25 cols in {args.files} files")
        print(f"local engine     {t_local:8.2f} s  ({args.rows / t_local:,.0f} rows/s)")
        print(f"dask, 2 workers  {t_dask:8.2f} s  ({args.rows / t_dask:,.0f} rows/s)")
        print(f"ratio local/dask {t_local / t_dask:8.2f}")
        print(
            f"bytes back per partition: {sizes[0]:,} at {args.rows // args.files:,} rows, "
            f"{quarter:,} at {args.rows // args.files // 4:,} rows"
        )
        tasks = 2 * args.files - 1  # a profile per file, and one per merge
        print(
            f"bytes to the client (merged profile): {len(pickle.dumps(merged)):,}; at most "
            f"{tasks * sizes[0]:,} between processes ({tasks} results of about that size)"
        )
        per_file = t_local / args.files
        print(f"profile of one file (local) {per_file:.3f} s; one merge {t_merge * 1000:.1f} ms")
        print(f"merged profiles agree: rows {local.rows} == {merged.rows}")
        print("peak RSS per worker, MiB: " + ", ".join(f"{v:.0f}" for v in peaks.values()))
        print(f"peak RSS of this process (local engine and client), MiB: {_peak_rss_mib():.0f}")


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def profile_chunks_rows(path: Path, spec, rows: int) -> int:  # type: ignore[no-untyped-def]
    from mlops.stats.profile import profile_chunks

    return len(pickle.dumps(profile_chunks(pd.read_parquet(path).iloc[:rows], spec)))


if __name__ == "__main__":
    main()
