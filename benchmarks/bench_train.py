"""`mlops train` (library call) against a plain scikit-learn script on the same data and pipeline.

    python benchmarks/bench_train.py [--rows 200000] [--repeats 3]

Both sides read the same CSV, split it the same way (stratified, 20% holdout), fit the same
Pipeline (median impute + standard scale for numeric columns, one-hot for categoricals,
HistGradientBoostingClassifier, 100 iterations without early stopping, so both fit the same
number of trees whatever the row order) and score the holdout. mlops additionally hashes and stores the
data, profiles it, computes permutation importance on a bounded sample, writes the model
artifact and records the run. Runs alternate; the medians and their ratio are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

CONFIG = """project: bench
data:
  train: data.csv
  id_column: customer_id
  time_column: month
train:
  target: churned
  estimator: sklearn.ensemble.HistGradientBoostingClassifier
  params: {max_iter: 100, early_stopping: false}
  split: {method: stratified, test_size: 0.2}
  random_state: 0
  metrics: [roc_auc, accuracy, f1, log_loss]
"""


def plain(csv: Path) -> float:
    import pandas as pd
    from sklearn import metrics
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    t = time.perf_counter()
    df = pd.read_csv(csv)
    y = df["churned"]
    x = df.drop(columns=["churned", "customer_id", "month"])
    num = [
        c for c in x if pd.api.types.is_numeric_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c])
    ]
    cat = [c for c in x if c not in num]
    pre = ColumnTransformer(
        [
            (
                "num",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                ),
                num,
            ),
            (
                "cat",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                        ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                cat,
            ),
        ],
        verbose_feature_names_out=False,
    )
    model = Pipeline(
        [
            ("preprocess", pre),
            (
                "model",
                HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0),
            ),
        ]
    )
    n_test = int(round(0.2 * len(df) + 0.4999))
    xf, xh, yf, yh = train_test_split(x, y, test_size=n_test, random_state=0, stratify=y)
    model.fit(xf, yf)
    proba = model.predict_proba(xh)
    pred = model.predict(xh)
    metrics.roc_auc_score(yh, proba[:, 1])
    metrics.accuracy_score(yh, pred)
    metrics.f1_score(yh, pred)
    metrics.log_loss(yh, proba)
    return time.perf_counter() - t


def mlops_train(workdir: Path, fresh_store: bool) -> tuple[float, dict[str, float]]:
    import shutil

    from mlops.config import load_config
    from mlops.lifecycle.train import train
    from mlops.store import Store

    store_dir = workdir / ".mlops"
    if fresh_store and store_dir.exists():
        shutil.rmtree(store_dir)
    config = load_config(workdir / "mlops.yaml")
    t = time.perf_counter()
    with Store.open(store_dir) as store:
        r = train(config, store)
    return time.perf_counter() - t, r.timings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import numpy as np
    import sklearn  # noqa: F401  (import cost is not part of either side)

    from mlops.examples.churn import generate_month

    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        work = Path(tmp)
        frame = generate_month(0, args.rows, np.random.default_rng(0), 0)
        frame.to_csv(work / "data.csv", index=False)
        (work / "mlops.yaml").write_text(CONFIG)
        print(
            f"{args.rows} rows x {frame.shape[1]} columns, {(work / 'data.csv').stat().st_size / 1e6:.1f} MB CSV"
        )
        plain(work / "data.csv")  # warm up imports and caches on both sides
        mlops_train(work, fresh_store=True)
        p, cold, warm, timings = [], [], [], []
        for _ in range(args.repeats):
            p.append(plain(work / "data.csv"))
            c, tm = mlops_train(work, fresh_store=True)
            cold.append(c)
            timings.append(tm)
            w, _ = mlops_train(work, fresh_store=False)
            warm.append(w)
        mp, mc, mw = statistics.median(p), statistics.median(cold), statistics.median(warm)
        print(
            f"plain scikit-learn script   median {mp:7.2f} s   runs {', '.join(f'{x:.2f}' for x in p)}"
        )
        print(
            f"mlops train, new store      median {mc:7.2f} s   runs {', '.join(f'{x:.2f}' for x in cold)}   ratio {mc / mp:.3f}"
        )
        print(
            f"mlops train, data in store  median {mw:7.2f} s   runs {', '.join(f'{x:.2f}' for x in warm)}   ratio {mw / mp:.3f}"
        )
        keys = list(timings[0])
        med = {k: statistics.median(t.get(k, 0.0) for t in timings) for k in keys}
        print("mlops stages (median s): " + ", ".join(f"{k} {v:.2f}" for k, v in med.items()))


if __name__ == "__main__":
    main()
