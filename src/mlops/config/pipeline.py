"""The `pipeline:` section of mlops.yaml: which stages `mlops run` runs, and what it promotes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from mlops.config.base import Section

STAGES = ("validate", "train", "evaluate", "package")
StageName = Literal["validate", "train", "evaluate", "package"]


class PipelineConfig(Section):
    """`mlops run` runs these stages in order, skipping those whose inputs are unchanged."""

    stages: list[StageName] | None = Field(
        None,
        description="stages of `mlops run`, in lifecycle order (default: validate when a schema "
        "is declared, then train, evaluate and package)",
    )
    promote: str | None = Field(
        "production",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="alias the evaluate stage moves to the new model when the gate passes "
        "(null: never promote)",
    )

    @field_validator("stages", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @field_validator("stages")
    @classmethod
    def _ordered(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        if len(set(v)) != len(v):
            raise ValueError("a stage is listed twice")
        if v != sorted(v, key=STAGES.index):
            raise ValueError("stages must be in lifecycle order: " + ", ".join(STAGES))
        return v
