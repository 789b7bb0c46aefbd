"""HTTP scoring: `mlops serve` vs `mlflow models serve --env-manager local` on the same bundle.

    python benchmarks/bench_serve.py [--rounds 3] [--seconds 6] [--dir DIR]
        [--mlflow-python PYTHON] [--workers 1]

The bundle is the churn example (`mlops init --example churn`, `mlops train`, `mlops package`):
a scikit-learn Pipeline (imputers, scaler, one-hot encoder, LogisticRegression) over 10 columns.
Both servers run at once on 127.0.0.1, each with `--workers` processes (default 1, both tools'
default); mlops logs predictions (its default); MLflow comes from the virtualenv that
scripts/setup_mlflow_venv.sh builds (--mlflow-python, else $MLOPS_MLFLOW_PYTHON, else
.venv-mlflow/bin/python in the repository).

Measured per target, every body in MLflow's `dataframe_split` JSON:
  mlops /predict       labels and class probabilities (mlops's own route)
  mlops /invocations   MLflow's protocol (labels)
  mlflow /invocations
  single row      p50/p95 latency of sequential requests on one keep-alive connection
  batch 1000      p50 latency of sequential 1000-row requests
  8 clients       requests/s (single rows) and rows/s (1000-row batches) over --seconds, 8
                  threads each with its own keep-alive connection
  server CPU      user + system CPU of the server's processes (from /proc) per request during
                  the two sequential runs, background log writing included: it depends far less
                  on other load than the wall times do
Before each phase the bench waits until mlops has written every logged row (its /metrics shows
none queued; the bench project sets package.serve.log_flush_seconds to 1 s), so no phase of
either server runs beside the log writing of the phase before, and the CPU read after a
sequential run includes writing its rows. The rows written and dropped are printed at the end.
Rounds interleave the targets (their order rotates each round) so that load from other
processes on the machine falls on all of them; the table shows the median over rounds, and the
load average is printed with each round. The client runs in this process and costs CPU too.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SRC = REPO / "src"
BENCH_TMP = Path(tempfile.gettempdir()) / "mlops-bench"


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(extra or {})
    return env


def _mlops(*args: str, cwd: Path) -> str:
    env = _env({"PYTHONPATH": str(SRC)})
    r = subprocess.run(
        [sys.executable, "-m", "mlops", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    if r.returncode != 0:
        raise SystemExit(f"mlops {' '.join(args)} failed: {r.stderr}")
    return r.stdout


def make_bundle(root: Path) -> tuple[Path, Path]:
    """The churn example trained and packaged in root/project: (project dir, bundle dir)."""
    project = root / "project"
    if not (project / "dist").is_dir():
        if project.exists():
            raise SystemExit(f"{project} exists without a bundle: remove it")
        _mlops("init", "--example", "churn", str(project), cwd=root)
        _mlops("train", cwd=project)
        _mlops("package", "churn", cwd=project)
    config = project / "mlops.yaml"
    if "log_flush_seconds: 1.0" not in config.read_text():
        if "\npackage:" in config.read_text():
            raise SystemExit(f"{config} has a package: section: set serve.log_flush_seconds: 1.0")
        with config.open("a") as f:  # logged rows reach their file within a second
            f.write("package:\n  serve:\n    log_flush_seconds: 1.0\n")
    bundle = sorted(p for p in (project / "dist").iterdir() if p.is_dir())[-1]
    return project, bundle


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_servers(
    project: Path, bundle: Path, mlflow_python: Path, workers: int
) -> dict[str, tuple[subprocess.Popen, int]]:
    ours, theirs = free_port(), free_port()
    mlops_cmd = [sys.executable, "-m", "mlops", "serve", str(bundle), "--port", str(ours)]
    mlops_cmd += ["--workers", str(workers)]
    mlflow_bin = mlflow_python.parent / "mlflow"
    mlflow_cmd = [str(mlflow_bin), "models", "serve", "-m", str(bundle), "--env-manager"]
    mlflow_cmd += ["local", "-p", str(theirs), "-w", str(workers)]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = {
        "mlops": (
            subprocess.Popen(mlops_cmd, cwd=project, env=_env({"PYTHONPATH": str(SRC)}), **quiet),
            ours,
        ),
        "mlflow": (
            subprocess.Popen(
                mlflow_cmd,
                cwd=project,
                env=_env(
                    {
                        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",
                        # it runs `uvicorn` by name: the venv's, as an activated venv would
                        "PATH": f"{mlflow_python.parent}{os.pathsep}{os.environ['PATH']}",
                    }
                ),
                **quiet,
            ),
            theirs,
        ),
    }
    try:
        for name, (proc, port) in procs.items():
            wait_ready(name, proc, port)
    except BaseException:
        for proc, _ in procs.values():
            proc.terminate()
        raise
    return procs


def wait_ready(name: str, proc: subprocess.Popen, port: int) -> None:
    path = "/health" if name == "mlops" else "/ping"
    for _ in range(1200):
        if proc.poll() is not None:
            raise SystemExit(f"{name} server exited with {proc.returncode}")
        try:
            status, _ = request(http.client.HTTPConnection("127.0.0.1", port), "GET", path)
            if status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{name} server did not start")


def request(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes]:
    headers = {"content-type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


def bodies(project: Path) -> tuple[bytes, bytes, list]:
    """(single-row body, 1000-row body, the 1000 rows' features) from the churn batches."""
    import pandas as pd

    frames = [pd.read_csv(p) for p in sorted((project / "data" / "batches").glob("*.csv"))]
    frame = pd.concat(frames, ignore_index=True)
    sig = json.loads((project / "dist").glob("*/signature.json").__next__().read_text())
    names = [c["name"] for c in sig["inputs"]]
    rows = frame[names].head(1000)
    split = json.loads(rows.to_json(orient="split", index=False))
    one = {"columns": split["columns"], "data": split["data"][:1]}
    return (
        json.dumps({"dataframe_split": one}).encode(),
        json.dumps({"dataframe_split": split}).encode(),
        split["data"],
    )


def latencies(port: int, path: str, body: bytes, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    out = []
    for i in range(n + 3):
        start = time.perf_counter()
        status, answer = request(conn, "POST", path, body)
        took = time.perf_counter() - start
        if status != 200:
            raise SystemExit(f"{path} on {port}: {status} {answer[:300]!r}")
        if i >= 3:  # the first requests warm the connection and the model
            out.append(took)
    conn.close()
    return out


def throughput(port: int, path: str, body: bytes, clients: int, seconds: float) -> float:
    """Requests per second completed by `clients` threads over `seconds`."""
    done = [0] * clients
    stop = time.perf_counter() + seconds
    errors: list[str] = []

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        while time.perf_counter() < stop:
            status, answer = request(conn, "POST", path, body)
            if status != 200:
                errors.append(f"{status} {answer[:200]!r}")
                return
            done[i] += 1
        conn.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{path} on {port}: {errors[0]}")
    return sum(done) / (time.perf_counter() - start)


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process pid and its descendants (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    family, total, grew = {pid}, 0.0, True
    while grew:
        grew = False
        for child, (parent, _) in stats.items():
            if parent in family and child not in family:
                family.add(child)
                grew = True
    for member in family:
        total += stats.get(member, (0, 0.0))[1]
    return total


def log_rows(port: int) -> dict[str, float]:
    """mlops's prediction log counts from its /metrics: queued, written, dropped."""
    _, text = request(http.client.HTTPConnection("127.0.0.1", port), "GET", "/metrics")
    out = {}
    for line in text.decode().splitlines():
        for key in ("queued", "written", "dropped"):
            if line.startswith(f"mlops_prediction_log_{key}_rows"):
                out[key] = float(line.split()[-1])
    return out


def settle(port: int) -> None:
    """Wait until mlops has written every logged row (flush_seconds is 1 s in the bench
    project), so that no phase runs beside the log writes of the one before, and the CPU
    read after a phase includes the writing of its rows."""
    for _ in range(600):
        if log_rows(port).get("queued", 0) == 0:
            return
        time.sleep(0.25)
    raise SystemExit("mlops's prediction log did not drain in 150 s")


def measure(
    pid: int, port: int, path: str, one: bytes, batch: bytes, seconds: float, mlops_port: int
) -> dict[str, float]:
    settle(mlops_port)
    cpu0 = tree_cpu(pid)
    single = latencies(port, path, one, 200)
    settle(mlops_port)
    cpu1 = tree_cpu(pid)
    big = latencies(port, path, batch, 30)
    settle(mlops_port)
    cpu2 = tree_cpu(pid)
    single_rps = throughput(port, path, one, 8, seconds)
    settle(mlops_port)
    batch_rps = throughput(port, path, batch, 8, seconds)
    q = statistics.quantiles(single, n=20)
    return {
        "single_p50_ms": statistics.median(single) * 1000,
        "single_p95_ms": q[18] * 1000,
        "batch_p50_ms": statistics.median(big) * 1000,
        "clients8_single_rps": single_rps,
        "clients8_batch_rows_s": batch_rps * 1000,
        # server CPU per request (the warm-up requests included): steadier than wall time
        # when other processes load the machine
        "single_cpu_ms": (cpu1 - cpu0) / 203 * 1000,
        "batch_cpu_ms": (cpu2 - cpu1) / 33 * 1000,
    }


def check_same_labels(procs: dict, batch: bytes) -> None:
    answers = {}
    for name, (_, port) in procs.items():
        conn = http.client.HTTPConnection("127.0.0.1", port)
        status, body = request(conn, "POST", "/invocations", batch)
        assert status == 200, (name, body[:300])
        answers[name] = json.loads(body)["predictions"]
    if answers["mlops"] != answers["mlflow"]:
        raise SystemExit("mlops and mlflow disagree on the 1000-row batch")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--dir", type=Path, default=BENCH_TMP / "serve")
    ap.add_argument("--mlflow-python", type=Path, default=None)
    args = ap.parse_args()
    default = Path(os.environ.get("MLOPS_MLFLOW_PYTHON", REPO / ".venv-mlflow" / "bin" / "python"))
    mlflow_python = args.mlflow_python or default
    if not mlflow_python.exists():
        raise SystemExit(f"no {mlflow_python}: run scripts/setup_mlflow_venv.sh")
    args.dir.mkdir(parents=True, exist_ok=True)
    project, bundle = make_bundle(args.dir)
    one, batch, _ = bodies(project)
    procs = start_servers(project, bundle, mlflow_python, args.workers)
    targets = [
        ("mlops /predict", "mlops", "/predict"),
        ("mlops /invocations", "mlops", "/invocations"),
        ("mlflow /invocations", "mlflow", "/invocations"),
    ]
    results: dict[str, list[dict[str, float]]] = {t[0]: [] for t in targets}
    try:
        check_same_labels(procs, batch)
        for r in range(args.rounds):
            print(f"round {r + 1}: load average {os.getloadavg()[0]:.2f}", flush=True)
            for label, server, path in targets[r % 3 :] + targets[: r % 3]:
                proc, port = procs[server]
                m = measure(proc.pid, port, path, one, batch, args.seconds, procs["mlops"][1])
                results[label].append(m)
                print(f"  {label}: {_fmt(results[label][-1])}", flush=True)
        settle(procs["mlops"][1])
        logged = log_rows(procs["mlops"][1])
        print(f"after: load average {os.getloadavg()[0]:.2f}")
        print(
            f"mlops prediction log: {logged['written']:,.0f} rows written, "
            f"{logged['dropped']:,.0f} dropped (queue full)"
        )
    finally:
        for proc, _ in procs.values():
            proc.terminate()
        for proc, _ in procs.values():
            proc.wait(timeout=60)
    table(results, args)


def _fmt(m: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in m.items())


def table(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> None:
    med = {
        label: {k: statistics.median(m[k] for m in runs) for k in runs[0]}
        for label, runs in results.items()
    }
    ref = med["mlflow /invocations"]
    print(f"\nmedian of {args.rounds} interleaved rounds, --workers {args.workers}")
    print("| | " + " | ".join(med) + " | mlops /predict vs mlflow |")
    print("|---|" + "---|" * (len(med) + 1))
    rows = [
        ("single row p50 (ms)", "single_p50_ms", False),
        ("single row p95 (ms)", "single_p95_ms", False),
        ("1000-row batch p50 (ms)", "batch_p50_ms", False),
        ("8 clients, single rows (req/s)", "clients8_single_rps", True),
        ("8 clients, 1000-row batches (rows/s)", "clients8_batch_rows_s", True),
        ("server CPU per single-row request (ms)", "single_cpu_ms", False),
        ("server CPU per 1000-row request (ms)", "batch_cpu_ms", False),
    ]
    for name, key, higher_better in rows:
        cells = " | ".join(f"{m[key]:,.1f}" for m in med.values())
        ratio = med["mlops /predict"][key] / ref[key]
        word = "x mlflow" if higher_better else "x mlflow's time"
        print(f"| {name} | {cells} | {ratio:.2f}{word} |")


if __name__ == "__main__":
    main()
