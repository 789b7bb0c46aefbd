from __future__ import annotations

import hashlib
import json
import tarfile

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.data import features_of
from mlops import __version__
from mlops.errors import InputError, StoreIntegrityError
from mlops.lifecycle.deploy import build_package, open_package
from mlops.lifecycle.deploy import bundle as bundle_io

WHEEL = f"wheels/mlops-{__version__}-py3-none-any.whl"
EXPECTED_FILES = {
    "Dockerfile",
    "MANIFEST",
    "MLmodel",
    "importance.json",
    "metadata.json",
    "model.pkl",
    "model_card.md",
    "profile.json",
    "python_env.yaml",
    "requirements-serve.txt",
    "requirements.txt",
    "signature.json",
    WHEEL,
}


def test_package_writes_bundle_archive_and_store_artifact(project, tmp_path):
    with project.store() as store:
        result = build_package(store, "churn", tmp_path / "dist")
        assert result.directory == tmp_path / "dist" / "churn-v1"
        assert result.archive == tmp_path / "dist" / "churn-v1.tar.gz"
        on_disk = {p.relative_to(result.directory).as_posix() for p in result.directory.rglob("*")}
        assert on_disk == EXPECTED_FILES | {"wheels"}

        # MANIFEST is sha256sum format over every other file
        lines = (result.directory / "MANIFEST").read_text().splitlines()
        listed = {}
        for line in lines:
            digest, rel = line.split("  ", 1)
            listed[rel] = digest
        assert set(listed) == EXPECTED_FILES - {"MANIFEST"}
        for rel, digest in listed.items():
            assert hashlib.sha256((result.directory / rel).read_bytes()).hexdigest() == digest

        # the package is an artifact whose parent is the model
        pkg = store.resolve("package/churn")
        assert pkg.id == result.package.id
        assert pkg.parents == [project.model.id]
        assert pkg.metadata["model_id"] == project.model.id
        assert (
            pkg.metadata["archive_sha256"]
            == hashlib.sha256(result.archive.read_bytes()).hexdigest()
        )
        assert set(pkg.files) == EXPECTED_FILES
        assert store.children(project.model.id) == [pkg.id]

        meta = json.loads((result.directory / "metadata.json").read_text())
        assert meta["lineage"]["model_id"] == project.model.id
        assert meta["lineage"]["parents"] == project.model.parents
        assert meta["metrics"] == {"accuracy": 0.8}
        assert (
            meta["model_file"]["converted_from"]["sha256"]
            == project.model.files["model.joblib"].hash
        )
        reqs = (result.directory / "requirements.txt").read_text().splitlines()
        assert any(r.startswith("scikit-learn==") for r in reqs)
        assert all("==" in r for r in reqs)

        # the archive holds the same files under one directory
        with tarfile.open(result.archive) as tar:
            names = sorted(m.name for m in tar.getmembers() if m.isfile())
            assert names == sorted(f"churn-v1/{n}" for n in EXPECTED_FILES)
            assert {m.mtime for m in tar.getmembers()} == {bundle_io.FIXED_MTIME}
            assert {(m.uid, m.gid, m.uname, m.gname) for m in tar.getmembers()} == {(0, 0, "", "")}


def test_mlmodel_has_pyfunc_and_sklearn_flavors(project, tmp_path):
    with project.store() as store:
        result = build_package(store, "churn", tmp_path / "dist")
    mlmodel = yaml.safe_load((result.directory / "MLmodel").read_text())
    pyfunc = mlmodel["flavors"]["python_function"]
    assert pyfunc["loader_module"] == "mlflow.sklearn"
    assert pyfunc["model_path"] == "model.pkl"
    sk = mlmodel["flavors"]["sklearn"]
    assert sk["pickled_model"] == "model.pkl"
    assert sk["serialization_format"] == "pickle"
    inputs = json.loads(mlmodel["signature"]["inputs"])
    assert [c["name"] for c in inputs][:2] == ["tenure_months", "monthly_charges"]
    assert mlmodel["metadata"]["mlops_model_id"] == project.model.id


def test_same_model_gives_same_bytes(project, tmp_path):
    with project.store() as store:
        a = build_package(store, "churn", tmp_path / "a")
        b = build_package(store, "churn", tmp_path / "b")
    assert a.archive.read_bytes() == b.archive.read_bytes()
    assert a.package.id == b.package.id
    assert b.reused


def test_same_bytes_across_processes(project, subprocess_cli, tmp_path):
    shas = []
    for seed in ("1", "2"):
        r = subprocess_cli(
            "package",
            "churn",
            "-o",
            str(tmp_path / seed),
            "--json",
            cwd=project.root,
            env={"PYTHONHASHSEED": seed},
        )
        assert r.returncode == 0, r.stderr
        shas.append(json.loads(r.stdout)["archive_sha256"])
    assert shas[0] == shas[1]


def test_round_trip_predictions_equal_store_model(project, cli, tmp_path):
    r = cli("package", "churn", "-o", str(tmp_path / "dist"), cwd=project.root)
    assert r.returncode == 0, r.stderr
    expected = project.pipeline.predict(features_of(project.batch))
    expected_proba = project.pipeline.predict_proba(features_of(project.batch))
    outputs = {
        "store": "churn",
        "dir": str(tmp_path / "dist" / "churn-v1"),
        "tar": str(tmp_path / "dist" / "churn-v1.tar.gz"),
        "package-artifact": "package/churn",
    }
    for label, ref in outputs.items():
        out = tmp_path / f"pred-{label}.parquet"
        r = cli(
            "predict",
            ref,
            "--input",
            str(project.batch_csv),
            "--output",
            str(out),
            "--chunk-rows",
            "100000",
            cwd=project.root,
        )
        assert r.returncode == 0, (label, r.stderr)
        got = pd.read_parquet(out)
        assert list(got.columns) == ["customer_id", "prediction", "proba_0", "proba_1"]
        assert got["customer_id"].tolist() == project.batch["customer_id"].tolist()
        np.testing.assert_array_equal(got["prediction"].to_numpy(), expected)
        np.testing.assert_array_equal(got[["proba_0", "proba_1"]].to_numpy(), expected_proba)


def test_open_package_refuses_unlisted_and_missing_files(project, tmp_path):
    with project.store() as store:
        result = build_package(store, "churn", tmp_path / "dist")
    (result.directory / "extra.py").write_text("print('hi')\n")
    with pytest.raises(StoreIntegrityError, match="does not list"):
        open_package(result.directory)
    (result.directory / "extra.py").unlink()
    (result.directory / "profile.json").unlink()
    with pytest.raises(StoreIntegrityError, match="missing 'profile.json'"):
        open_package(result.directory)


def test_symlink_inside_bundle_dir_is_refused(project, tmp_path):
    with project.store() as store:
        result = build_package(store, "churn", tmp_path / "dist")
    (result.directory / "profile.json").unlink()
    (result.directory / "profile.json").symlink_to("/etc/hostname")
    with pytest.raises(StoreIntegrityError, match="not a regular file"):
        open_package(result.directory)


@pytest.mark.parametrize("target", ["model.pkl", "signature.json", "MLmodel", WHEEL])
def test_flipped_byte_in_bundle_exits_3(project, cli, tmp_path, target):
    r = cli("package", "churn", "-o", str(tmp_path / "dist"), cwd=project.root)
    assert r.returncode == 0, r.stderr
    path = tmp_path / "dist" / "churn-v1" / target
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    out = tmp_path / "out.csv"
    r = cli(
        "predict",
        str(tmp_path / "dist" / "churn-v1"),
        "--input",
        str(project.batch_csv),
        "--output",
        str(out),
        cwd=project.root,
    )
    assert r.returncode == 3, r.stderr
    assert target in r.stderr and "MANIFEST" in r.stderr
    assert not out.exists()


def test_flipped_byte_in_archive_exits_3(project, cli, tmp_path):
    with project.store() as store:
        result = build_package(store, "churn", tmp_path / "dist")
    data = bytearray(result.archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    result.archive.write_bytes(bytes(data))
    r = cli(
        "predict",
        str(result.archive),
        "--input",
        str(project.batch_csv),
        "--output",
        str(tmp_path / "out.csv"),
        cwd=project.root,
    )
    assert r.returncode == 3, r.stderr
    assert not (tmp_path / "out.csv").exists()


def test_flipped_byte_inside_archive_member_exits_3(project, cli, tmp_path):
    """A well-formed archive whose model.pkl differs from its MANIFEST."""
    with project.store() as store:
        result = build_package(store, "churn", tmp_path / "dist")
    files = bundle_io.read_bundle_dir(result.directory)
    pkl = bytearray(files["model.pkl"])
    pkl[100] ^= 0x01
    files["model.pkl"] = bytes(pkl)
    bad = tmp_path / "bad.tar.gz"
    bundle_io.write_archive(files, "churn-v1", bad)
    r = cli(
        "predict",
        str(bad),
        "--input",
        str(project.batch_csv),
        "--output",
        str(tmp_path / "out.csv"),
        cwd=project.root,
    )
    assert r.returncode == 3
    assert "model.pkl" in r.stderr


def test_package_refuses_non_model(project, tmp_path):
    with project.store() as store, pytest.raises(InputError):
        build_package(store, "dataset/churn-train", tmp_path / "dist")


def test_package_replaces_only_bundles(project, tmp_path):
    out = tmp_path / "dist"
    (out / "churn-v1").mkdir(parents=True)
    (out / "churn-v1" / "precious.txt").write_text("keep me")
    with project.store() as store, pytest.raises(InputError, match="not a package bundle"):
        build_package(store, "churn", out)
    assert (out / "churn-v1" / "precious.txt").read_text() == "keep me"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_regressor_package_round_trip(project, tmp_path):
    from helpers.models import add_model
    from mlops.lifecycle.deploy import predict_files

    with project.store() as store:
        art, pipe = add_model(store, project.train, task="regression")
        result = build_package(store, art.name, tmp_path / "dist")
        handle = open_package(result.archive, store)
    assert not handle.signature.is_classifier
    out = tmp_path / "reg.csv"
    predict_files(handle, [project.batch_csv], out, chunk_rows=10_000)
    got = pd.read_csv(out)
    assert list(got.columns) == ["customer_id", "prediction"]
    np.testing.assert_allclose(
        got["prediction"], pipe.predict(features_of(project.batch)), rtol=1e-15
    )


def test_manifest_text_round_trip():
    files = {"a.txt": b"x", "dir/b.bin": b"\x00\x01"}
    text = bundle_io.manifest_text(files)
    assert bundle_io.parse_manifest(text, "t") == {
        rel: hashlib.sha256(d).hexdigest() for rel, d in files.items()
    }
    with pytest.raises(StoreIntegrityError):
        bundle_io.parse_manifest(b"0" * 64 + b"  ../x\n", "t")
