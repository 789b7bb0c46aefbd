"""Push and pull of the same files with `mlops` and with `dvc`, side by side in one run, to a
file:// remote and to a local S3 server (moto's, started here on 127.0.0.1).

Run by hand:
    scripts/setup_dvc_venv.sh                      # dvc + dvc-s3 in .venv-dvc (once)
    python benchmarks/bench_remote.py [--files 200] [--total-mib 64] [--dvc PATH]

Each tool starts from its own store/cache that already holds the files (`mlops add` /
`dvc add`, not timed), pushes them to an empty remote (timed), pushes again with nothing new
(timed), then a fresh store/cache pulls them back (timed): `mlops pull` fills the store only, so
it is compared with `dvc fetch` (cache only); `dvc pull` (fetch + checkout into the workspace)
is shown too. Ratios are mlops / dvc: below 1 means mlops is faster.
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


def find_dvc(given: str | None) -> str | None:
    for candidate in (given, os.environ.get("MLOPS_DVC"), str(REPO / ".venv-dvc" / "bin" / "dvc")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--total-mib", type=float, default=64.0, help="total size (1024 for 1 GiB)")
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
    total = int(args.total_mib * (1 << 20))
    print(f"{args.files} files, {total / (1 << 20):.0f} MiB; dvc: {dvc or 'not found'}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp, moto_server() as endpoint:
        work = Path(tmp)
        (work / "aws-config").write_text("")  # dvc-s3 wants a config file that exists
        env.update(AWS_CONFIG_FILE=str(work / "aws-config"))
        env.update(AWS_SHARED_CREDENTIALS_FILE=str(work / "aws-config"))
        make_files(work / "data", args.files, total)
        for target in ("file", "s3"):
            run_dir = work / target
            run_dir.mkdir()
            m_url = (run_dir / "remote-mlops").as_uri() if target == "file" else "s3://bench/mlops"
            d_url = str(run_dir / "remote-dvc") if target == "file" else "s3://bench/dvc"
            ep = endpoint if target == "s3" else None
            m = mlops_runs(run_dir, work / "data", m_url, ep, env)
            d = dvc_runs(dvc, run_dir, work / "data", d_url, ep, env) if dvc else {}
            for op in ("push", "push again", "pull (store only)", "pull + checkout"):
                rows.append((target, op, m.get(op), d.get(op)))
    print(f"{'remote':6}  {'operation':18}  {'mlops s':>8}  {'dvc s':>8}  {'mlops/dvc':>9}")
    for target, op, m_s, d_s in rows:
        ratio = f"{m_s / d_s:9.2f}" if m_s and d_s else f"{'-':>9}"
        ms = f"{m_s:8.2f}" if m_s else f"{'-':>8}"
        ds = f"{d_s:8.2f}" if d_s else f"{'-':>8}"
        print(f"{target:6}  {op:18}  {ms}  {ds}  {ratio}")
    if not dvc:
        print("dvc not found: run scripts/setup_dvc_venv.sh, or pass --dvc PATH")


if __name__ == "__main__":
    main()
