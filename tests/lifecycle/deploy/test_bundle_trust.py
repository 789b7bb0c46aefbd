"""Bundle trust: a bundle is opened only when a store records its MANIFEST; anything else goes
through the restricted loader (`--trust-unverified`) or is refused, and a crafted model.pkl
never runs."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.data import features_of
from helpers.models import Project
from mlops.errors import StoreIntegrityError
from mlops.lifecycle.deploy import build_package, open_package
from mlops.lifecycle.deploy import bundle as bundle_io

UNKNOWN = "is not a package this store knows"


class _Payload:
    """Unpickling this calls exec, which creates the marker file (if anything lets it run)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _genuine(project: Project, out: Path):  # type: ignore[no-untyped-def]
    with project.store() as store:
        return build_package(store, "churn", out)


def _craft(bundle: Path, dest: Path, marker: Path) -> Path:
    """A copy of the bundle whose model.pkl is the payload, with a recomputed MANIFEST."""
    shutil.copytree(bundle, dest)
    (dest / "model.pkl").write_bytes(pickle.dumps(_Payload(marker), protocol=4))
    files = {
        p.relative_to(dest).as_posix(): p.read_bytes()
        for p in dest.rglob("*")
        if p.is_file() and p.name != bundle_io.MANIFEST
    }
    (dest / bundle_io.MANIFEST).write_bytes(bundle_io.manifest_text(files))
    bundle_io.read_bundle(dest)  # consistent with its own MANIFEST: only trust can refuse it
    return dest


@pytest.fixture
def bundles(project: Project, tmp_path: Path):  # type: ignore[no-untyped-def]
    pkg = _genuine(project, tmp_path / "dist")
    marker = tmp_path / "pwned"
    crafted = _craft(pkg.directory, tmp_path / "crafted" / "churn-v1", marker)
    crafted_files = bundle_io.read_bundle(crafted)
    archive = tmp_path / "crafted.tar.gz"
    bundle_io.write_archive(crafted_files, "churn-v1", archive)
    yield pkg, crafted, archive, marker
    assert not marker.exists(), "the crafted model.pkl ran"


@pytest.mark.parametrize("form", ["directory", "archive"])
def test_crafted_bundle_is_refused_by_predict(project, bundles, cli, tmp_path, form):
    _, crafted, archive, marker = bundles
    target = crafted if form == "directory" else archive
    r = cli("predict", str(target), "-i", str(project.batch_csv), "-o", "p.csv", cwd=project.root)
    assert r.returncode == 3, r.stderr
    assert UNKNOWN in r.stderr and "MANIFEST hash" in r.stderr
    assert "--trust-unverified" in r.stderr and "mlops pull" in r.stderr
    assert "Traceback" not in r.stderr
    assert not marker.exists()
    assert not (project.root / "p.csv").exists()


def test_crafted_bundle_is_refused_by_serve(project, bundles, cli):
    pytest.importorskip("fastapi")
    _, crafted, archive, marker = bundles
    for target in (crafted, archive):
        r = cli("serve", str(target), "--no-log", "--port", "1", cwd=project.root)
        assert r.returncode == 3, r.stderr
        assert UNKNOWN in r.stderr
    assert not marker.exists()


def test_crafted_bundle_with_trust_unverified_is_refused_by_the_restricted_loader(
    project, bundles, cli
):
    _, crafted, archive, marker = bundles
    for target in (crafted, archive):
        r = cli(
            "predict", str(target), "--trust-unverified",
            "-i", str(project.batch_csv), "-o", "p.csv", cwd=project.root,
        )  # fmt: skip
        assert r.returncode == 3, r.stderr
        assert "builtins.exec" in r.stderr and "restricted loader" in r.stderr
    assert not marker.exists()


def test_genuine_bundle_predicts_as_before(project, bundles, cli):
    pkg, *_ = bundles
    for target in (pkg.directory, pkg.archive):
        r = cli("predict", str(target), "-i", str(project.batch_csv), "-o", "p.csv",
                cwd=project.root)  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert "restricted" not in r.stderr
        got = pd.read_csv(project.root / "p.csv")
        assert (
            got["prediction"].tolist()
            == project.pipeline.predict(features_of(project.batch)).tolist()
        )


def test_copied_bundle_is_trusted_through_store_option(project, bundles, cli, tmp_path):
    pkg, *_ = bundles
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    copy = shutil.copytree(pkg.directory, elsewhere / "bundle")
    shutil.copy(pkg.archive, elsewhere / "bundle.tar.gz")
    batch = str(project.batch_csv)
    for target in (copy, elsewhere / "bundle.tar.gz"):
        r = cli("predict", str(target), "-i", batch, "-o", "p.csv", cwd=elsewhere)
        assert r.returncode == 3 and UNKNOWN in r.stderr  # no store here
        assert not (elsewhere / ".mlops").exists()  # and none was created
        r = cli("--store", str(project.store_path), "predict", str(target), "-i", batch,
                "-o", "p.csv", cwd=elsewhere)  # fmt: skip
        assert r.returncode == 0, r.stderr


def test_genuine_bundle_with_trust_unverified_loads_through_the_restricted_loader(
    project, bundles, cli, tmp_path
):
    pkg, *_ = bundles
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = cli("predict", str(pkg.archive), "--trust-unverified", "-i", str(project.batch_csv),
            "-o", "p.csv", cwd=elsewhere)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "restricted loader" in r.stderr  # said, as a warning
    got = pd.read_csv(elsewhere / "p.csv")
    expected = project.pipeline.predict(features_of(project.batch))
    assert got["prediction"].tolist() == expected.tolist()


def test_open_package_needs_a_store_record(project, bundles):
    pkg, crafted, _, marker = bundles
    with pytest.raises(StoreIntegrityError, match=UNKNOWN):
        open_package(pkg.directory)  # no store: nothing vouches for it
    with project.store() as store:
        handle = open_package(pkg.directory, store)
        assert handle.model_id == project.model.id and not handle.warnings
        with pytest.raises(StoreIntegrityError, match=UNKNOWN):
            open_package(crafted, store)
        with pytest.raises(StoreIntegrityError, match="builtins.exec"):
            open_package(crafted, store, trust_unverified=True)
    assert not marker.exists()


def test_the_docker_image_serves_through_the_restricted_loader(bundles):
    pkg, *_ = bundles
    cmd = [line for line in (pkg.directory / "Dockerfile").read_text().splitlines()]
    assert any(line.startswith("CMD ") and '"--trust-unverified"' in line for line in cmd)


def test_bundle_pulled_from_a_remote_is_trusted(project, bundles, cli, tmp_path):
    pkg, *_ = bundles
    other = tmp_path / "other-store"
    remote = tmp_path / "remote"
    for store in (project.store_path, other):
        r = cli("--store", str(store), "remote", "add", "origin", str(remote), cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    assert cli("--store", str(project.store_path), "push", cwd=tmp_path).returncode == 0
    predict = ("predict", str(pkg.archive), "-i", str(project.batch_csv), "-o", "p.csv")
    r = cli("--store", str(other), *predict, cwd=tmp_path)
    assert r.returncode == 3 and UNKNOWN in r.stderr  # before the pull: unknown here
    r = cli("--store", str(other), "pull", "package/churn", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = cli("--store", str(other), *predict, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
