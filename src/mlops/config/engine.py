"""The `engine:` key of mlops.yaml: where data-parallel work runs.

engine: local                                    # the default: this process, in chunks
engine: {kind: dask, address: tcp://scheduler:8786}
engine: {kind: dask}                             # a LocalCluster sized to the machine
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlops.config.base import Section


class EngineConfig(Section):
    """Which engine runs validate, monitor, predict and train's reference profile."""

    kind: Literal["local", "dask"] = Field(
        "local", description="local (one process, in chunks) or dask (a Dask cluster)"
    )
    address: str | None = Field(
        None,
        description="the Dask scheduler, e.g. tcp://scheduler:8786 (default: "
        "DASK_SCHEDULER_ADDRESS, else a LocalCluster on this machine)",
    )
    connect_timeout_s: float = Field(
        10.0, gt=0, le=600, description="Dask: seconds to wait for the scheduler to answer"
    )
    partition_rows: int = Field(
        1_000_000,
        ge=1,
        description="Dask: a Parquet file of at least twice this many rows and several row "
        "groups is split into tasks of whole row groups, about this many rows each",
    )

    @model_validator(mode="before")
    @classmethod
    def _kind_shorthand(cls, v: object) -> object:
        if isinstance(v, str):
            return {"kind": v}
        return v

    @model_validator(mode="after")
    def _address_needs_dask(self) -> EngineConfig:
        if self.address and self.kind != "dask":
            raise ValueError("engine.address is only used with kind: dask")
        return self
