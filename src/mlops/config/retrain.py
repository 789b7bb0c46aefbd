"""The `retrain:` section of mlops.yaml: when to retrain, on what, and when to promote."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from mlops.config.base import Section


class TriggerConfig(Section):
    """Any trigger that fires starts a retrain (`--force` starts one regardless)."""

    drift: bool = Field(True, description="retrain when the monitoring report finds dataset drift")
    drift_share: float | None = Field(
        None,
        gt=0,
        le=1,
        description="with drift: also retrain when at least this share of the features drifted, "
        "even if the report's dataset verdict is no drift (null: the report's verdict only)",
    )
    min_severity: Literal["warning", "critical"] | None = Field(
        "critical",
        description="also retrain when the report has an alert of at least this severity "
        "(null: alerts alone never trigger)",
    )
    performance_drop: float | None = Field(
        0.05,
        ge=0,
        description="retrain when the champion's metric on the labelled current batch is worse "
        "than on its training holdout by more than this (null: off)",
    )
    max_age_days: float | None = Field(
        None, gt=0, description="retrain when the champion is older than this many days (off)"
    )


class TrainingSetConfig(Section):
    policy: Literal["all", "window", "reference_plus_recent"] = Field(
        "reference_plus_recent",
        description="all: the reference data and every batch so far; window: the last `window` "
        "batches; reference_plus_recent: the reference data and the last `window` batches",
    )
    window: int = Field(2, ge=1, description="batches kept by window and reference_plus_recent")


class RetrainConfig(Section):
    """`mlops retrain`: monitor, decide, train by the policy, compare with the champion, promote."""

    batches: list[str] = Field(
        default_factory=list,
        description="labelled batches in time order (paths or globs, sorted by file name); the "
        "current batch and the ones before it are 'the data so far'",
    )
    alias: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="alias of the champion, moved to the candidate on promotion "
        "(default: pipeline.promote, else production)",
    )
    triggers: TriggerConfig = Field(default_factory=TriggerConfig)
    training_set: TrainingSetConfig = Field(default_factory=TrainingSetConfig)
    holdout_fraction: float = Field(
        0.3,
        gt=0,
        lt=1,
        description="share of the current batch held out (never trained on) to compare the "
        "candidate with the champion on recent data",
    )
    metric: str | None = Field(
        None, description="metric compared on the holdout (default: the first train metric)"
    )
    min_improvement: float = Field(
        0.001,
        description="the candidate must beat the champion on `metric` by at least this "
        "(0: a tie promotes; negative: a small loss is accepted)",
    )
    wait: bool = Field(
        False, description="wait for another retrain on the store instead of exiting (--wait)"
    )
    locked_exit_code: int = Field(
        1, ge=0, le=255, description="exit code when another retrain holds the lock"
    )
    random_state: int = Field(7, description="seed of the holdout split of the current batch")

    @field_validator("batches", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        if v is None:
            return []
        return [v] if isinstance(v, str) else v
