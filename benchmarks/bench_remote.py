"""Push and pull of the same files with `mlops` and with `dvc`, side by side in one run, to a
file:// remote and to a local S3 server (moto's, started here on 127.0.0.1).

Run by hand:
    scripts/setup_dvc_venv.sh                      # dvc + dvc-s3 in .venv-dvc (once)
    python benchmarks/bench_remote.py [--sets 1x1024,10000x40] [--targets s3] \
        [--one-changed] [--lineage] [--dvc PATH]

Each set is FILESxMIB: that many random files making that many MiB in all.

Each tool starts from its own store/cache that already holds the files (`mlops add` /
`dvc add`, not timed), pushes them to an empty remote (timed), pushes again with nothing new
(timed), then a fresh store/cache pulls them back (timed): `mlops pull` fills the store only, so
it is compared with `dvc fetch` (cache only); `dvc pull` (fetch + checkout into the workspace)
is shown too. On S3 the floor is s3fs alone (`put`/`get` of the same files, its own
concurrency, no hashing or checks, in a fresh Python process like the two tools). Ratios are
mlops / dvc and mlops / floor: below 1 means mlops is faster.

--one-changed: after the set with the most files, one file changes; `mlops add` (and `dvc add`)
record the new version (not timed), and the second push is timed with the blobs it sent.
--lineage: the churn example is trained (`mlops run`) and pushed; a fresh store then pulls
churn@production --with-lineage (seconds and bytes moved).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def make_files(root: Path, files: int, total: int) -> None:
    root.mkdir(parents=True)
    size = max(1, total // files)
    for i in range(files):
        (root / f"part-{i:05d}.bin").write_bytes(os.urandom(size))


@contextmanager
def moto_server() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        import s3fs

        s3fs.S3FileSystem(endpoint_url=url, skip_instance_cache=True).mkdir("bench")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} in {cwd} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return took, p.stdout


def mlops_runs(work: Path, data: Path, url: str, endpoint: str | None, env: dict[str, str]):
    base = [sys.executable, "-m", "mlops", "--json"]
    a, b = work / "mlops-a", work / "mlops-b"
    extra = ["--endpoint-url", endpoint] if endpoint else []
    for store in (a, b):
        timed([*base, "--store", str(store), "remote", "add", "r", url, *extra], work, env)
    timed([*base, "--store", str(a), "add", str(data), "--name", "bench"], work, env)
    push, out = timed([*base, "--store", str(a), "push"], work, env)
    assert json.loads(out)["blobs_uploaded"] > 0
    again, _ = timed([*base, "--store", str(a), "push"], work, env)
    pull, out = timed([*base, "--store", str(b), "pull", "bench"], work, env)
    assert json.loads(out)["blobs_downloaded"] > 0
    return {"push": push, "push again": again, "pull (store only)": pull}


def dvc_runs(dvc: str, work: Path, data: Path, url: str, endpoint: str | None, env: dict):
    a, b = work / "dvc-a", work / "dvc-b"
    for repo in (a, b):
        repo.mkdir()
        timed([dvc, "init", "--no-scm", "-q"], repo, env)
        timed([dvc, "remote", "add", "-d", "r", url], repo, env)
        if endpoint:
            timed([dvc, "remote", "modify", "r", "endpointurl", endpoint], repo, env)
    shutil.copytree(data, a / "data")
    timed([dvc, "add", "data", "-q"], a, env)
    push, _ = timed([dvc, "push", "-q"], a, env)
    again, _ = timed([dvc, "push", "-q"], a, env)
    shutil.copy(a / "data.dvc", b / "data.dvc")
    fetch, _ = timed([dvc, "fetch", "-q"], b, env)
    shutil.rmtree(b / ".dvc" / "cache")
    pull, _ = timed([dvc, "pull", "-q"], b, env)
    return {"push": push, "push again": again, "pull (store only)": fetch, "pull + checkout": pull}


FLOOR = """
import os, sys, s3fs
mode, local, remote, endpoint = sys.argv[1:]
fs = s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)
if mode == "put":
    names = sorted(os.listdir(local))
    fs.put([os.path.join(local, n) for n in names], [f"{remote}/{n}" for n in names])
else:
    os.makedirs(local)
    names = sorted(p.rsplit("/", 1)[1] for p in fs.find(remote))
    fs.get([f"{remote}/{n}" for n in names], [os.path.join(local, n) for n in names])
"""


def floor_runs(work: Path, data: Path, url: str, endpoint: str, env: dict) -> dict[str, float]:
    """s3fs alone: put the files, then get them back into an empty directory."""
    cmd = [sys.executable, "-c", FLOOR]
    push, _ = timed([*cmd, "put", str(data), url, endpoint], work, env)
    pull, _ = timed([*cmd, "get", str(work / "floor-back"), url, endpoint], work, env)
    return {"push": push, "pull (store only)": pull}


def one_changed(
    data: Path, work: Path, dvc: str | None, env: dict[str, str]
) -> list[tuple[str, float, str]]:
    """Change one file of the pushed set, record it again, time the second push."""
    victim = sorted(data.iterdir())[len(list(data.iterdir())) // 2]
    victim.write_bytes(os.urandom(victim.stat().st_size))
    base = [sys.executable, "-m", "mlops", "--json", "--store", str(work / "mlops-a")]
    timed([*base, "add", str(data), "--name", "bench"], work, env)
    took, out = timed([*base, "push"], work, env)
    sent = json.loads(out)
    rows = [("mlops", took, f"{sent['blobs_uploaded']} blob(s), {sent['bytes_uploaded']} bytes")]
    if dvc:
        repo = work / "dvc-a"
        shutil.copy(victim, repo / "data" / victim.name)
        timed([dvc, "add", "data", "-q"], repo, env)
        took, _ = timed([dvc, "push", "-q"], repo, env)
        rows.append(("dvc", took, ""))
    return rows


def lineage_pull(work: Path, url: str, endpoint: str, env: dict[str, str]) -> tuple[float, dict]:
    """Train the churn example, push it, pull churn@production with its lineage afresh."""
    base = [sys.executable, "-m", "mlops", "--json"]
    project = work / "churn"
    timed([*base, "init", "--example", "churn", str(project)], work, env)
    timed([*base, "remote", "add", "r", url, "--endpoint-url", endpoint], project, env)
    timed([*base, "run"], project, env)
    timed([*base, "push"], project, env)
    fresh = [*base, "--store", str(work / "fresh")]
    timed([*fresh, "remote", "add", "r", url, "--endpoint-url", endpoint], work, env)
    took, out = timed([*fresh, "pull", "churn@production", "--with-lineage"], work, env)
    return took, json.loads(out)


def find_dvc(given: str | None) -> str | None:
    for candidate in (given, os.environ.get("MLOPS_DVC"), str(REPO / ".venv-dvc" / "bin" / "dvc")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def parse_sets(text: str) -> list[tuple[int, float]]:
    out = []
    for part in text.split(","):
        files, mib = part.lower().split("x")
        out.append((int(files), float(mib)))
    return out


def bench_set(
    work: Path, files: int, mib: float, targets: list[str], endpoint: str, dvc: str | None, env
) -> list[tuple]:
    """Every operation of one set on every target: (target, op, mlops s, dvc s, floor s)."""
    make_files(work / "data", files, int(mib * (1 << 20)))
    rows = []
    for target in targets:
        run_dir = work / target
        run_dir.mkdir()
        s3 = f"s3://bench/{work.name}"
        m_url = (run_dir / "remote-mlops").as_uri() if target == "file" else f"{s3}/mlops"
        d_url = str(run_dir / "remote-dvc") if target == "file" else f"{s3}/dvc"
        ep = endpoint if target == "s3" else None
        m = mlops_runs(run_dir, work / "data", m_url, ep, env)
        try:
            d = dvc_runs(dvc, run_dir, work / "data", d_url, ep, env) if dvc else {}
        except SystemExit as e:  # a dvc failure leaves its columns empty, the rest stands
            print(f"dvc failed: {str(e)[:300]}")
            d = {}
        f = floor_runs(run_dir, work / "data", f"{s3}/floor", endpoint, env) if ep else {}
        for op in ("push", "push again", "pull (store only)", "pull + checkout"):
            rows.append((target, op, m.get(op), d.get(op), f.get(op)))
    return rows


def _cell(value: float | None, fmt: str, width: int) -> str:
    return format(value, fmt) if value else f"{'-':>{width}}"


def print_rows(title: str, rows: list[tuple]) -> None:
    print(f"\n{title}")
    print(
        f"{'remote':6}  {'operation':18}  {'mlops s':>8}  {'dvc s':>8}  {'floor s':>8}  "
        f"{'mlops/dvc':>9}  {'mlops/floor':>11}"
    )
    for target, op, m_s, d_s, f_s in rows:
        print(
            f"{target:6}  {op:18}  {_cell(m_s, '8.2f', 8)}  {_cell(d_s, '8.2f', 8)}  "
            f"{_cell(f_s, '8.2f', 8)}  {_cell(m_s and d_s and m_s / d_s, '9.2f', 9)}  "
            f"{_cell(m_s and f_s and m_s / f_s, '11.2f', 11)}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="200x64", help="FILESxMIB,... (default 200x64)")
    ap.add_argument("--targets", default="file,s3", help="file,s3 (default both)")
    ap.add_argument("--one-changed", action="store_true", help="time a push of one changed file")
    ap.add_argument("--lineage", action="store_true", help="time a pull of a model's lineage")
    ap.add_argument("--dvc", help="the dvc executable (default: MLOPS_DVC or .venv-dvc/bin/dvc)")
    args = ap.parse_args()
    dvc = find_dvc(args.dvc)
    os.environ.update(S3_ENV)  # moto's dummy credentials, for the bucket made here too
    env = {
        **os.environ,
        **S3_ENV,
        "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    env.pop("MLOPS_STORE", None)
    env["DVC_NO_ANALYTICS"] = "1"  # no network traffic but to the remotes measured
    sets, targets = parse_sets(args.sets), args.targets.split(",")
    print(f"sets {args.sets}; dvc: {dvc or 'not found'}; load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp, moto_server() as endpoint:
        (Path(tmp) / "aws-config").write_text("")  # dvc-s3 wants a config file that exists
        env.update(AWS_CONFIG_FILE=str(Path(tmp) / "aws-config"))
        env.update(AWS_SHARED_CREDENTIALS_FILE=str(Path(tmp) / "aws-config"))
        for i, (files, mib) in enumerate(sets):
            work = Path(tmp) / f"set{i}"
            work.mkdir()
            rows = bench_set(work, files, mib, targets, endpoint, dvc, env)
            print_rows(f"{files} file(s), {mib:g} MiB", rows)
        if args.one_changed:
            most = max(range(len(sets)), key=lambda i: sets[i][0])
            target = "s3" if "s3" in targets else targets[0]
            print(f"\nsecond push, one file of {sets[most][0]} changed ({target}):")
            set_dir = Path(tmp) / f"set{most}"
            for tool, took, what in one_changed(set_dir / "data", set_dir / target, dvc, env):
                print(f"  {tool:6} {took:6.2f} s  {what}")
        if args.lineage:
            took, out = lineage_pull(Path(tmp), "s3://bench/churn", endpoint, env)
            print(
                f"\npull churn@production --with-lineage into a fresh store: {took:.2f} s, "
                f"{out['blobs_downloaded']} blob(s), {out['bytes_downloaded']} bytes, "
                f"{len(out['pulled'])} artifact(s)"
            )
    print(f"load average after: {os.getloadavg()}")
    if not dvc:
        print("dvc not found: run scripts/setup_dvc_venv.sh, or pass --dvc PATH")


if __name__ == "__main__":
    main()
