"""From monitoring results to alerts. Severities come from `monitor.severity` (defaults in
config/monitor.py); each alert names the feature, the figure, its threshold and an action."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlops.lifecycle.monitor.alerts import Alert, column_drift_figure, fmt

if TYPE_CHECKING:
    from mlops.config import Config
    from mlops.lifecycle.monitor.data import Reference
    from mlops.lifecycle.monitor.result import WindowResult
    from mlops.stats.drift import DriftResult
    from mlops.stats.profile import ColumnProfile
    from mlops.stats.quality import QualityIssue

RETRAIN = "consider `mlops retrain`"
Severity = Callable[[str], str]  # alert kind -> its configured severity


def _first_window(windows: list[WindowResult], section: str, column: str) -> str | None:
    for w in windows:
        if section == "drift" and column in w.drift.drifted_columns:
            return w.label
        if section == "quality" and any(i.column == column for i in w.quality.issues):
            return w.label
    return None


def build_alerts(
    config: Config,
    ref: Reference,
    overall: WindowResult,
    windows: list[WindowResult],
    performance: dict[str, Any],
    extra_columns: list[str],
    ref_columns: dict[str, ColumnProfile],
) -> list[Alert]:
    sev = config.model.monitor.severity_of
    return [
        *_drift_alerts(sev, overall.drift, windows),
        *_quality_alerts(sev, overall.quality.issues, windows, ref_columns),
        *_schema_alerts(sev, extra_columns),
        *_output_drift_alerts(sev, overall, ref),
        *_performance_alerts(sev, performance),
    ]


def _drift_alerts(sev: Severity, drift: DriftResult, windows: list[WindowResult]) -> list[Alert]:
    alerts: list[Alert] = []
    tally = f"{drift.n_drifted} of {drift.n_tested} features drifted"
    if drift.dataset_drift:
        alerts.append(
            Alert(
                sev("dataset_drift"),
                "dataset_drift",
                f"dataset drift: {tally} (share {fmt(drift.share_drifted)} >= "
                f"{fmt(drift.drift_share)})",
                RETRAIN + " on recent data",
                metric="share_drifted",
                value=drift.share_drifted,
                threshold=drift.drift_share,
            )
        )
    for c in drift.columns:
        if not c.drifted:
            continue
        first = _first_window(windows, "drift", c.column)
        since = f" (since window {first})" if first and len(windows) > 1 else ""
        p_test = c.method in ("ks", "chisquare")
        alerts.append(
            Alert(
                sev("feature_drift"),
                "feature_drift",
                f"data drift in {c.column}: {column_drift_figure(c)}; {tally}{since}",
                f"check the source of {c.column}; {RETRAIN} if the shift is real",
                feature=c.column,
                metric=c.method,
                value=c.p_adjusted if p_test else c.score,
                threshold=c.threshold,
                window=first,
            )
        )
    return alerts


_QUALITY_ACTIONS = {
    "missing_rate": "check the pipeline that fills {col}; the model imputes missing values",
    "infinite_values": "fix the division or overflow upstream that produces inf in {col}",
    "invalid_values": "{col} holds text where numbers are expected; fix its source",
    "out_of_range": "the model extrapolates outside its training range of {col}; " + RETRAIN,
    "unseen_categories": "the model has never seen these {col} values (they get its "
    "unknown-category encoding); " + RETRAIN + " to learn them",
    "no_values": "{col} arrived empty; fix its source before trusting these predictions",
}


def _quality_alerts(
    sev: Severity,
    issues: list[QualityIssue],
    windows: list[WindowResult],
    ref_columns: dict[str, ColumnProfile],
) -> list[Alert]:
    alerts: list[Alert] = []
    for issue in issues:
        col, check = issue.column, issue.check
        threshold = issue.threshold
        value: float | None = issue.current
        first = _first_window(windows, "quality", col)
        since = f" (since window {first})" if first and len(windows) > 1 else ""
        limit = f" > {fmt(threshold)}" if threshold is not None else ""
        alerts.append(
            Alert(
                sev("data_quality"),
                "data_quality",
                f"data quality in {col}: {check.replace('_', ' ')} {fmt(value)}{limit}; "
                f"{issue.message}{since}",
                _QUALITY_ACTIONS.get(check, "check the source of {col}").format(col=col),
                feature=col,
                metric=check,
                value=value,
                threshold=threshold,
                window=first,
            )
        )
    return alerts


def _schema_alerts(sev: Severity, extra_columns: list[str]) -> list[Alert]:
    if not extra_columns:
        return []
    return [
        Alert(
            sev("schema"),
            "schema",
            f"the batch has {len(extra_columns)} column(s) the model does not use: "
            f"{', '.join(extra_columns[:8])}",
            "nothing to do unless a feature was renamed",
            metric="extra_columns",
            value=float(len(extra_columns)),
        )
    ]


def _output_drift_alerts(sev: Severity, overall: WindowResult, ref: Reference) -> list[Alert]:
    alerts: list[Alert] = []
    for section, kind, what in (
        ("prediction_drift", "prediction_drift", "prediction drift"),
        ("target_drift", "target_drift", "target (label) drift"),
    ):
        block: DriftResult | None = getattr(overall, section)
        if block is None:
            continue
        drifted = [c for c in block.columns if c.drifted]
        if ref.task == "classification" and section == "prediction_drift" and len(ref.proba) == 2:
            # the two probabilities of a binary model move together: report the positive one
            neg = [v for k, v in ref.proba.items() if k != str(ref.positive)]
            drifted = [c for c in drifted if c.column not in neg]
        for c in drifted:
            p_test = c.method in ("ks", "chisquare")
            alerts.append(
                Alert(
                    sev(kind),
                    kind,
                    f"{what} in {c.column}: {column_drift_figure(c)}",
                    "compare recent predictions with outcomes; " + RETRAIN
                    if kind == "prediction_drift"
                    else "the outcome mix changed; re-check thresholds and " + RETRAIN,
                    feature=c.column,
                    metric=c.method,
                    value=c.p_adjusted if p_test else c.score,
                    threshold=c.threshold,
                )
            )
    return alerts


def _performance_alerts(sev: Severity, performance: dict[str, Any]) -> list[Alert]:
    """A metric alerts when it is worse than the holdout by more than max_drop / max_rise AND
    the drop is significant against the sampling noise of both (see `monitor.noise`); below
    `min_rows` rows there is no verdict, only an info alert saying so."""
    alerts: list[Alert] = []
    errors = performance.get("standard_errors") or {}
    min_rows = performance.get("min_rows", 0)
    for block, kind, label, rows in (
        (performance.get("realised"), "performance", "realised", performance["labelled_rows"]),
        (
            performance.get("estimated") if not performance.get("realised") else None,
            "estimated_performance",
            "estimated (no labels)",
            performance.get("rows", 0),
        ),
    ):
        if not block:
            continue
        if rows < min_rows:
            alerts.append(
                Alert(
                    "info",
                    kind,
                    f"{label} performance not judged: too few labelled rows ({rows} < "
                    f"min_rows {min_rows})"
                    if kind == "performance"
                    else f"{label} performance not judged: too few rows ({rows} < "
                    f"min_rows {min_rows})",
                    "collect more labelled rows, or lower monitor.performance.min_rows",
                    metric="rows",
                    value=float(rows),
                    threshold=float(min_rows),
                )
            )
            continue
        alerts += _metric_alerts(sev, performance, block, errors, kind, label)
    return alerts


def _metric_alerts(
    sev: Severity,
    performance: dict[str, Any],
    block: dict[str, Any],
    errors: dict[str, Any],
    kind: str,
    label: str,
) -> list[Alert]:
    from mlops.lifecycle import metrics as M
    from mlops.lifecycle.monitor import noise
    from mlops.lifecycle.monitor.performance import worse_by

    max_drop = performance["max_drop"]
    max_rise = performance.get("max_rise", max_drop)
    alpha = performance.get("alpha")
    reference = performance.get("reference") or {}
    ref_se = errors.get("reference") or {}
    cur_se = errors.get("realised" if kind == "performance" else "estimated") or {}
    # the holdout's noise enters an estimate twice: the reference figure and the calibration
    ref_weight = 1 if kind == "performance" else 2
    tested = [m for m, v in block.items() if v is not None and cur_se.get(m) is not None]
    alerts: list[Alert] = []
    for metric, value in block.items():
        base = reference.get(metric)
        if value is None or base is None:
            continue
        drop = worse_by(metric, base, value)
        higher_better = M.greater_is_better(metric)
        limit = max_drop if higher_better else max_rise
        if drop <= limit:
            continue
        p_value = None
        if alpha is not None and metric in tested:
            var = cur_se[metric] ** 2 + ref_weight * (ref_se.get(metric) or 0.0) ** 2
            se = noise.relative_se(metric, base, var**0.5)
            p_value = noise.drop_p_value(drop, se)
            if p_value is not None and p_value >= alpha / len(tested):
                continue
        how = "lower" if higher_better else "higher (relative)"
        significance = f", p {p_value:.2g}" if p_value is not None else ", no standard error"
        alerts.append(
            Alert(
                sev(kind),
                kind,
                f"{label} {metric} {fmt(value)} vs {fmt(base)} on the holdout: "
                f"{how} by {fmt(drop)} > {fmt(limit)}{significance}",
                RETRAIN
                + (
                    " with the new labels"
                    if kind == "performance"
                    else "; collect labels to confirm"
                ),
                metric=metric,
                value=value,
                threshold=base - max_drop if higher_better else base * (1 + max_rise),
            )
        )
    return alerts
