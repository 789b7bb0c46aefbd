"""Whole commands against plain scripts doing the same work, as a user would run them.

    python benchmarks/bench_commands.py [--rows 200000] [--score-rows 1000000] [--runs 5]
        [--work DIR] [--only train|predict] [--threads N]

Every figure is a whole process, interpreter start-up included, and the runs take turns
(plain, mlops, plain, mlops, ...) so that machine load falls on both alike; the medians of wall
time and of CPU time (user + system of the child) are printed with their ratios.

- train: `mlops train` (HistGradientBoosting, 100 iterations, stratified 20% holdout, four
  metrics; data already in the store, as on every run after the first) against a script that
  reads the CSV, fits the same pipeline, scores the holdout and saves the model with joblib.
- predict: `mlops predict MODEL -i new.csv -o out.parquet` against a script that loads that
  joblib model, reads the CSV, and writes the predicted label and class probabilities to
  Parquet. Targets: train <= 1.1x, predict <= 1.15x.

On a machine other jobs load, scikit-learn's OpenMP threads wait for each other and the fit's
time swings from run to run on both sides (2 s to 45 s was seen). `--threads 1` sets
OMP_NUM_THREADS=1 for both sides: the fit runs on one core, and the CPU times then barely move
with the load (the steadier figure for the overhead; users' runs use every core).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(Path(__file__).resolve().parent))

PLAIN_TRAIN = """
import sys
import joblib
import pandas as pd
from sklearn import metrics
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

df = pd.read_csv(sys.argv[1])
y = df["churned"]
x = df.drop(columns=["churned", "customer_id", "month"])
num = [c for c in x if pd.api.types.is_numeric_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c])]
cat = [c for c in x if c not in num]
numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
categorical = Pipeline(
    [("impute", SimpleImputer(strategy="constant", fill_value="missing")), ("encode", encode)]
)
pre = ColumnTransformer([("num", numeric, num), ("cat", categorical, cat)])
model = Pipeline(
    [
        ("preprocess", pre),
        ("model", HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0)),
    ]
)
n_test = int(round(0.2 * len(df) + 0.4999))
xf, xh, yf, yh = train_test_split(x, y, test_size=n_test, random_state=0, stratify=y)
model.fit(xf, yf)
proba = model.predict_proba(xh)
pred = model.predict(xh)
print(metrics.roc_auc_score(yh, proba[:, 1]), metrics.accuracy_score(yh, pred),
      metrics.f1_score(yh, pred), metrics.log_loss(yh, proba))
joblib.dump(model, sys.argv[2])
"""

PLAIN_PREDICT = """
import sys
import joblib
import pandas as pd

model = joblib.load(sys.argv[1])
df = pd.read_csv(sys.argv[2])
out = pd.DataFrame({"_prediction": model.predict(df)})
proba = model.predict_proba(df)
for i, c in enumerate(model.classes_):
    out[f"_proba_{c}"] = proba[:, i]
out.to_parquet(sys.argv[3], index=False)
"""


THREADS: str | None = None  # OMP_NUM_THREADS for every child (--threads)


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s of the child: user + system)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    if THREADS is not None:
        env["OMP_NUM_THREADS"] = THREADS
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return wall, usage.ru_utime + usage.ru_stime


def setup(work: Path, rows: int, score_rows: int | None) -> None:
    import bench_train
    import numpy as np

    from mlops.examples.churn import generate_month

    if not (work / "data.csv").exists():
        generate_month(0, rows, np.random.default_rng(0), 0).to_csv(work / "data.csv", index=False)
    if score_rows is not None and not (work / "new.csv").exists():
        new = generate_month(1, score_rows, np.random.default_rng(1), 0)
        new.drop(columns=["churned"]).to_csv(work / "new.csv", index=False)
    (work / "mlops.yaml").write_text(bench_train.CONFIG)
    (work / "plain_train.py").write_text(PLAIN_TRAIN)
    (work / "plain_predict.py").write_text(PLAIN_PREDICT)


def compare(name: str, plain: list[str], ours: list[str], work: Path, runs: int) -> None:
    p, m = [], []
    for _ in range(runs):
        p.append(timed(plain, work))
        m.append(timed(ours, work))
    pw, pc = statistics.median(w for w, _ in p), statistics.median(c for _, c in p)
    mw, mc = statistics.median(w for w, _ in m), statistics.median(c for _, c in m)
    print(
        f"{name}: plain script {pw:6.2f} s wall {pc:6.2f} s CPU | mlops {mw:6.2f} s wall "
        f"{mc:6.2f} s CPU | ratio wall {mw / pw:.3f}, CPU {mc / pc:.3f}"
    )
    print(f"  wall runs plain {[round(w, 2) for w, _ in p]} mlops {[round(w, 2) for w, _ in m]}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--score-rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", type=Path, default=None, help="work directory (kept; data reused)")
    ap.add_argument("--only", choices=["train", "predict"], default=None)
    ap.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS for both sides")
    a = ap.parse_args()
    global THREADS
    THREADS = None if a.threads is None else str(a.threads)
    sys.path.insert(0, str(SRC))
    work = a.work or Path(tempfile.mkdtemp(prefix="bench-commands-"))
    work.mkdir(parents=True, exist_ok=True)
    setup(work, a.rows, None if a.only == "train" else a.score_rows)
    py = sys.executable
    print(
        f"{a.rows} training rows, {a.score_rows if a.only != 'train' else 0} rows scored, "
        f"{a.runs} runs each, interleaved; "
        f"OMP_NUM_THREADS={THREADS or 'unset'}; load average before: {os.getloadavg()[0]:.1f}"
    )
    timed([py, "-m", "mlops", "train"], work)  # puts the data in the store, warms caches
    timed([py, "plain_train.py", "data.csv", "model.joblib"], work)
    if a.only in (None, "train"):
        compare(
            "train",
            [py, "plain_train.py", "data.csv", "model.joblib"],
            [py, "-m", "mlops", "train"],
            work,
            a.runs,
        )
    if a.only in (None, "predict"):
        compare(
            "predict",
            [py, "plain_predict.py", "model.joblib", "new.csv", "plain.parquet"],
            [py, "-m", "mlops", "predict", "bench", "-i", "new.csv", "-o", "out.parquet"],
            work,
            a.runs,
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
