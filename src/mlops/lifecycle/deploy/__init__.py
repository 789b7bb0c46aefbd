"""Deployment: the package bundle (package.py; bundle.py reads and writes it, signature.py checks
inputs, self_wheel.py builds the mlops wheel it carries), batch prediction (predict.py) and the
HTTP server (serve.py)."""

from typing import TYPE_CHECKING

from mlops.lifecycle._lazy import lazy_exports

if TYPE_CHECKING:
    from mlops.lifecycle.deploy.package import (
        ModelHandle,
        PackageResult,
        build_package,
        load_from_store,
        open_package,
        resolve_model,
    )
    from mlops.lifecycle.deploy.predict import PredictResult, predict_files
    from mlops.lifecycle.deploy.serve import (
        RequestError,
        bind,
        create_app,
        frame_from_body,
        require_serve_extra,
        run_server,
    )
    from mlops.lifecycle.deploy.signature import SchemaMismatch, Signature

__all__ = [
    "ModelHandle",
    "PackageResult",
    "PredictResult",
    "RequestError",
    "SchemaMismatch",
    "Signature",
    "bind",
    "build_package",
    "create_app",
    "frame_from_body",
    "load_from_store",
    "open_package",
    "predict_files",
    "require_serve_extra",
    "resolve_model",
    "run_server",
]
__getattr__ = lazy_exports(
    __name__,
    {
        "package": (
            "ModelHandle",
            "PackageResult",
            "build_package",
            "load_from_store",
            "open_package",
            "resolve_model",
        ),
        "predict": ("PredictResult", "predict_files"),
        "serve": (
            "RequestError",
            "bind",
            "create_app",
            "frame_from_body",
            "require_serve_extra",
            "run_server",
        ),
        "signature": ("SchemaMismatch", "Signature"),
    },
)
