"""The `package:` section: bundles, batch prediction, the prediction log and `mlops serve`."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from mlops.config.base import Section

# A Docker image reference: [registry[:port]/]path[:tag][@sha256:digest]. No whitespace, quotes,
# `$`, backslashes or newlines can pass, so the value can go into a Dockerfile `FROM` line as is.
IMAGE_REF = re.compile(
    r"^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"
)


class ServeConfig(Section):
    host: str = Field(
        "127.0.0.1", description="address `mlops serve` binds to (localhost unless told otherwise)"
    )
    port: int = Field(8080, ge=1, le=65535, description="TCP port of `mlops serve`")
    max_body_mb: float = Field(
        10.0, gt=0, le=1024, description="largest request body accepted (larger: HTTP 413)"
    )
    log_predictions: bool = Field(
        True, description="append served predictions to the prediction log for `mlops monitor`"
    )
    log_flush_rows: int = Field(
        10_000, ge=1, description="served rows buffered before a prediction-log file is written"
    )
    log_flush_seconds: float = Field(
        60.0, gt=0, description="longest time served rows wait in the buffer"
    )

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9.:\-\[\]]{1,255}", v):
            raise ValueError(f"not a host name or IP address: {v!r}")
        return v


class PackageConfig(Section):
    output_dir: str = Field("dist", description="where `mlops package` writes bundles")
    base_image: str | None = Field(
        None,
        description="Dockerfile base image (default python:<model's major.minor>-slim)",
    )
    prediction_log: str = Field(
        "predictions",
        description="directory of the prediction log (Parquet files) that `mlops monitor` reads",
    )
    chunk_rows: int = Field(
        100_000, ge=1, description="rows scored at a time by `mlops predict` (bounds memory)"
    )
    serve: ServeConfig = Field(default_factory=ServeConfig)

    @field_validator("base_image")
    @classmethod
    def _image(cls, v: str | None) -> str | None:
        if v is not None and not IMAGE_REF.fullmatch(v):
            raise ValueError(
                f"not a Docker image reference: {v!r} (expected e.g. python:3.11-slim; "
                "no spaces, quotes, '$' or newlines)"
            )
        return v
