"""The typed model of mlops.yaml. Each section lives in its own module."""

from __future__ import annotations

from pydantic import Field, field_validator

from mlops.config.base import Section
from mlops.config.data import DataConfig
from mlops.config.engine import EngineConfig
from mlops.config.evaluate import EvaluateConfig
from mlops.config.monitor import MonitorConfig
from mlops.config.package import PackageConfig
from mlops.config.pipeline import PipelineConfig
from mlops.config.remote import RemoteConfig
from mlops.config.retrain import RetrainConfig
from mlops.config.train import TrainConfig
from mlops.config.validate import ValidateConfig
from mlops.data.schema import DatasetSchema

SUPPORTED_VERSIONS = (1,)


class MlopsConfig(Section):
    version: int = Field(1, description="config format version (this release reads 1)")
    project: str = Field(
        "model",
        description="project name; models are registered under it",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
    )
    store: str | None = Field(
        None,
        description="store directory (default .mlops next to mlops.yaml; MLOPS_STORE overrides)",
    )

    @field_validator("version", mode="after")
    @classmethod
    def _supported_version(cls, value: int) -> int:
        if value not in SUPPORTED_VERSIONS:
            supported = ", ".join(map(str, SUPPORTED_VERSIONS))
            raise ValueError(
                f"config version {value} is not supported; this mlops reads version {supported}"
            )
        return value

    engine: EngineConfig = Field(
        default_factory=EngineConfig,  # type: ignore[arg-type]
        description="where data-parallel work runs: local, or {kind: dask, address: ...}",
    )
    data: DataConfig = Field(default_factory=DataConfig)
    schema_: DatasetSchema | str | None = Field(
        None, alias="schema", description="the data schema, inline, or a path to a schema YAML file"
    )
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    package: PackageConfig = Field(default_factory=PackageConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    retrain: RetrainConfig = Field(default_factory=RetrainConfig)
    remote: RemoteConfig = Field(default_factory=RemoteConfig)
