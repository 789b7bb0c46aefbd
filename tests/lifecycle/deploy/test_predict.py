from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from helpers.data import FEATURES, features_of
from mlops.lifecycle.deploy import SchemaMismatch, load_from_store, predict_files


def test_missing_column_names_it(project, cli, tmp_path):
    bad = tmp_path / "bad.csv"
    project.batch.drop(columns=["support_calls"]).to_csv(bad, index=False)
    r = cli(
        "predict",
        "churn",
        "--input",
        str(bad),
        "--output",
        str(tmp_path / "o.csv"),
        cwd=project.root,
    )
    assert r.returncode == 2
    assert "missing column 'support_calls'" in r.stderr
    assert not (tmp_path / "o.csv").exists()


def test_bad_value_names_column_and_row(project, cli, tmp_path):
    frame = project.batch.copy()
    frame["age"] = frame["age"].astype(object)
    frame.loc[7, "age"] = "forty"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    r = cli("predict", "churn", "-i", str(bad), "-o", str(tmp_path / "o.parquet"), cwd=project.root)
    assert r.returncode == 2
    assert "column 'age'" in r.stderr and "row 7" in r.stderr and "'forty'" in r.stderr
    assert not list(tmp_path.glob("*.parquet")) and not list(tmp_path.glob(".o.parquet*"))


def test_chunked_scoring_matches_whole(project, tmp_path):
    with project.store() as store:
        handle = load_from_store(store, store.resolve("churn"))
    small, big = tmp_path / "small.parquet", tmp_path / "big.parquet"
    r1 = predict_files(handle, [project.batch_csv], small, chunk_rows=37)
    r2 = predict_files(handle, [project.batch_csv], big, chunk_rows=10_000)
    assert r1.chunks == 9 and r2.chunks == 1 and r1.rows == r2.rows == len(project.batch)
    a, b = pd.read_parquet(small), pd.read_parquet(big)
    assert a["prediction"].tolist() == b["prediction"].tolist()
    assert a["customer_id"].tolist() == b["customer_id"].tolist()
    # BLAS may sum in another order on another batch size: equal to the last bits
    np.testing.assert_allclose(a[["proba_0", "proba_1"]], b[["proba_0", "proba_1"]], atol=1e-12)


def test_parquet_directory_input_and_csv_output(project, tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    half = len(project.batch) // 2
    project.batch.iloc[:half].to_parquet(parts / "a.parquet", index=False)
    project.batch.iloc[half:].to_parquet(parts / "b.parquet", index=False)
    with project.store() as store:
        handle = load_from_store(store, store.resolve("churn"))
    out = tmp_path / "p.csv"
    result = predict_files(handle, [parts], out, chunk_rows=1000)
    got = pd.read_csv(out)
    assert result.rows == len(project.batch)
    assert got["customer_id"].tolist() == project.batch["customer_id"].tolist()
    expected = np.concatenate(
        [
            project.pipeline.predict(features_of(project.batch.iloc[:half])),
            project.pipeline.predict(features_of(project.batch.iloc[half:])),
        ]
    )
    np.testing.assert_array_equal(got["prediction"], expected)
    assert set(result.ignored_columns) == {"month", "churned"}


def test_without_id_column_row_ids_are_row_numbers(project, tmp_path):
    src = tmp_path / "noid.csv"
    project.batch.drop(columns=["customer_id"]).to_csv(src, index=False)
    with project.store() as store:
        handle = load_from_store(store, store.resolve("churn"))
    out = tmp_path / "o.csv"
    predict_files(handle, [src], out, chunk_rows=100)
    assert pd.read_csv(out)["row_id"].tolist() == list(range(len(project.batch)))


def test_output_must_be_csv_or_parquet(project, cli, tmp_path):
    r = cli(
        "predict",
        "churn",
        "-i",
        str(project.batch_csv),
        "-o",
        str(tmp_path / "o.xlsx"),
        cwd=project.root,
    )
    assert r.returncode == 2 and "unknown format" in r.stderr


def test_output_cannot_overwrite_input(project, cli):
    r = cli(
        "predict",
        "churn",
        "-i",
        str(project.batch_csv),
        "-o",
        str(project.batch_csv),
        cwd=project.root,
    )
    assert r.returncode == 2 and "also an input" in r.stderr


def test_log_appends_batch_in_documented_format(project, cli, tmp_path):
    for _ in range(2):
        r = cli(
            "predict",
            "churn",
            "-i",
            str(project.batch_csv),
            "-o",
            str(tmp_path / "o.parquet"),
            "--log",
            "--json",
            cwd=project.root,
        )
        assert r.returncode == 0, r.stderr
    log_file = json.loads(r.stdout)["log_file"]
    files = sorted((project.root / "predictions").rglob("*.parquet"))
    assert len(files) == 2 and str(files[-1]) == log_file
    assert all(f.parent.parent == project.root / "predictions" for f in files)
    assert not [p for p in (project.root / "predictions").rglob(".*")]

    table = pq.read_table(files[0])
    expected_cols = [
        *FEATURES,
        "_prediction",
        "_proba_0",
        "_proba_1",
        "_id",
        "_row",
        "_scored_at",
        "_batch_id",
        "_source",
        "_model_id",
        "_model",
    ]
    assert table.column_names == expected_cols
    assert str(table.schema.field("_scored_at").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("tenure_months").type) == "int64"
    assert str(table.schema.field("contract").type) == "string"
    meta = json.loads(table.schema.metadata[b"mlops"])
    assert meta["model_id"] == project.model.id and meta["id_column"] == "customer_id"
    df = table.to_pandas()
    assert len(df) == len(project.batch)
    assert df["_source"].unique().tolist() == ["predict"]
    assert df["_batch_id"].nunique() == 1
    assert df["_model"].unique().tolist() == ["churn:1"]
    assert df["_id"].tolist() == [str(v) for v in project.batch["customer_id"]]
    assert df["_row"].tolist() == list(range(len(project.batch)))
    np.testing.assert_array_equal(
        df["_prediction"], project.pipeline.predict(features_of(project.batch))
    )
    pd.testing.assert_series_equal(
        df["total_charges"], project.batch["total_charges"], check_names=False
    )
    # every file of the log has one schema, so monitor can read the directory as one dataset
    assert pq.read_table(files[1]).schema.equals(table.schema, check_metadata=False)


def test_signature_coerce_errors_carry_field(project):
    with project.store() as store:
        handle = load_from_store(store, store.resolve("churn"))
    frame = features_of(project.batch).head(3).copy()
    frame["has_partner"] = ["yes", "maybe", "no"]
    with pytest.raises(SchemaMismatch) as e:
        handle.signature.coerce(frame, offset=10)
    assert e.value.field == "has_partner" and "row 11" in e.value.message


def test_infinities_are_scored_as_missing_and_reported(project, cli, tmp_path):
    # one rule everywhere a model scores a file: +/-inf reach it as missing, and are counted
    lines = project.batch_csv.read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("monthly_charges")
    blank, infs = [lines[0]], [lines[0]]
    for i, line in enumerate(lines[1:]):
        cells = line.split(",")
        if i in (3, 10, 11):
            spelled = {3: "inf", 10: "-Infinity", 11: "1e999"}[i]
            infs.append(",".join([*cells[:col], spelled, *cells[col + 1 :]]))
            blank.append(",".join([*cells[:col], "", *cells[col + 1 :]]))
        else:
            infs.append(line)
            blank.append(line)
    (tmp_path / "inf.csv").write_text("\n".join(infs) + "\n")
    (tmp_path / "blank.csv").write_text("\n".join(blank) + "\n")
    r = cli(
        "--json", "predict", "churn", "-i", str(tmp_path / "inf.csv"), "-o",
        str(tmp_path / "inf.parquet"), cwd=project.root,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["infinite_values"] == {"monthly_charges": 3}
    assert "+/-inf values were scored as missing: monthly_charges (3)" in r.stderr
    r = cli(
        "predict", "churn", "-i", str(tmp_path / "blank.csv"), "-o",
        str(tmp_path / "blank.parquet"), cwd=project.root,
    )  # fmt: skip
    assert r.returncode == 0 and "inf" not in r.stderr
    with_inf, with_blank = (
        pd.read_parquet(tmp_path / "inf.parquet"),
        pd.read_parquet(tmp_path / "blank.parquet"),
    )
    pd.testing.assert_frame_equal(with_inf, with_blank)


def test_a_blank_in_a_bool_column_is_scored_as_missing(tmp_path):
    # the churn example's pipeline imputes has_partner (a bool column read with blanks)
    from helpers.cli import invoke_cli

    root = tmp_path / "churn"
    assert invoke_cli("init", "--example", "churn", str(root)).returncode == 0
    assert invoke_cli("train", cwd=root).returncode == 0
    frame = pd.read_csv(root / "data" / "batches" / "2026-06.csv").head(200)
    frame["has_partner"] = frame["has_partner"].astype(object)
    frame.loc[[2, 5], "has_partner"] = None
    frame.to_csv(tmp_path / "blank.csv", index=False)
    r = invoke_cli("predict", "churn", "-i", str(tmp_path / "blank.csv"), "-o",
                   str(tmp_path / "o.csv"), cwd=root)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(tmp_path / "o.csv")) == 200
