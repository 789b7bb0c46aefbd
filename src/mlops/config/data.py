from __future__ import annotations

from pydantic import Field, field_validator

from mlops.config.base import Section


class DataConfig(Section):
    """Where the data lives. Each entry is a path, a glob, a directory of Parquet/CSV files, or a
    dataset ref from the store (`dataset:churn-train:3`)."""

    train: list[str] = Field(
        default_factory=list, description="training data (paths, globs, or store refs)"
    )
    test: list[str] = Field(
        default_factory=list, description="optional held-out test data for evaluate"
    )
    current: list[str] = Field(
        default_factory=list, description="the batch that monitor compares with the reference"
    )
    labels: list[str] = Field(
        default_factory=list, description="labels that arrive later, joined by id_column"
    )
    id_column: str | None = Field(None, description="row identifier, never used as a feature")
    time_column: str | None = Field(
        None, description="event time; used for time splits and monitoring windows"
    )
    delimiter: str | None = Field(None, description="CSV delimiter (default: ',', or tab for .tsv)")
    encoding: str = Field("utf-8", description="CSV text encoding")

    @field_validator("train", "test", "current", "labels", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        if v is None:
            return []
        return [v] if isinstance(v, str) else v
