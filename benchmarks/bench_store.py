"""Store throughput against plain hashing, in the same run.

Run by hand:  python benchmarks/bench_store.py [--size-mib 1024] [--files 10000] [--keep DIR]
1. `mlops add` of a SIZE file (fresh store) vs hashlib SHA-256 of the same file (page cache warm),
   runs interleaved: the whole command against a Python process that only hashes the file, and
   Store.add_path against hashlib in one process. Target ratio <= 1.2. The store reads the file
   once, hashing it while it copies it to staging, then fsyncs and publishes the copy.
2. Re-adding the unchanged file: served from the state cache (no hash, no copy).
3. `mlops add` of a directory of FILES small files: files per second.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def env(store: Path) -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(SRC) + os.pathsep + e.get("PYTHONPATH", "")
    e["MLOPS_STORE"] = str(store)
    return e


def mlops(store: Path, *args: str) -> tuple[float, dict]:
    start = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "mlops", "--json", *args],
        env=env(store),
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, json.loads(p.stdout)


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far: steadier than wall
    time on a loaded machine, though it leaves out waiting for the disk."""
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def sha256_time(path: Path) -> float:
    start = time.perf_counter()
    with open(path, "rb") as f:
        hashlib.file_digest(f, "sha256")
    return time.perf_counter() - start


HASH_ONLY = (
    "import hashlib, sys\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    hashlib.file_digest(f, 'sha256')\n"
)


def sha256_process_time(path: Path) -> float:
    """A whole Python process that hashes the file: start-up included, as for `mlops add`."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", HASH_ONLY, str(path)], check=True)
    return time.perf_counter() - start


def copy_fsync_time(src: Path, dst: Path) -> float:
    """The floor for any store that keeps its own copy durably: kernel copy + fsync."""
    start = time.perf_counter()
    with open(src, "rb") as f, open(dst, "wb") as g:
        size = os.fstat(f.fileno()).st_size
        done = 0
        while done < size:
            n = os.copy_file_range(f.fileno(), g.fileno(), size - done)
            if n == 0:
                break
            done += n
        os.fsync(g.fileno())
    elapsed = time.perf_counter() - start
    dst.unlink()
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None, help="work directory (kept)")
    a = ap.parse_args()

    work = a.keep or Path(tempfile.mkdtemp(prefix="bench-store-", dir=os.getcwd()))
    work.mkdir(parents=True, exist_ok=True)
    big = work / "big.bin"
    if not big.exists() or big.stat().st_size != a.size_mib << 20:
        with open(big, "wb") as f:
            for _ in range(a.size_mib):
                f.write(os.urandom(1 << 20))
    sha256_time(big)  # warm the page cache

    print(f"load average before: {os.getloadavg()[0]:.1f}")
    hash_t, hash_p, add_t, readd_t, copy_t = [], [], [], [], []
    hash_pc, add_c, lib_c, lib_hc = [], [], [], []
    for i in range(a.runs):
        store = work / f"store-{i}"
        shutil.rmtree(store, ignore_errors=True)
        hash_t.append(sha256_time(big))
        c0 = children_cpu()
        hash_p.append(sha256_process_time(big))
        hash_pc.append(children_cpu() - c0)
        copy_t.append(copy_fsync_time(big, work / "copy.bin"))
        c0 = children_cpu()
        t, out = mlops(store, "add", str(big))
        add_c.append(children_cpu() - c0)
        add_t.append(t)
        assert out["stats"]["hashed"] == 1
        t, out = mlops(store, "add", str(big))
        readd_t.append(t)
        assert out["stats"]["cached"] == 1, out["stats"]
        shutil.rmtree(store)
    sys.path.insert(0, str(SRC))
    from mlops.store import Store

    lib_t, lib_h = [], []
    for i in range(a.runs):
        store = work / f"lib-{i}"
        shutil.rmtree(store, ignore_errors=True)
        c0 = time.process_time()
        lib_h.append(sha256_time(big))
        lib_hc.append(time.process_time() - c0)
        with Store.open(store) as st:
            start, c0 = time.perf_counter(), time.process_time()
            st.add_path(big)
            lib_t.append(time.perf_counter() - start)
            lib_c.append(time.process_time() - c0)
        shutil.rmtree(store)
    with Store.open(work / "empty-store"):
        pass  # `ls` needs a store to list
    startup_t = statistics.median(mlops(work / "empty-store", "ls")[0] for _ in range(3))
    h, ad, re_ = (statistics.median(x) for x in (hash_t, add_t, readd_t))
    lib, lh = statistics.median(lib_t), statistics.median(lib_h)
    hp = statistics.median(hash_p)
    cp = statistics.median(copy_t)
    print(f"1 GiB-class file: {a.size_mib} MiB, median of {a.runs} interleaved runs")
    print(f"  hashlib sha256 (in-process)   {h:7.3f} s  ({a.size_mib / h:7.1f} MiB/s)")
    print(f"  python process hashing it     {hp:7.3f} s  (start-up included)")
    print(f"  copy_file_range + fsync       {cp:7.3f} s  (disk floor for a durable copy)")
    print(
        f"  mlops add, fresh store        {ad:7.3f} s  ratio {ad / hp:.2f} to the hashing process"
    )
    print(f"  mlops add again, unchanged    {re_:7.3f} s  (state cache: no hash, no copy)")
    hpc, adc = statistics.median(hash_pc), statistics.median(add_c)
    print(f"  CPU: hashing process {hpc:.3f} s, mlops add {adc:.3f} s, ratio {adc / hpc:.2f}")
    print(f"  `mlops ls` (process start)    {startup_t:7.3f} s")
    print(
        f"  Store.add_path in-process     {lib:7.3f} s  ratio {lib / lh:.2f} to hashlib (target <= 1.2)"
    )
    print(
        f"    each run: {' '.join(f'{t:.2f}' for t in lib_t)} s; hashlib {' '.join(f'{t:.2f}' for t in lib_h)} s"
    )

    tree = work / "many"
    if not tree.exists() or sum(1 for _ in tree.rglob("*.txt")) != a.files:
        shutil.rmtree(tree, ignore_errors=True)
        for i in range(a.files):
            d = tree / f"d{i // 500:03d}"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"f{i:05d}.txt").write_text(f"row {i}\n" * (1 + i % 7))
    store = work / "store-many"
    shutil.rmtree(store, ignore_errors=True)
    t, out = mlops(store, "add", str(tree), "--name", "many")
    assert out["stats"]["files"] == a.files
    t2, out2 = mlops(store, "add", str(tree), "--name", "many")
    assert out2["stats"]["cached"] == a.files
    lc, lhc = statistics.median(lib_c), statistics.median(lib_hc)
    print(f"  CPU in-process: hashlib {lhc:.3f} s, Store.add_path {lc:.3f} s, ratio {lc / lhc:.2f}")
    print(f"directory of {a.files} small files")
    print(f"  mlops add, fresh store        {t:7.3f} s  ({a.files / t:8.0f} files/s)")
    print(f"  mlops add again, unchanged    {t2:7.3f} s  ({a.files / t2:8.0f} files/s)")
    shutil.rmtree(store)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if a.keep is None:
        shutil.rmtree(work)
    return 0 if lib / lh <= 1.2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
