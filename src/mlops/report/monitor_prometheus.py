"""A monitor report in the Prometheus text exposition format (version 0.0.4), for
node_exporter's textfile collector. The file is written atomically (temp file + rename in the
same directory), as the collector requires."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from mlops.report.junit import write_atomic


def _esc(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, Any]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_esc(v)}"' for k, v in labels.items()) + "}"


def _num(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


class _Metrics:
    def __init__(self) -> None:
        self.families: dict[str, tuple[str, str, list[str]]] = {}

    def add(
        self,
        name: str,
        help_: str,
        value: float | None,
        labels: dict[str, Any],
        kind: str = "gauge",
    ) -> None:
        if value is None:
            return
        fam = self.families.setdefault(name, (help_, kind, []))
        fam[2].append(f"{name}{_labels(labels)} {_num(float(value))}")

    def text(self) -> str:
        out = []
        for name, (help_, kind, samples) in self.families.items():
            out.append(f"# HELP {name} {help_}")
            out.append(f"# TYPE {name} {kind}")
            out.extend(samples)
        return "\n".join(out) + "\n"


def prometheus_text(data: dict[str, Any]) -> str:
    # long: one block per exported metric family, in the order they are exposed
    m = _Metrics()
    base = {"model": data["model"]["name"], "version": data["model"]["version"]}
    d = data["drift"]
    m.add("mlops_monitor_rows", "Rows in the monitored batch.", data["data"]["rows"], base)
    m.add("mlops_monitor_dataset_drift", "1 if the dataset drifted.", int(d["dataset_drift"]), base)
    m.add("mlops_monitor_drift_share", "Share of features that drifted.", d["share_drifted"], base)
    m.add("mlops_monitor_drifted_features", "Features that drifted.", d["n_drifted"], base)
    for c in d["columns"]:
        lab = {**base, "feature": c["column"], "method": c["method"]}
        m.add(
            "mlops_monitor_feature_drift_score",
            "Drift score (distance or test statistic).",
            c["score"],
            lab,
        )
        m.add("mlops_monitor_feature_drift_threshold", "Drift threshold.", c["threshold"], lab)
        m.add(
            "mlops_monitor_feature_drift_p_value",
            "Adjusted p-value (tests only).",
            c["p_adjusted"],
            lab,
        )
        m.add("mlops_monitor_feature_drifted", "1 if the feature drifted.", int(c["drifted"]), lab)
    for q in data["quality"]["columns"]:
        lab = {**base, "feature": q["column"]}
        m.add("mlops_monitor_missing_rate", "Share of missing values.", q["cur_missing_rate"], lab)
        m.add(
            "mlops_monitor_out_of_range_share",
            "Share of values outside the training range.",
            q.get("out_of_range_share"),
            lab,
        )
        m.add(
            "mlops_monitor_unseen_share",
            "Share of values in unseen categories.",
            q.get("unseen_share"),
            lab,
        )
    perf = data["performance"]
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
    counts = {"info": 0, "warning": 0, "critical": 0}
    for a in data["alerts"]:
        counts[a["severity"]] += 1
    for sev, n in counts.items():
        m.add("mlops_monitor_alerts", "Alerts by severity.", n, {**base, "severity": sev})
    m.add(
        "mlops_monitor_failed",
        "1 if an alert at or above --fail-on fired.",
        int(data["status"] == "fail"),
        base,
    )
    if data.get("created_at"):
        from datetime import datetime

        ts = datetime.fromisoformat(str(data["created_at"]).replace("Z", "+00:00")).timestamp()
        m.add("mlops_monitor_last_run_timestamp_seconds", "When the report was made.", ts, base)
    return m.text()


def write_prometheus(path: Path, data: dict[str, Any]) -> Path:
    return write_atomic(Path(path), prometheus_text(data).encode())
