"""`mlops package`: a model from the store -> a self-contained, MLflow-compatible bundle.

Bundle layout (one directory, also written as a reproducible `.tar.gz`):

    MLmodel                MLflow model file: python_function + sklearn flavors
    model.pkl              the fitted scikit-learn Pipeline, plain pickle (protocol 4)
    signature.json         input columns and dtypes, task, target, classes
    profile.json           the reference profile (when the model has one)
    metadata.json          lineage ids, metrics, versions, file hashes
    model_card.md          the model card
    requirements.txt       pinned libraries the pickle needs (found by reading it)
    requirements-serve.txt what the Docker image adds to serve it: the bundled mlops wheel
                           (by path and sha256, never by name from an index), fastapi, uvicorn
    wheels/mlops-<version>-py3-none-any.whl
                           the mlops that built the bundle (self_wheel.py)
    python_env.yaml        MLflow virtualenv description
    Dockerfile             image that runs `mlops serve` on the bundle
    MANIFEST               sha256 of every other file

Opening a bundle (directory or archive) verifies every file against MANIFEST, and the MANIFEST
against the `package` artifacts of the store, before anything is deserialised (docs/security.md).
Loading a model from the store reads hash-verified bytes only.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import pickle
import platform
import re
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops import __version__
from mlops.atomic import atomic_dir
from mlops.errors import InputError, NotFoundError, StoreIntegrityError
from mlops.lifecycle.deploy import bundle as bundle_io
from mlops.lifecycle.deploy.restricted_pickle import restricted_loads
from mlops.lifecycle.deploy.self_wheel import build_self_wheel
from mlops.lifecycle.deploy.signature import Signature

if TYPE_CHECKING:
    import pandas as pd

    from mlops.store import Artifact, Store

PACKAGE_FORMAT = 1
PICKLE_PROTOCOL = 4
MODEL_FILE = "model.pkl"
STORE_MODEL_FILE = "model.joblib"
WHEELS_DIR = "wheels"
BUNDLE_DIR_VAR = "MLOPS_BUNDLE_DIR"
_COPIED = ("signature.json", "profile.json", "model_card.md", "importance.json")


# -- a loaded model, whatever it came from ----------------------------------------------------
@dataclass
class ModelHandle:
    """A model ready to score: the estimator, its signature and where it came from."""

    model: Any
    signature: Signature
    model_id: str | None
    name: str
    version: int | None
    source: str
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name}:{self.version}" if self.version is not None else self.name

    @property
    def classes(self) -> list[Any]:
        classes = getattr(self.model, "classes_", None)
        if classes is None and self.signature.classes:
            return list(self.signature.classes)
        return [] if classes is None else [_plain(c) for c in classes]

    def describe(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "task": self.signature.task,
            "target": self.signature.target,
            "classes": self.classes,
            "inputs": [{"name": c.name, "dtype": c.dtype} for c in self.signature.columns],
            "metrics": self.metadata.get("metrics", {}),
        }

    def score(self, X: pd.DataFrame) -> pd.DataFrame:
        """`prediction` and, for classifiers, `proba_<class>` columns, one row per row of X.

        X must already be coerced to the signature (Signature.coerce)."""
        import numpy as np
        import pandas as pd

        if len(X) == 0:
            cols: dict[str, Any] = {"prediction": pd.Series([], dtype="float64")}
            for c in self.classes if self.signature.is_classifier else []:
                cols[f"proba_{c}"] = pd.Series([], dtype="float64")
            return pd.DataFrame(cols, index=X.index)
        proba = None
        if self.signature.is_classifier and hasattr(self.model, "predict_proba"):
            proba = np.asarray(self.model.predict_proba(X), dtype="float64")
        if proba is not None and predicts_by_argmax(self.model):
            pred = np.asarray(self.model.classes_)[np.argmax(proba, axis=1)]
        else:
            pred = self.model.predict(X)
        out: dict[str, Any] = {"prediction": np.asarray(pred)}
        for j, c in enumerate(self.classes if proba is not None else []):
            out[f"proba_{c}"] = proba[:, j]  # type: ignore[index]
        return pd.DataFrame(out, index=X.index)


# scikit-learn classifiers whose predict() is classes_[argmax(predict_proba())], word for word:
# their label can be read off the probabilities, sparing a second pass through the model.
_ARGMAX_CLASSIFIERS = frozenset(
    {
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.ExtraTreesClassifier",
    }
)


def predicts_by_argmax(model: Any) -> bool:
    """Whether the model (or a Pipeline's last step) predicts the most probable class.

    Args:
        model: a fitted estimator or Pipeline.

    Returns:
        True for the single-output scikit-learn classifiers whose predict is defined so.
    """
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    kind = type(final)
    name = f"{kind.__module__}.{kind.__qualname__}"
    defined_in = getattr(kind.predict, "__module__", "")
    return (
        name in _ARGMAX_CLASSIFIERS
        and defined_in.startswith("sklearn.")
        and getattr(final, "n_outputs_", 1) == 1
    )


def _plain(v: Any) -> Any:
    item = getattr(v, "item", None)
    return item() if callable(item) else v


# -- loading ---------------------------------------------------------------------------------
def load_from_store(store: Store, art: Artifact) -> ModelHandle:
    """A `model` or `package` artifact as a ModelHandle, loaded from hash-verified store bytes.

    Raises:
        UsageError: the artifact is neither a model nor a package.
        StoreIntegrityError: a file is missing or its bytes do not match; nothing is unpickled.
    """
    if art.kind == "package":
        files = {rel: store.read_file(art, rel) for rel in sorted(art.files)}
        return load_bundle_files(files, f"package {art.label} ({art.short_id})")
    if art.kind != "model":
        raise InputError(
            f"{art.kind} {art.label} is not a model or a package",
            hint="pass a model reference (e.g. churn@production) or a package path",
        )
    from mlops.lifecycle.model_io import load_model

    loaded = load_model(store, art)  # hash-verified bytes; notes a scikit-learn version skew
    return ModelHandle(
        model=loaded.pipeline,
        signature=Signature.from_dict(loaded.signature, f"signature.json of {art.label}"),
        model_id=art.id,
        name=art.name,
        version=art.version,
        source=f"model {art.label} ({art.short_id})",
        metadata=dict(art.metadata),
        warnings=list(loaded.warnings),
    )


def load_bundle_files(files: dict[str, bytes], where: str, restricted: bool = False) -> ModelHandle:
    """A bundle's files (checked here against its MANIFEST) as a ModelHandle.

    The caller vouches for the bundle (its bytes come from the store, or its MANIFEST hash is
    recorded there); `restricted` loads model.pkl through the allow-list unpickler instead."""
    files = bundle_io.verify_files(files, where)
    for needed in (MODEL_FILE, "signature.json", "metadata.json"):
        if needed not in files:
            raise StoreIntegrityError(f"{where} has no {needed}")
    try:
        meta = json.loads(files["metadata.json"])
        sig = json.loads(files["signature.json"])
    except ValueError:
        raise StoreIntegrityError(f"{where}: metadata.json or signature.json is not JSON") from None
    if restricted:
        model = restricted_loads(files[MODEL_FILE])
    else:
        try:
            model = pickle.loads(files[MODEL_FILE])
        except Exception as e:
            raise StoreIntegrityError(
                f"{where}: {MODEL_FILE} cannot be loaded: {type(e).__name__}: {e}",
                hint="install the versions pinned in the package's requirements.txt",
            ) from None
    info = meta.get("model", {}) if isinstance(meta, dict) else {}
    return ModelHandle(
        model=model,
        signature=Signature.from_dict(sig, f"{where}: signature.json"),
        model_id=info.get("id"),
        name=str(info.get("name") or "model"),
        version=info.get("version"),
        source=where,
        metadata=dict(info.get("metadata") or {}),
    )


def open_package(
    path: Path, store: Store | None = None, trust_unverified: bool = False
) -> ModelHandle:
    """A bundle directory or .tar.gz as a ModelHandle, loaded only if it is trusted.

    Every file is checked against the bundle's MANIFEST, and the MANIFEST's sha256 must be the
    MANIFEST of a `package` artifact in `store` (one it built or pulled): then the bundle is
    exactly that package and model.pkl is unpickled. Otherwise, with `trust_unverified`,
    model.pkl goes through the restricted loader (scikit-learn, numpy and scipy types only).

    Args:
        path: the bundle directory or archive.
        store: the store whose `package` artifacts vouch for bundles (None: none does).
        trust_unverified: load an unrecorded bundle through the restricted loader.

    Returns:
        The model, its signature and where it came from (a warning when unverified).

    Raises:
        InputError: the path is not a bundle.
        StoreIntegrityError: a file differs from the MANIFEST, the archive holds unsafe
            members, the store knows no such package (without `trust_unverified`), or the
            restricted loader refuses a type; in every case nothing is unpickled.
    """
    path = Path(path)
    files = bundle_io.read_bundle(path)
    digest = bundle_io.sha256_hex(files[bundle_io.MANIFEST])
    record = store.find_by_file("package", bundle_io.MANIFEST, digest) if store else None
    if record is not None:
        return load_bundle_files(files, f"package {path} ({record.label} {record.short_id})")
    if not trust_unverified:
        raise StoreIntegrityError(
            f"bundle {path} is not a package this store knows: its MANIFEST hash "
            f"{digest[:16]}... is recorded nowhere",
            hint="`mlops pull` the package from its remote, run with --store pointing at the "
            "store that built it, or pass --trust-unverified to load only scikit-learn types",
        )
    handle = load_bundle_files(files, f"package {path}", restricted=True)
    handle.warnings.append(
        f"{path} is not recorded in any store: loaded unverified through the restricted loader"
    )
    return handle


def resolve_model(store_factory: Any, ref: str, trust_unverified: bool = False) -> ModelHandle:
    """REF|PACKAGE: an existing path is a package (trusted through the store, see
    open_package); anything else is a store reference.

    `store_factory(create=False)` opens the store; a missing store trusts no bundle."""
    path = Path(ref)
    if path.is_dir() or (path.exists() and bundle_io.is_archive(path)):
        try:
            store = store_factory(create=False)
        except NotFoundError:
            store = None
        return open_package(path, store, trust_unverified=trust_unverified)
    if path.exists():
        raise InputError(
            f"{ref} is neither a package directory nor a .tar.gz archive",
            hint="pass a store reference (name, name:version, name@alias, id) or a package",
        )
    store = store_factory()
    try:  # a model and its package share a name: a bare name means the model
        art = store.resolve(ref, kind="model")
    except NotFoundError:
        art = store.resolve(ref)
    return load_from_store(store, art)


# -- building --------------------------------------------------------------------------------
@dataclass
class PackageResult:
    package: Artifact
    model: Artifact
    directory: Path
    archive: Path
    archive_sha256: str
    files: dict[str, str]
    reused: bool

    def to_dict(self) -> dict[str, Any]:
        # kept: flattens the package and model artifacts
        return {
            "package_id": self.package.id,
            "package": self.package.label,
            "model_id": self.model.id,
            "model": self.model.label,
            "directory": str(self.directory),
            "archive": str(self.archive),
            "archive_sha256": self.archive_sha256,
            "files": self.files,
            "reused": self.reused,
        }


class _RecordingUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.modules: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.modules.add(module.split(".")[0])
        return super().find_class(module, name)


def _requirements(modules: set[str]) -> dict[str, str]:
    """Distribution -> installed version for the modules a pickle imports (plus pandas)."""
    mapping = importlib.metadata.packages_distributions()
    dists: set[str] = {"pandas"}
    for mod in modules:
        if mod in sys.stdlib_module_names or mod in ("builtins", "__main__"):
            continue
        for dist in mapping.get(mod, [mod]):
            dists.add(dist)
    out: dict[str, str] = {}
    for dist in dists:
        try:
            out[_canonical(dist)] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            raise InputError(
                f"the model needs the module {dist!r}, which is not installed here",
                hint="package the model where it was trained",
            ) from None
    return dict(sorted(out.items()))


def _canonical(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _version_of(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _python_version(meta: dict[str, Any], signature: dict[str, Any]) -> str:
    v = meta.get("python_version") or signature.get("python_version")
    if isinstance(v, str) and re.fullmatch(r"3\.\d{1,2}\.\d{1,3}", v):
        return v
    return platform.python_version()


def _utc_time(created_at: str) -> str:
    # MLflow's `str(naive UTC datetime)` form, taken from the model so the bytes are reproducible
    return created_at.rstrip("Z").replace("T", " ")


def build_files(
    store: Store, model_art: Artifact, base_image: str | None = None, port: int = 8080
) -> dict[str, bytes]:
    """Every file of the bundle for a model artifact, MANIFEST included. Deterministic."""
    from mlops.config.package import IMAGE_REF

    if model_art.kind != "model":
        raise InputError(
            f"{model_art.kind} {model_art.label} is not a model",
            hint="package a model reference, e.g. `mlops package churn@production`",
        )
    handle = load_from_store(store, model_art)
    meta = dict(model_art.metadata)
    pickled = pickle.dumps(handle.model, protocol=PICKLE_PROTOCOL)
    recorder = _RecordingUnpickler(pickled)
    recorder.load()  # the package must load: fail here, not at the user's
    reqs = _requirements(recorder.modules)
    py = _python_version(meta, handle.signature.raw)
    sklearn_version = reqs.get("scikit-learn") or _version_of("scikit-learn") or "unknown"

    files: dict[str, bytes] = {MODEL_FILE: pickled}
    for rel in _COPIED:
        if rel in model_art.files:
            files[rel] = store.read_file(model_art, rel)
    if "signature.json" not in files:
        files["signature.json"] = _json(handle.signature.to_dict())
    if "model_card.md" not in files:
        files["model_card.md"] = _default_card(model_art, handle).encode()
    files["metadata.json"] = _json(_metadata(model_art, meta, py, reqs))
    files["requirements.txt"] = "".join(f"{d}=={v}\n" for d, v in reqs.items()).encode()
    wheel = build_self_wheel()
    wheel_path = f"{WHEELS_DIR}/{wheel.filename}"
    files[wheel_path] = wheel.data
    files["requirements-serve.txt"] = serve_requirements(wheel_path, wheel.sha256).encode()
    files["python_env.yaml"] = _yaml(
        {
            "python": py,
            "build_dependencies": ["pip", "setuptools", "wheel"],
            "dependencies": ["-r requirements.txt"],
        }
    )
    image = base_image or f"python:{'.'.join(py.split('.')[:2])}-slim"
    if not IMAGE_REF.fullmatch(image):
        raise InputError(f"base image {image!r} is not a Docker image reference")
    files["Dockerfile"] = dockerfile(image, model_art, port, wheel_path).encode()
    files["MLmodel"] = _yaml(_mlmodel(model_art, handle, py, sklearn_version, len(pickled)))
    files[bundle_io.MANIFEST] = bundle_io.manifest_text(files)
    return files


def _metadata(
    model_art: Artifact, meta: dict[str, Any], py: str, reqs: dict[str, str]
) -> dict[str, Any]:
    """metadata.json: the model artifact, its lineage and metrics, and the versions it needs."""
    return {
        "format": "mlops-package",
        "format_version": PACKAGE_FORMAT,
        "model": {
            "id": model_art.id,
            "name": model_art.name,
            "version": model_art.version,
            "created_at": model_art.created_at,
            "run_id": model_art.run_id,
            "parents": list(model_art.parents),
            "metadata": meta,
            "files": {p: e.hash for p, e in sorted(model_art.files.items())},
        },
        "lineage": {
            "model_id": model_art.id,
            "parents": list(model_art.parents),
            "run_id": model_art.run_id,
        },
        "metrics": meta.get("metrics", {}),
        "model_file": {
            "path": MODEL_FILE,
            "serialization_format": "pickle",
            "pickle_protocol": PICKLE_PROTOCOL,
            "converted_from": {
                "path": STORE_MODEL_FILE,
                "sha256": model_art.files[STORE_MODEL_FILE].hash,
            },
        },
        "versions": {"python": py, "mlops": __version__, **reqs},
    }


def _mlmodel(
    model_art: Artifact, handle: ModelHandle, py: str, sklearn_version: str, size: int
) -> dict[str, Any]:
    """MLmodel: what MLflow reads to load the bundle as a python_function or sklearn model."""
    return {
        "flavors": {
            "python_function": {
                "env": {"virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.sklearn",
                "model_path": MODEL_FILE,
                "predict_fn": "predict",
                "python_version": py,
            },
            "sklearn": {
                "code": None,
                "pickled_model": MODEL_FILE,
                "serialization_format": "pickle",
                "sklearn_version": sklearn_version,
            },
        },
        "metadata": {
            "mlops_model_id": model_art.id,
            "mlops_model": model_art.label,
            "mlops_package_format": PACKAGE_FORMAT,
        },
        "model_size_bytes": size,
        "model_uuid": uuid.UUID(model_art.id[:32]).hex,
        "signature": {
            "inputs": json.dumps(handle.signature.mlflow_inputs()),
            "outputs": json.dumps(handle.signature.mlflow_outputs()),
            "params": None,
        },
        "utc_time_created": _utc_time(model_art.created_at),
    }


def _yaml(data: Any) -> bytes:
    import yaml

    return yaml.safe_dump(data, sort_keys=True, default_flow_style=False).encode()


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n").encode()


def serve_requirements(wheel_path: str, wheel_sha256: str) -> str:
    """requirements-serve.txt: the bundled mlops wheel by path and hash, fastapi, uvicorn."""
    serve_reqs = {"fastapi": _version_of("fastapi"), "uvicorn": _version_of("uvicorn")}
    return (
        "# What the Docker image adds to serve the model.\n"
        "# mlops is the wheel in this bundle, named by path so that pip never picks another\n"
        "# project called mlops from a package index; pip checks its sha256 (the #sha256= part)\n"
        "# before installing it. pip replaces ${" + BUNDLE_DIR_VAR + "} with that variable\n"
        "# from the environment: set it to this bundle's absolute path, e.g.\n"
        f'#   {BUNDLE_DIR_VAR}="$PWD" pip install -r requirements.txt -r requirements-serve.txt\n'
        "# (A path with --hash=sha256:... would turn on pip's hash-checking mode for every\n"
        "# requirement, dependencies included, so a direct reference carries the hash instead.)\n"
        f"mlops[serve] @ file://${{{BUNDLE_DIR_VAR}}}/{wheel_path}#sha256={wheel_sha256}\n"
        + "".join(f"{d}=={v}\n" if v else f"{d}\n" for d, v in serve_reqs.items())
    )


def _docker_string(value: str) -> str:
    """A JSON string literal (Dockerfile LABEL/exec form accept it); refuses control characters."""
    if any(ord(c) < 32 or c == "\x7f" for c in value):
        raise InputError(f"{value!r} cannot go into a Dockerfile (control characters)")
    return json.dumps(value)


def dockerfile(image: str, model_art: Artifact, port: int, wheel_path: str) -> str:
    """The Dockerfile text. Values interpolated: a validated image reference, an integer port,
    JSON-quoted labels and the bundled wheel's path (built here from a checked version);
    nothing from mlops.yaml reaches a RUN line. mlops is installed from the bundled wheel."""
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise InputError(f"port {port!r} is not a TCP port")
    labels = " \\\n      ".join(
        f"{key}={_docker_string(val)}"
        for key, val in (
            ("org.opencontainers.image.title", model_art.name),
            ("org.opencontainers.image.version", str(model_art.version)),
            ("io.mlops.model-id", model_art.id),
        )
    )
    cmd = json.dumps(
        [
            "mlops",
            "serve",
            "/opt/model",
            "--host",
            "0.0.0.0",
            "--port",
            str(port),
            "--log-dir",
            "/var/lib/mlops/predictions",
            "--trust-unverified",  # no store in the image: the restricted loader
        ]
    )
    return (
        "# syntax=docker/dockerfile:1\n"
        "# Serves this model package over HTTP with `mlops serve`.\n"
        "#   docker build -t my-model . && docker run -p 8080:8080 my-model\n"
        f"FROM {image}\n"
        f"LABEL {labels}\n"
        "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\n"
        "WORKDIR /opt/model\n"
        "COPY requirements.txt requirements-serve.txt /tmp/mlops-requirements/\n"
        f"COPY {wheel_path} /tmp/mlops-requirements/{wheel_path}\n"
        f"RUN {BUNDLE_DIR_VAR}=/tmp/mlops-requirements pip install --no-cache-dir"
        " -r /tmp/mlops-requirements/requirements.txt"
        " -r /tmp/mlops-requirements/requirements-serve.txt"
        " && rm -rf /tmp/mlops-requirements\n"
        "COPY . /opt/model/\n"
        "RUN useradd --system --uid 10001 --no-create-home model"
        " && mkdir -p /var/lib/mlops/predictions && chown model /var/lib/mlops/predictions\n"
        "USER 10001\n"
        f"EXPOSE {port}\n"
        f"CMD {cmd}\n"
    )


def _default_card(art: Artifact, handle: ModelHandle) -> str:
    meta = art.metadata
    lines = [
        f"# Model card: {art.label}",
        "",
        f"- id: `{art.id}`",
        f"- task: {handle.signature.task}",
        f"- target: {handle.signature.target}",
        f"- estimator: {meta.get('estimator', type(handle.model).__name__)}",
        f"- inputs: {', '.join(handle.signature.names)}",
        "",
        "## Metrics",
        "",
    ]
    metrics = meta.get("metrics") or {}
    lines += [f"- {k}: {v}" for k, v in sorted(metrics.items())] or ["(none recorded)"]
    return "\n".join(lines) + "\n"


def build_package(
    store: Store,
    ref: str,
    out_dir: Path,
    base_image: str | None = None,
    port: int = 8080,
    command: str | None = None,
) -> PackageResult:
    """Write the bundle `<out>/<name>-v<version>/` and its reproducible `.tar.gz`, and record
    them as a `package` artifact whose parent is the model.

    Args:
        store: the store holding the model.
        ref: the model reference (`churn@production`).
        out_dir: where the bundle directory and archive go.
        base_image: the Dockerfile's base image (default: python:<X.Y>-slim).
        port: the port the image serves on.
        command: the command line, recorded with the run.

    Returns:
        The package artifact, its directory, archive and archive hash, and each file's hash.

    Raises:
        NotFoundError: the reference matches no model.
        InputError: a bad base image or port, or an output path that is not a bundle.
        StoreIntegrityError: the model's bytes do not match their hash.
    """
    model_art = store.resolve(ref, kind="model")
    files = build_files(store, model_art, base_image=base_image, port=port)
    stem = f"{model_art.name}-v{model_art.version}"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if out_dir.is_symlink() or not out_dir.is_dir():
        raise InputError(f"output {out_dir} is not a directory")
    directory = out_dir / stem
    _write_dir(files, directory)
    archive = out_dir / f"{stem}.tar.gz"
    archive_sha = bundle_io.write_archive(files, stem, archive)

    run_id = store.start_run("package", name=model_art.name, command=command)
    try:
        before = store.try_resolve(f"package/{model_art.name}")
        pkg = store.add_artifact(
            "package",
            model_art.name,
            files=files,
            metadata={
                "model_id": model_art.id,
                "model": model_art.label,
                "format_version": PACKAGE_FORMAT,
                "manifest_sha256": bundle_io.sha256_hex(files[bundle_io.MANIFEST]),
                "archive_sha256": archive_sha,
                "archive_name": archive.name,
            },
            parents=[model_art.id],
            run_id=run_id,
            command=command,
        )
        store.link_run(run_id, model_art.id, "input")
        store.finish_run(run_id, "succeeded", info={"package_id": pkg.id})
    except BaseException:
        store.finish_run(run_id, "failed")
        raise
    return PackageResult(
        package=pkg,
        model=model_art,
        directory=directory,
        archive=archive,
        archive_sha256=archive_sha,
        files={rel: bundle_io.sha256_hex(data) for rel, data in sorted(files.items())},
        reused=before is not None and before.id == pkg.id,
    )


def _write_dir(files: dict[str, bytes], directory: Path) -> None:
    """Write the bundle beside its final place, then swap it in (an older bundle is replaced)."""
    if directory.is_symlink():
        raise InputError(f"{directory} is a symlink; refusing to replace it")
    if directory.exists() and not (directory / bundle_io.MANIFEST).is_file():
        raise InputError(
            f"{directory} exists and is not a package bundle; refusing to replace it",
            hint="choose another --output directory",
        )
    with atomic_dir(directory) as tmp:
        for rel, data in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(0o644)
