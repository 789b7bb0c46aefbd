"""The monitor step called as a library: windows, label joining, CBPE, the prediction log,
bounded-memory streaming and bad input. Real files, a real store, a real scikit-learn model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.cli import run_cli
from mlops.errors import InputError, UsageError
from mlops.lifecycle.monitor import monitor
from mlops.lifecycle.monitor.windows import NO_TIME, parse_window, window_keys


# -- windows -----------------------------------------------------------------------------------
def test_parse_window() -> None:
    assert parse_window(None) is None
    assert parse_window("day").period == "day"
    assert parse_window("weeks").period == "week"
    assert parse_window(5000).rows == 5000
    assert parse_window("10_000 rows").rows == 10000
    for bad in ("fortnight", 0, "-3", True):
        with pytest.raises(InputError):
            parse_window(bad)


def test_window_keys_periods_and_rows() -> None:
    df = pd.DataFrame({"t": ["2026-06-01T13:20", "2026-06-03", None, "junk", "2026-05-31T23:59"]})
    month = window_keys(parse_window("month"), df, 0, "t")
    assert list(month) == ["2026-06", "2026-06", NO_TIME, NO_TIME, "2026-05"]
    week = window_keys(parse_window("week"), df, 0, "t")
    assert week[0] == week[1] == "week of 2026-06-01" and week[4] == "week of 2026-05-25"
    hour = window_keys(parse_window("hour"), df, 0, "t")
    assert hour[0] == "2026-06-01T13:00"
    rows = window_keys(parse_window(2), df, 3, "t")  # global rows 3..7
    assert len(set(rows[:1])) == 1 and rows[0] != rows[1] and rows[1] == rows[2]
    tz = pd.DataFrame({"t": pd.to_datetime(["2026-06-01T01:00+05:00"])})
    assert window_keys(parse_window("day"), tz, 0, "t")[0] == "2026-05-31"
    with pytest.raises(InputError, match="needs a time column"):
        window_keys(parse_window("day"), df, 0, None)


def test_one_run_over_months_shows_where_drift_began(churn: Path, open_project) -> None:
    config, store = open_project
    months = [pd.read_csv(churn / f"data/batches/2026-0{m}.csv") for m in (2, 3, 4, 5, 6)]
    pd.concat(months).to_csv(churn / "all.csv", index=False)
    result = monitor(config, store, [str(churn / "all.csv")], window="month")
    labels = [w.label for w in result.windows]
    assert labels == ["2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    drifted = {w.label: set(w.drift.drifted_columns) for w in result.windows}
    assert "payment_method" not in drifted["2026-04"]
    assert {"payment_method", "support_calls"} <= drifted["2026-05"]
    alert = next(
        a for a in result.alerts if a.feature == "payment_method" and a.kind == "feature_drift"
    )
    assert alert.window == "2026-05" and "since window 2026-05" in alert.message
    assert sum(w.rows for w in result.windows) == result.data["rows"] == 20000


# -- labels --------------------------------------------------------------------------------------
def test_labels_joined_by_id_from_a_later_file(churn: Path, open_project) -> None:
    config, store = open_project
    batch = pd.read_csv(churn / "data/batches/2026-03.csv")
    batch.drop(columns=["churned"]).to_csv(churn / "nolabels.csv", index=False)
    labels = batch[["customer_id", "churned"]].sample(frac=0.6, random_state=1)
    labels.to_csv(churn / "labels.csv", index=False)
    joined = monitor(
        config, store, [str(churn / "nolabels.csv")], labels=[str(churn / "labels.csv")]
    )
    assert joined.data["labels"] == "file"
    assert joined.performance["labelled_rows"] == len(labels)
    subset = batch[batch["customer_id"].isin(labels["customer_id"])]
    subset.to_csv(churn / "subset.csv", index=False)
    direct = monitor(config, store, [str(churn / "subset.csv")])
    for metric in ("accuracy", "roc_auc", "f1"):
        assert joined.performance["realised"][metric] == pytest.approx(
            direct.performance["realised"][metric], abs=1e-12
        )
    assert joined.target_drift is not None
    # without labels: performance is estimated, not realised
    plain = monitor(config, store, [str(churn / "nolabels.csv")])
    assert plain.performance["realised"] is None and plain.performance["estimated"]


def test_cbpe_close_to_realised_accuracy_on_undrifted_data(churn: Path, open_project) -> None:
    """Tolerance: |estimated - realised| <= 0.03 for accuracy and roc_auc on 20,000 rows drawn
    like the training month (sampling s.d. of accuracy there is about 0.003)."""
    from mlops.examples.churn import generate_month

    config, store = open_project
    fresh = generate_month(0, 20_000, np.random.default_rng(12345), 900_000)
    fresh.to_csv(churn / "fresh.csv", index=False)
    fresh.drop(columns=["churned"]).to_csv(churn / "fresh_nolabels.csv", index=False)
    est = monitor(config, store, [str(churn / "fresh_nolabels.csv")]).performance["estimated"]
    real = monitor(config, store, [str(churn / "fresh.csv")]).performance["realised"]
    assert abs(est["accuracy"] - real["accuracy"]) <= 0.03
    assert abs(est["roc_auc"] - real["roc_auc"]) <= 0.03


# -- prediction log and streaming --------------------------------------------------------------
def test_reads_the_prediction_log(churn: Path, open_project) -> None:
    from mlops.lifecycle.model_io import load_model

    config, store = open_project
    model = load_model(store, "churn")
    batch = pd.read_csv(churn / "data/batches/2026-06.csv")
    pred, proba = model.predict(batch)
    log = batch[model.features].copy()
    log["_prediction"] = pred
    log["_proba_0"], log["_proba_1"] = proba[:, 0], proba[:, 1]
    log["_id"] = batch["customer_id"].astype(str)
    log["_row"] = np.arange(len(batch))
    log["_scored_at"] = pd.Timestamp("2026-06-15T10:00", tz="UTC")
    log["_batch_id"] = "b1"
    log["_model"] = model.artifact.label
    day = churn / "log" / "2026-06-15"
    day.mkdir(parents=True)
    log.to_parquet(day / "20260615T100000000000Z-predict-b1.parquet")
    (day / ".unfinished.parquet").write_bytes(b"not parquet")
    result = monitor(config, store, [str(churn / "log")], window="day")
    assert result.data["format"] == "prediction-log" and not result.data["scored_by_monitor"]
    assert [w.label for w in result.windows] == ["2026-06-15"]
    assert "payment_method" in result.drift.drifted_columns
    scored = monitor(config, store, [str(churn / "data/batches/2026-06.csv")])
    assert result.prediction_drift == scored.prediction_drift


def test_chunked_streaming_gives_the_same_profiles(churn: Path, open_project) -> None:
    config, store = open_project
    whole = monitor(config, store, [str(churn / "data/batches/2026-05.csv")])
    config.model.monitor.chunk_rows = 1000
    chunked = monitor(config, store, [str(churn / "data/batches/2026-05.csv")])
    for a, b in zip(whole.drift.columns, chunked.drift.columns, strict=True):
        assert a.method == b.method
        assert a.score == pytest.approx(b.score, rel=1e-9, abs=1e-12)
    assert whole.quality == chunked.quality


# -- bad input -----------------------------------------------------------------------------------
def test_missing_feature_is_exit_2_naming_it(churn: Path) -> None:
    pd.read_csv(churn / "data/batches/2026-02.csv").drop(columns=["support_calls"]).to_csv(
        churn / "bad.csv", index=False
    )
    proc = run_cli("monitor", "bad.csv", cwd=churn)
    assert proc.returncode == 2
    assert "'support_calls'" in proc.stderr and "Traceback" not in proc.stderr


def test_extra_column_is_a_note_and_info_alert(churn: Path, open_project) -> None:
    config, store = open_project
    df = pd.read_csv(churn / "data/batches/2026-02.csv")
    df["campaign"] = "spring"
    df.to_csv(churn / "extra.csv", index=False)
    result = monitor(config, store, [str(churn / "extra.csv")])
    assert any("campaign" in n for n in result.notes)
    schema = [a for a in result.alerts if a.kind == "schema"]
    assert schema and schema[0].severity == "info" and "campaign" in schema[0].message


def test_empty_batch_is_exit_2(churn: Path) -> None:
    header = (churn / "data/batches/2026-02.csv").read_text().splitlines()[0]
    (churn / "empty.csv").write_text(header + "\n")
    proc = run_cli("monitor", "empty.csv", cwd=churn)
    assert proc.returncode == 2 and "no rows" in proc.stderr


def test_all_nan_column_is_a_quality_alert(churn: Path, open_project) -> None:
    config, store = open_project
    df = pd.read_csv(churn / "data/batches/2026-02.csv")
    df["contract"] = np.nan
    df["usage_gb"] = np.nan
    df.to_csv(churn / "nan.csv", index=False)
    result = monitor(config, store, [str(churn / "nan.csv")], fail_on="warning")
    checks = {(a.feature, a.metric) for a in result.alerts if a.kind == "data_quality"}
    assert ("contract", "no_values") in checks and ("usage_gb", "missing_rate") in checks
    assert result.failed


def test_inf_values_are_a_quality_alert(churn: Path, open_project) -> None:
    config, store = open_project
    df = pd.read_csv(churn / "data/batches/2026-02.csv")
    df.loc[:99, "usage_gb"] = np.inf
    df.to_parquet(churn / "inf.parquet")
    result = monitor(config, store, [str(churn / "inf.parquet")])
    assert any(a.metric == "infinite_values" and a.feature == "usage_gb" for a in result.alerts)


def test_model_without_reference_profile_is_exit_2(churn: Path, open_project) -> None:
    config, store = open_project
    art = store.resolve("churn", kind="model")
    files = {p: store._entry(art, p) for p in art.files if p != "profile.json"}
    store.add_artifact("model", "churn", files, metadata=art.metadata)
    store.close()
    proc = run_cli("monitor", "data/batches/2026-02.csv", cwd=churn)
    assert proc.returncode == 2 and "no reference profile" in proc.stderr


def test_no_data_and_unknown_override_column(churn: Path, open_project) -> None:
    config, store = open_project
    config.model.data.current = []
    with pytest.raises(UsageError, match="no data to monitor"):
        monitor(config, store)
    from mlops.config.monitor import ColumnDriftConfig

    config.model.monitor.drift.columns = {"nope": ColumnDriftConfig(method="psi")}
    with pytest.raises(UsageError, match="not a feature"):
        monitor(config, store, [str(churn / "data/batches/2026-02.csv")])


def test_per_feature_override_changes_method_and_threshold(churn: Path, open_project) -> None:
    from mlops.config.monitor import ColumnDriftConfig

    config, store = open_project
    config.model.monitor.drift.columns = {
        "monthly_charges": ColumnDriftConfig(method="psi", threshold=5.0)
    }
    result = monitor(config, store, [str(churn / "data/batches/2026-06.csv")])
    col = next(c for c in result.drift.columns if c.column == "monthly_charges")
    assert col.method == "psi" and col.threshold == 5.0 and not col.drifted


def test_the_run_records_the_whole_monitor_duration(churn: Path, open_project) -> None:
    """The `monitor` run spans reading and scoring too, not only storing the report (it was
    started when the report was stored, so `runs` showed a fraction of the real time)."""
    config, store = open_project
    result = monitor(config, store, [str(churn / "data/batches/2026-02.csv")])
    run = store.get_run(result.run_id)
    # the same interval measured by two clocks (wall and perf counter): equal up to rounding
    assert run["duration_s"] >= result.duration_s - 0.001
    assert run["started_at"] < result.created_at


def test_estimated_accuracy_is_marked_in_the_window_table(churn: Path, open_project) -> None:
    from rich.console import Console

    from mlops.report.monitor_console import monitor_result

    config, store = open_project
    months = [pd.read_csv(churn / f"data/batches/2026-0{m}.csv") for m in (2, 3)]
    pd.concat(months).drop(columns=["churned"]).to_csv(churn / "blind.csv", index=False)
    result = monitor(config, store, [str(churn / "blind.csv")], window="month")
    console = Console(width=120, record=True)
    monitor_result(console, result)
    text = console.export_text()
    windows = text[text.index("windows (month)") :]
    rows = [line for line in windows.splitlines() if line.lstrip().startswith("2026-0")]
    assert len(rows) == 2 and all(line.rstrip().endswith("~") for line in rows), windows
    assert "~ estimated from probabilities (no labels)" in windows
