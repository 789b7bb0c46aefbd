"""The bundle ships the wheel of the mlops that built it and installs mlops only from there."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata
import io
import os
import re
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlops
from helpers.data import features_of
from mlops.lifecycle.deploy import build_package
from mlops.lifecycle.deploy import bundle as bundle_io
from mlops.lifecycle.deploy.self_wheel import ZIP_TIME, build_self_wheel

WHEEL = f"wheels/mlops-{mlops.__version__}-py3-none-any.whl"
DIST_INFO = f"mlops-{mlops.__version__}.dist-info"
MLOPS_LINE = re.compile(
    r"^mlops\[serve\] @ file://\$\{MLOPS_BUNDLE_DIR\}/(?P<path>\S+)#sha256=(?P<sha>[0-9a-f]{64})$"
)


def _package(project, out: Path) -> Path:
    with project.store() as store:
        return build_package(store, "churn", out).directory


def _requirement_lines(path: Path) -> list[str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


# -- (a) only the bundled wheel, by path and hash ---------------------------------------------
def test_requirements_and_dockerfile_name_only_the_bundled_wheel(project, tmp_path):
    bundle = _package(project, tmp_path / "dist")
    wheel = bundle / WHEEL
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()

    reqs = _requirement_lines(bundle / "requirements-serve.txt")
    mlops_lines = [line for line in reqs if line.startswith("mlops")]
    assert len(mlops_lines) == 1
    m = MLOPS_LINE.match(mlops_lines[0])
    assert m, mlops_lines[0]
    assert m["path"] == WHEEL
    assert m["sha"] == sha
    assert {line.split("==")[0] for line in reqs} - {mlops_lines[0]} == {"fastapi", "uvicorn"}
    header = (bundle / "requirements-serve.txt").read_text().split("\nmlops[serve]")[0]
    assert 'MLOPS_BUNDLE_DIR="$PWD" pip install' in header  # the comment says how to install

    manifest = bundle_io.parse_manifest((bundle / "MANIFEST").read_bytes(), "test")
    assert manifest[WHEEL] == sha

    docker = (bundle / "Dockerfile").read_text()
    assert f"COPY {WHEEL} /tmp/mlops-requirements/{WHEEL}\n" in docker
    assert "MLOPS_BUNDLE_DIR=/tmp/mlops-requirements pip install" in docker
    pip_lines = [line for line in docker.splitlines() if "pip install" in line]
    assert len(pip_lines) == 1
    assert re.findall(r"-r (\S+)", pip_lines[0]) == [
        "/tmp/mlops-requirements/requirements.txt",
        "/tmp/mlops-requirements/requirements-serve.txt",
    ]
    assert not re.search(r"\bmlops(\[serve\])?\s*[=<>~]", docker)
    assert "mlops" not in (bundle / "requirements.txt").read_text()


# -- (c) a valid, reproducible wheel ----------------------------------------------------------
def test_packaging_twice_gives_the_same_wheel_bytes(project, tmp_path):
    a = _package(project, tmp_path / "a")
    b = _package(project, tmp_path / "b")
    assert (a / WHEEL).read_bytes() == (b / WHEEL).read_bytes()
    assert (a / WHEEL).read_bytes() == build_self_wheel().data


def test_wheel_holds_the_package_and_its_metadata(project, tmp_path):
    data = (_package(project, tmp_path / "dist") / WHEEL).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        members = {name: zf.read(name) for name in names}
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None

    # deterministic layout: package files sorted, dist-info after them, RECORD last
    package_names = [n for n in names if not n.startswith(DIST_INFO)]
    assert package_names == sorted(package_names)
    assert names[-1] == f"{DIST_INFO}/RECORD"
    assert {i.date_time for i in infos} == {ZIP_TIME}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}

    # the package files: every .py, py.typed, templates/*; no bytecode
    root = Path(mlops.__file__).parent
    expected = {
        f"mlops/{p.relative_to(root).as_posix()}"
        for p in root.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and (p.suffix == ".py" or p.name == "py.typed" or p.parent.name == "templates")
    }
    assert set(package_names) == expected
    assert "mlops/cli/app.py" in expected and "mlops/templates/mlops.yaml" in expected
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert members["mlops/__init__.py"] == (root / "__init__.py").read_bytes()

    # RECORD lists every other member with its urlsafe-base64 sha256 and size
    rows = list(csv.reader(io.StringIO(members[f"{DIST_INFO}/RECORD"].decode())))
    assert rows[-1] == [f"{DIST_INFO}/RECORD", "", ""]
    assert [r[0] for r in rows[:-1]] == names[:-1]
    for name, digest, size in rows[:-1]:
        raw = hashlib.sha256(members[name]).digest()
        assert digest == "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        assert int(size) == len(members[name])

    metadata = members[f"{DIST_INFO}/METADATA"].decode().splitlines()
    assert "Name: mlops" in metadata
    assert f"Version: {mlops.__version__}" in metadata
    assert "Requires-Python: >=3.11" in metadata
    assert "Provides-Extra: serve" in metadata
    assert any(line.startswith("Requires-Dist: scikit-learn") for line in metadata)
    assert any(
        line.startswith("Requires-Dist: fastapi") and 'extra == "serve"' in line
        for line in metadata
    )
    wheel_file = members[f"{DIST_INFO}/WHEEL"].decode()
    assert "Root-Is-Purelib: true" in wheel_file and "Tag: py3-none-any" in wheel_file
    assert "mlops = mlops.cli.app:main" in members[f"{DIST_INFO}/entry_points.txt"].decode()


# -- (b) the bundle alone installs and runs its mlops, offline ---------------------------------
def _deps_view(dest: Path) -> Path:
    """The test interpreter's site-packages without mlops itself (links to everything else)."""
    dest.mkdir()
    dirs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    dirs.update(site.getsitepackages())
    for d in sorted(Path(p) for p in dirs if Path(p).is_dir()):
        for entry in d.iterdir():
            name = entry.name
            if "mlops" in name.lower() or name.endswith(".pth") or (dest / name).exists():
                continue
            (dest / name).symlink_to(entry)
    return dest


def _fresh_venv(path: Path, deps: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
    purelib = subprocess.run(
        [
            str(path / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "zz-test-deps.pth").write_text(f"{deps}\n")
    return path / "bin"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PIP_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _pip_install(bin_dir: Path, bundle: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [str(bin_dir / "python"), "-m", "pip", "install", "--no-index", *extra]
    cmd += ["-r", "requirements.txt", "-r", "requirements-serve.txt"]
    return _run(cmd, bundle, _clean_env(MLOPS_BUNDLE_DIR=str(bundle)))


@pytest.mark.slow
def test_bundle_installs_its_own_mlops_offline_and_predicts(project, tmp_path):
    bundle = _package(project, tmp_path / "dist")
    bin_dir = _fresh_venv(tmp_path / "venv", _deps_view(tmp_path / "deps"))

    # a wheel that does not match the hash in requirements-serve.txt is refused by pip
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for rel in ("requirements.txt", "requirements-serve.txt", WHEEL):
        (tampered / rel).parent.mkdir(exist_ok=True)
        (tampered / rel).write_bytes((bundle / rel).read_bytes())
    with zipfile.ZipFile(tampered / WHEEL, "a") as zf:
        zf.writestr("mlops/evil.py", "print('not ours')\n")
    r = _pip_install(bin_dir, tampered, "--dry-run")
    assert r.returncode != 0 and "sha256" in r.stderr.lower(), r.stdout + r.stderr

    r = _pip_install(bin_dir, bundle)
    assert r.returncode == 0, r.stdout + r.stderr
    env = _clean_env()
    r = _run([str(bin_dir / "mlops"), "--version"], tmp_path, env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"mlops {mlops.__version__}"

    # mlops now comes from the installed wheel, and rebuilds the very same wheel
    probe = "import mlops; from mlops.lifecycle.deploy.self_wheel import build_self_wheel as b; "
    probe += "print(mlops.__file__); print(b().sha256)"
    r = _run([str(bin_dir / "python"), "-c", probe], tmp_path, env)
    assert r.returncode == 0, r.stderr
    where, sha = r.stdout.split()
    assert Path(where).is_relative_to(tmp_path / "venv")
    assert sha == hashlib.sha256((bundle / WHEEL).read_bytes()).hexdigest()

    out = tmp_path / "scores.csv"
    # the store that built the bundle vouches for it (docs/security.md)
    cmd = [str(bin_dir / "mlops"), "--store", str(project.store_path), "predict", str(bundle)]
    cmd += ["-i", str(project.batch_csv)]
    r = _run([*cmd, "-o", str(out)], tmp_path, env)
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(out)
    expected = project.pipeline.predict(features_of(project.batch))
    np.testing.assert_array_equal(got["prediction"].to_numpy(), expected)


def test_mlops_without_distribution_metadata_is_a_clear_input_error(
    project, cli, tmp_path, monkeypatch
):
    def missing(name: str):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "metadata", missing)
    r = cli("package", "churn", "-o", str(tmp_path / "dist"), cwd=project.root)
    assert r.returncode == 2
    assert "mlops is not installed as a distribution" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "dist" / "churn-v1").exists()
