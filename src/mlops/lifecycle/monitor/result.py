"""The result of `monitor`: overall and per-window figures, alerts, and the summary kept per run
(the report artifact's metadata, read back by `mlops monitor history` and `retrain`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlops.jsonable import fields_dict
from mlops.lifecycle.monitor.alerts import Alert, at_least, highest

if TYPE_CHECKING:
    from mlops.stats.drift import DriftResult
    from mlops.stats.quality import QualityResult

REPORT_KIND = "monitor-report"
REPORT_FILE = "report.json"


@dataclass
class WindowResult:
    """One window's figures (or the whole batch's, key "all"). The drift blocks hold scores and
    p-values as reported (`DriftResult.as_reported`)."""

    key: str
    label: str
    rows: int
    drift: DriftResult
    quality: QualityResult
    prediction_drift: DriftResult | None = None
    target_drift: DriftResult | None = None
    performance: dict[str, float | None] | None = None
    estimated: dict[str, float | None] | None = None
    labelled_rows: int = 0
    performance_se: dict[str, float | None] | None = None  # standard errors (`noise`)
    estimated_se: dict[str, float | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


@dataclass
class MonitorResult:
    """What `monitor` found; `to_dict` is the `--json` document and the stored report."""

    model: dict[str, Any]
    data: dict[str, Any]
    window: str | None
    reference: dict[str, Any]
    drift: DriftResult
    quality: QualityResult
    prediction_drift: DriftResult | None
    target_drift: DriftResult | None
    performance: dict[str, Any]
    windows: list[WindowResult]
    alerts: list[Alert]
    fail_on: str
    histograms: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    notify: dict[str, Any] | None = None
    report_id: str | None = None
    run_id: str | None = None
    created_at: str | None = None
    duration_s: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(at_least(self.alerts, self.fail_on))

    @property
    def status(self) -> str:
        """fail (an alert at or above fail_on), warnings (a warning or critical alert below
        fail_on), or ok. Only fail changes the exit code."""
        if self.failed:
            return "fail"
        return "warnings" if at_least(self.alerts, "warning") else "ok"

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    @property
    def highest_severity(self) -> str | None:
        return highest(self.alerts)

    def summary(self) -> dict[str, Any]:
        """The figures kept per run for `mlops monitor history` (also the artifact metadata)."""
        counts = {s: 0 for s in ("info", "warning", "critical")}
        for a in self.alerts:
            counts[a.severity] += 1
        return {
            "model": self.model["label"],
            "model_id": self.model["id"],
            "rows": self.data["rows"],
            "source": self.data["sources"],
            "windows": len(self.windows),
            # the first and last window's label: the time the batch covers, for history plots
            "period": [self.windows[0].label, self.windows[-1].label] if self.windows else None,
            "dataset_drift": self.drift.dataset_drift,
            "share_drifted": self.drift.share_drifted,
            "drift_share": self.drift.drift_share,
            "n_drifted": self.drift.n_drifted,
            "n_features": self.drift.n_tested,
            "drifted": list(self.drift.drifted_columns),
            "scores": {
                c.column: {"method": c.method, "score": c.score, "threshold": c.threshold}
                for c in self.drift.columns
            },
            "quality_issues": len(self.quality.issues),
            "prediction_drift": bool(
                self.prediction_drift and self.prediction_drift.drifted_columns
            ),
            "performance": self.performance.get("realised") or {},
            "estimated": self.performance.get("estimated") or {},
            "reference_metrics": self.performance.get("reference") or {},
            "max_drop": self.performance.get("max_drop"),
            "alerts": counts,
            "highest": self.highest_severity,
            "failed": self.failed,
            "status": self.status,
        }

    def to_dict(self) -> dict[str, Any]:
        # kept: a computed `status` and keys in their published order
        return {
            "model": self.model,
            "data": self.data,
            "window": self.window,
            "reference": self.reference,
            "status": self.status,
            "fail_on": self.fail_on,
            "highest_severity": self.highest_severity,
            "alerts": [a.to_dict() for a in self.alerts],
            "drift": self.drift.to_dict(),
            "quality": self.quality.to_dict(),
            "prediction_drift": _block(self.prediction_drift),
            "target_drift": _block(self.target_drift),
            "performance": self.performance,
            "windows": [w.to_dict() for w in self.windows],
            "histograms": self.histograms,
            "notes": self.notes,
            "notify": self.notify,
            "report_id": self.report_id,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "duration_s": self.duration_s,
        }


def _block(drift: DriftResult | None) -> dict[str, Any] | None:
    return drift.to_dict() if drift is not None else None
