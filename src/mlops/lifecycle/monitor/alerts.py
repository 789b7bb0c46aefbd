"""Alerts: one finding, its severity, the figure against its threshold and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops.jsonable import fields_dict

if TYPE_CHECKING:
    from mlops.stats.drift import ColumnDrift

SEVERITIES = ("info", "warning", "critical")
RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass
class Alert:
    severity: str  # info | warning | critical
    kind: str  # dataset_drift, feature_drift, data_quality, prediction_drift, target_drift, ...
    message: str  # one line, e.g. "data drift in x: PSI 0.31 > 0.25; 4 of 12 features drifted"
    action: str  # what to do next
    feature: str | None = None
    metric: str | None = None  # the figure's name (psi, wasserstein, missing_rate, accuracy...)
    value: float | None = None
    threshold: float | None = None
    window: str | None = None  # the first window where it showed, when results are windowed

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)

    @property
    def text(self) -> str:
        return f"[{self.severity}] {self.message}; {self.action}"


def at_least(alerts: list[Alert], severity: str) -> list[Alert]:
    """The alerts at or above severity ('none' matches nothing)."""
    if severity not in RANK:
        return []
    return [a for a in alerts if RANK[a.severity] >= RANK[severity]]


def highest(alerts: list[Alert]) -> str | None:
    return max((a.severity for a in alerts), key=RANK.__getitem__, default=None)


def fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.3g}"
    return f"{x:.4g}" if abs(x) >= 1 else f"{x:.3f}".rstrip("0").rstrip(".") or "0"


METHOD_LABEL = {
    "wasserstein": "Wasserstein (normed)",
    "jensenshannon": "Jensen-Shannon",
    "psi": "PSI",
    "kl": "KL",
    "ks": "KS p",
    "chisquare": "chi-square p",
    "ks_distance": "KS distance",
}


def drift_figure(
    method: str, score: float | None, p_adjusted: float | None, threshold: float
) -> str:
    """'PSI 0.31 > 0.25' for distances, 'KS p 1e-05 < 0.05' for tests."""
    label = METHOD_LABEL.get(method, method)
    if method in ("ks", "chisquare"):
        return f"{label} {fmt(p_adjusted)} < {fmt(threshold)} (adjusted)"
    return f"{label} {fmt(score)} >= {fmt(threshold)}"


def column_drift_figure(c: ColumnDrift) -> str:
    """The figure that made a column drift: its method's, or the second effect size (the share
    of values that moved, with its p-value) when that alone decided."""
    method, score, threshold = c.method, c.score, c.threshold
    shift, shift_p, shift_limit = c.shift, c.shift_p_value, c.shift_threshold
    distance_fired = method in ("ks", "chisquare") or (score is not None and score >= threshold)
    if method != "ks_distance" and (distance_fired or shift is None or shift_limit is None):
        figure = drift_figure(method, score, c.p_adjusted, threshold)
        if method == "jensenshannon" and shift_p is not None:  # a material and significant rule
            figure += f" (p {fmt(shift_p)})"
        return figure
    what = (
        "KS distance"
        if c.kind == "numeric" and method != "jensenshannon"
        else ("largest category share change")
    )
    return f"{what} {fmt(shift)} >= {fmt(shift_limit)} (p {fmt(shift_p)})"


def sort_alerts(alerts: list[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: (-RANK[a.severity], a.kind, a.feature or ""))
