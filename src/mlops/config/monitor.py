"""The `monitor:` section of mlops.yaml: what `mlops monitor` compares, how, and when it alerts.

monitor:
  model: churn@production          # default: <project>@production, else the latest model
  window: month                    # hour | day | week | month | N rows (e.g. 5000)
  drift:
    correction: bh                 # bh | bonferroni | none (p-value tests only)
    drift_share: 0.5               # dataset drift when this share of features drifted
    columns:
      monthly_charges: {method: psi, threshold: 0.25}
  quality:                         # data-quality thresholds (defaults shown)
    missing_rise: 0.01             # missing share up by more than this (absolute)
    missing_rise_relative: 0.5     # ... and to more than 1.5x, and z-test p < missing_alpha
    missing_alpha: 0.001
    out_of_range_share: 0.01       # share outside the training range
    unseen_share: 0.01             # share of categories never seen in training
    alpha: 0.001                   # ... each also a test at this level (out of range, unseen)
    columns: {plan: {unseen_share: 0.05}}
  performance:
    max_drop: 0.05                 # alert when accuracy/f1/roc_auc... fall this much below the holdout
    max_rise: 0.1                  # ... or log_loss/rmse... rise by this share of it
    alpha: 0.01                    # ... and the drop is significant (one-sided, Bonferroni)
    min_rows: 100                  # fewer labelled rows: an info alert, no verdict
  severity: {dataset_drift: critical, feature_drift: warning}
  fail_on: critical                # exit 1 at or above this severity (none: never)
  notify: {url: https://hooks.slack.com/..., timeout_s: 5, retries: 2}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from mlops.config.base import Section
from mlops.config.window import window_schema

Severity = Literal["info", "warning", "critical"]
FailOn = Literal["info", "warning", "critical", "none"]

ALERT_KINDS = (
    "dataset_drift",
    "feature_drift",
    "data_quality",
    "prediction_drift",
    "target_drift",
    "performance",
    "estimated_performance",
    "schema",
)
DEFAULT_SEVERITY: dict[str, str] = {
    "dataset_drift": "critical",
    "feature_drift": "warning",
    "data_quality": "warning",
    "prediction_drift": "warning",
    "target_drift": "warning",
    "performance": "critical",
    "estimated_performance": "warning",
    "schema": "info",
}


class ColumnDriftConfig(Section):
    method: (
        Literal["wasserstein", "jensenshannon", "psi", "kl", "ks", "chisquare", "ks_distance"]
        | None
    ) = Field(None, description="drift method for this column (default: by type and sample size)")
    threshold: float | None = Field(
        None, gt=0, description="drift threshold (a distance, or a p-value for ks/chisquare)"
    )


class DriftConfig(Section):
    correction: Literal["bh", "bonferroni", "none"] = Field(
        "bh", description="multiple-testing correction of p-value tests"
    )
    drift_share: float = Field(
        0.5, gt=0, le=1, description="dataset drift when this share of features drifted"
    )
    columns: dict[str, ColumnDriftConfig] = Field(
        default_factory=dict, description="per-column method and threshold"
    )


class PerformanceConfig(Section):
    metrics: list[str] | None = Field(
        None, description="metrics to track (default: the model's holdout metrics)"
    )
    max_drop: float = Field(
        0.05,
        ge=0,
        description="alert when a score (accuracy, f1, roc_auc, r2...) is lower than its "
        "holdout value by more than this (absolute)",
    )
    max_rise: float = Field(
        0.1,
        ge=0,
        description="alert when an error metric (log_loss, rmse, mae...) is higher than its "
        "holdout value by more than this share of it",
    )
    alpha: float = Field(
        0.01,
        gt=0,
        lt=1,
        description="a drop must also be significant: one-sided p < alpha / (metrics tested) "
        "against the sampling noise of holdout and batch",
    )
    min_rows: int = Field(
        100,
        ge=1,
        description="below this many labelled (or, for estimates, scored) rows, performance "
        "is reported as too few rows (info) instead of being judged",
    )
    estimate: bool = Field(
        True, description="without labels, estimate classifier performance from probabilities"
    )
    sample_rows: int = Field(
        500_000,
        ge=1000,
        description="per window, metrics use a uniform sample of at most this many rows",
    )


class QualityColumnConfig(Section):
    missing_rise: float | None = Field(None, ge=0, le=1)
    missing_rise_relative: float | None = Field(None, ge=0)
    missing_alpha: float | None = Field(None, gt=0, lt=1)
    out_of_range_share: float | None = Field(None, ge=0, le=1)
    unseen_share: float | None = Field(None, ge=0, le=1)
    alpha: float | None = Field(None, gt=0, lt=1)


class QualityConfig(Section):
    missing_rise: float = Field(
        0.01, ge=0, le=1, description="missing-rate alert: rise of the missing share (absolute)"
    )
    missing_rise_relative: float = Field(
        0.5,
        ge=0,
        description="... and rise as a share of the reference missing rate (0.5: to 1.5x)",
    )
    missing_alpha: float = Field(
        0.001, gt=0, lt=1, description="... and one-sided two-proportion z-test p below this"
    )
    out_of_range_share: float = Field(
        0.01, ge=0, le=1, description="alert when more of the values lie outside the training range"
    )
    unseen_share: float = Field(
        0.01, ge=0, le=1, description="alert when more of the values are unseen categories"
    )
    alpha: float = Field(
        0.001,
        gt=0,
        lt=1,
        description="... and only when the out-of-range / unseen-category test gives p below this",
    )
    columns: dict[str, QualityColumnConfig] = Field(
        default_factory=dict, description="per-column overrides of these thresholds"
    )


class NotifyConfig(Section):
    url: str | None = Field(None, description="webhook URL (Slack-compatible JSON POST)")
    timeout_s: float = Field(5.0, gt=0, le=120, description="timeout of one attempt")
    retries: int = Field(2, ge=0, le=10, description="retries after a failed attempt")
    min_severity: Severity = Field("warning", description="post only alerts at or above this")


class MonitorConfig(Section):
    model: str | None = Field(
        None, description="model ref (default: <project>@production, else the latest model)"
    )
    window: str | int | None = Field(
        None,
        description="results per window: hour, day, week, month, or a number of rows",
        json_schema_extra=window_schema,
    )
    time_column: str | None = Field(
        None, description="event time column (default: data.time_column)"
    )
    label_column: str | None = Field(
        None, description="label column in the batch or label file (default: train.target)"
    )
    chunk_rows: int = Field(200_000, ge=1000, description="rows read and scored at a time")
    drift: DriftConfig = Field(default_factory=DriftConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    performance: PerformanceConfig = Field(default_factory=PerformanceConfig)
    severity: dict[str, Severity] = Field(
        default_factory=dict, description=f"severity per alert kind ({', '.join(ALERT_KINDS)})"
    )
    fail_on: FailOn = Field("critical", description="exit 1 when an alert at or above this fires")
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    store_data: bool = Field(
        False,
        description="also version the monitored files in the store as a dataset artifact "
        "(the report records each file's path and hash either way)",
    )
    html: str | None = Field(None, description="write the HTML report here on every run")
    prometheus: str | None = Field(None, description="write Prometheus text metrics here")

    @field_validator("severity")
    @classmethod
    def _known_kinds(cls, v: dict[str, str]) -> dict[str, str]:
        for k in v:
            if k not in ALERT_KINDS:
                raise ValueError(f"unknown alert kind {k!r}; known: {', '.join(ALERT_KINDS)}")
        return v

    @field_validator("window")
    @classmethod
    def _window(cls, v: str | int | None) -> str | int | None:
        from mlops.config.window import parse_window
        from mlops.errors import InputError

        try:
            parse_window(v)
        except InputError as e:  # as ValueError, the loader adds the file:line:col
            raise ValueError(e.message + (f" ({e.hint})" if e.hint else "")) from None
        return v

    def severity_of(self, kind: str) -> str:
        return self.severity.get(kind, DEFAULT_SEVERITY[kind])
