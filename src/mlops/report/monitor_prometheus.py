"""A monitor report in the Prometheus text exposition format (version 0.0.4), for
node_exporter's textfile collector: gauge families built in a prometheus_client
`CollectorRegistry` and rendered by its `generate_latest`. The file is written atomically
(temp file in the same directory, fsync, rename), as the collector requires."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from prometheus_client.core import GaugeMetricFamily

    from mlops.lifecycle.monitor import MonitorResult
    from mlops.stats.drift import DriftResult
    from mlops.stats.quality import QualityResult

MODE = 0o644  # a report file others (node_exporter) read


class _Families:
    """Gauge families in the order they are first added; a None value is left out, and a family
    without samples is not exposed at all."""

    def __init__(self) -> None:
        self.families: dict[str, GaugeMetricFamily] = {}

    def add(self, name: str, help_: str, value: float | None, labels: dict[str, Any]) -> None:
        from prometheus_client.core import GaugeMetricFamily

        if value is None:
            return
        fam = self.families.get(name)
        if fam is None:
            fam = self.families[name] = GaugeMetricFamily(name, help_, labels=list(labels))
        fam.add_metric([str(v) for v in labels.values()], float(value))


class _Collector:
    """A one-shot collector for a CollectorRegistry: the families of one report."""

    def __init__(self, families: _Families) -> None:
        self._families = families

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families.families.values()


def _families(result: MonitorResult) -> _Families:
    """The gauge families of one report, in the order they are exposed."""
    m = _Families()
    base = {"model": result.model["name"], "version": result.model["version"]}
    m.add("mlops_monitor_rows", "Rows in the monitored batch.", result.data["rows"], base)
    _drift(m, result.drift, base)
    _quality(m, result.quality, base)
    _performance(m, result.performance, base)
    counts = {"info": 0, "warning": 0, "critical": 0}
    for a in result.alerts:
        counts[a.severity] += 1
    for sev, n in counts.items():
        m.add("mlops_monitor_alerts", "Alerts by severity.", n, {**base, "severity": sev})
    m.add(
        "mlops_monitor_failed",
        "1 if an alert at or above --fail-on fired.",
        int(result.failed),
        base,
    )
    if result.created_at:
        ts = datetime.fromisoformat(result.created_at.replace("Z", "+00:00")).timestamp()
        m.add("mlops_monitor_last_run_timestamp_seconds", "When the report was made.", ts, base)
    return m


def _drift(m: _Families, d: DriftResult, base: dict[str, Any]) -> None:
    m.add("mlops_monitor_dataset_drift", "1 if the dataset drifted.", int(d.dataset_drift), base)
    m.add("mlops_monitor_drift_share", "Share of features that drifted.", d.share_drifted, base)
    m.add("mlops_monitor_drifted_features", "Features that drifted.", d.n_drifted, base)
    for c in d.columns:
        lab = {**base, "feature": c.column, "method": c.method}
        m.add(
            "mlops_monitor_feature_drift_score",
            "Drift score (distance or test statistic).",
            c.score,
            lab,
        )
        m.add("mlops_monitor_feature_drift_threshold", "Drift threshold.", c.threshold, lab)
        m.add(
            "mlops_monitor_feature_drift_p_value",
            "Adjusted p-value (tests only).",
            c.p_adjusted,
            lab,
        )
        m.add("mlops_monitor_feature_drifted", "1 if the feature drifted.", int(c.drifted), lab)


def _quality(m: _Families, quality: QualityResult, base: dict[str, Any]) -> None:
    for q in quality.columns:
        lab = {**base, "feature": q.column}
        m.add("mlops_monitor_missing_rate", "Share of missing values.", q.cur_missing_rate, lab)
        m.add(
            "mlops_monitor_out_of_range_share",
            "Share of values outside the training range.",
            q.out_of_range_share,
            lab,
        )
        m.add(
            "mlops_monitor_unseen_share",
            "Share of values in unseen categories.",
            q.unseen_share,
            lab,
        )


def _performance(m: _Families, perf: dict[str, Any], base: dict[str, Any]) -> None:
    for kind, block in (("realised", perf.get("realised")), ("estimated", perf.get("estimated"))):
        for metric, v in (block or {}).items():
            m.add(
                "mlops_monitor_performance",
                "Model metric on the batch.",
                v,
                {**base, "metric": metric, "kind": kind},
            )
    for metric, v in (perf.get("reference") or {}).items():
        m.add(
            "mlops_monitor_performance_reference",
            "Model metric on the holdout.",
            v,
            {**base, "metric": metric},
        )


def prometheus_bytes(result: MonitorResult) -> bytes:
    """The text exposition of a monitor result."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(_families(result)))
    return generate_latest(registry)


def prometheus_text(result: MonitorResult) -> str:
    return prometheus_bytes(result).decode("utf-8")


def write_prometheus(path: Path, result: MonitorResult) -> Path:
    """Write the report's metrics to path whole or not at all (mode 0644)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, prometheus_bytes(result), mode=MODE)
