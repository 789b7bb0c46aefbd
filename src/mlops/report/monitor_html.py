"""A self-contained HTML monitor report: alerts, drift and quality tables, per-feature reference
vs current distributions, and each metric across the monitoring history with its threshold."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.atomic import write_report
from mlops.lifecycle.monitor import fmt
from mlops.report.html import Page

if TYPE_CHECKING:
    from mlops.lifecycle.monitor import Alert, MonitorResult, WindowResult
    from mlops.stats.drift import ColumnDrift, DriftResult
    from mlops.stats.quality import ColumnQuality


def monitor_html(result: MonitorResult, past: list[dict[str, Any]]) -> str:
    """The page of one monitor result; past: history() rows (oldest first, may include it)."""
    d = result.drift
    page = Page(
        f"Monitor report: {result.model['label']}",
        f"{result.data['rows']:,} rows from {', '.join(map(str, result.data['sources']))}"
        f" ({result.data['format']}); {result.created_at or ''}",
    )
    page.badge(
        *badge(
            result.highest_severity,
            len(result.alerts),
            d.n_drifted,
            d.n_tested,
            result.failed,
            result.fail_on,
        )
    )
    _alerts(page, result.alerts)
    page.heading("Data drift")
    page.paragraph(
        f"Correction {d.correction}; dataset drift when the share of drifted features "
        f">= {fmt(d.drift_share)} (now {fmt(d.share_drifted)})."
    )
    _drift_table(page, d.columns, first="feature", kind=True)
    _quality(page, result.quality.columns)
    _performance(page, result.performance)
    for block, title in (
        (result.prediction_drift, "Prediction drift"),
        (result.target_drift, "Target drift"),
    ):
        if block is not None:
            page.heading(title)
            _drift_table(page, block.columns, first="column", kind=False)
    _windows(page, result.windows, result.window, d.drift_share)
    _distributions(page, result.histograms, d.columns)
    if past:
        _history(page, past, d, result.performance)
    if result.notes:
        page.heading("Notes")
        for note in result.notes:
            page.paragraph(note)
    return page.render()


_BADGE_STYLE = {"critical": "fail", "warning": "warn", "info": "warn", None: "pass"}


def badge(
    worst: str | None, alerts: int, n_drifted: int, n_tested: int, failed: bool, fail_on: str
) -> tuple[str, str]:
    """The headline and its colour, from the worst alert (not from the exit status: with
    `fail_on: none` a critical alert still reads CRITICAL)."""
    verdict = "exit 1" if failed else "exit 0"
    text = (
        f"{(worst or 'ok').upper()}: {alerts} alert(s), {n_drifted} of "
        f"{n_tested} features drifted ({verdict}: fail on {fail_on})"
    )
    return text, _BADGE_STYLE.get(worst, "warn")


def run_labels(past: list[dict[str, Any]]) -> list[str]:
    """An x-axis label per past run: its batch (the monitored file's name, or the period its
    windows cover), numbered `#1`, `#2`, ... where several runs monitored the same batch."""
    names = [_batch_name(r) for r in past]
    seen: dict[str, int] = {}
    labels = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        labels.append(f"{n} #{seen[n]}" if names.count(n) > 1 else n)
    return labels


def _batch_name(r: dict[str, Any]) -> str:
    period = r.get("period")
    if period:
        return period[0] if period[0] == period[-1] else f"{period[0]}..{period[-1]}"
    sources = [str(s) for s in r.get("source") or []]
    if not sources:
        return str(r.get("created_at", ""))[5:16].replace("T", " ")
    stem = Path(sources[0]).name.split(".")[0]
    return stem + (f" +{len(sources) - 1}" if len(sources) > 1 else "")


def _alerts(page: Page, alerts: list[Alert]) -> None:
    page.heading("Alerts")
    if not alerts:
        page.paragraph("No alerts.", "pass")
        return
    page.table(
        ["severity", "alert", "value", "threshold", "action"],
        [[a.severity, a.message, fmt(a.value), fmt(a.threshold), a.action] for a in alerts],
        status_col=0,
    )


def _quality(page: Page, columns: list[ColumnQuality]) -> None:
    page.heading("Data quality")
    page.table(
        ["feature", "missing (ref)", "missing (now)", "out of range", "unseen", "inf", "invalid"],
        [
            [
                q.column,
                f"{q.ref_missing_rate:.2%}",
                f"{q.cur_missing_rate:.2%}",
                "" if q.out_of_range_share is None else f"{q.out_of_range_share:.2%}",
                "" if q.unseen_share is None else f"{q.unseen_share:.2%}",
                q.cur_pos_inf + q.cur_neg_inf,
                q.cur_invalid,
            ]
            for q in columns
        ],
    )


def _performance(page: Page, perf: dict[str, Any]) -> None:
    if not (perf.get("realised") or perf.get("estimated")):
        return
    page.heading("Performance")
    page.table(
        ["metric", "holdout", "realised", "estimated"],
        [
            [
                m,
                fmt((perf.get("reference") or {}).get(m)),
                fmt((perf.get("realised") or {}).get(m)) if perf.get("realised") else "",
                fmt((perf.get("estimated") or {}).get(m)) if perf.get("estimated") else "",
            ]
            for m in perf["metrics"]
        ],
    )
    if perf.get("calibration"):
        page.paragraph(f"Estimates: CBPE, calibrated by {perf['calibration']}.")


def _windows(
    page: Page, windows: list[WindowResult], window: str | None, drift_share: float
) -> None:
    from mlops.report import plots

    if len(windows) <= 1:
        return
    page.heading(f"Windows ({window})")
    page.table(
        ["window", "rows", "drifted features", "quality issues", "share drifted"],
        [
            [
                w.label,
                f"{w.rows:,}",
                ", ".join(w.drift.drifted_columns) or "-",
                len(w.quality.issues),
                fmt(w.drift.share_drifted),
            ]
            for w in windows
        ],
    )
    page.figures(
        [
            (
                "share of drifted features per window",
                plots.history(
                    "share of drifted features",
                    [w.label for w in windows],
                    [w.drift.share_drifted for w in windows],
                    drift_share,
                    "drift_share",
                ),
            )
        ]
    )


def _distributions(page: Page, histograms: dict[str, Any], columns: list[ColumnDrift]) -> None:
    from mlops.report import plots

    page.heading("Distributions: reference vs current")
    figs = []
    scores = {c.column: c for c in columns}
    for name, h in histograms.items():
        c = scores.get(name)
        cap = f"{name}: {c.method if c else ''} {fmt(c.score if c else None)}"
        if h["kind"] == "categorical":
            svg = plots.categorical_distribution(
                name, h["categories"], h["reference"], h["current"]
            )
        else:
            svg = plots.numeric_distribution(name, h["edges"], h["reference"], h["current"])
        figs.append((cap, svg))
    page.figures(figs)


def _history(page: Page, past: list[dict[str, Any]], d: DriftResult, perf: dict[str, Any]) -> None:
    """Each drift score and metric across the past runs, with its threshold."""
    from mlops.report import plots

    page.heading(f"History ({len(past)} runs)")
    labels = run_labels(past)
    hist_figs = [
        (
            "share of drifted features",
            plots.history(
                "share of drifted features",
                labels,
                [r.get("share_drifted") for r in past],
                d.drift_share,
                "drift_share",
            ),
        )
    ]
    for c in d.columns:
        name = c.column
        values = [((r.get("scores") or {}).get(name) or {}).get("score") for r in past]
        if any(v is not None for v in values) and c.method not in ("ks", "chisquare"):
            hist_figs.append(
                (
                    f"{name} drift ({c.method})",
                    plots.history(f"{name}: {c.method}", labels, values, c.threshold),
                )
            )
    hist_figs += _metric_history(past, labels, perf)
    page.figures(hist_figs)


def _metric_history(
    past: list[dict[str, Any]], labels: list[str], perf: dict[str, Any]
) -> list[tuple[str, str]]:
    """Per metric: its realised (else estimated) value per run against the alert limit."""
    from mlops.lifecycle import metrics as M
    from mlops.report import plots

    figs = []
    ref = perf.get("reference") or {}
    for m in perf["metrics"]:
        values = [
            (r.get("performance") or {}).get(m)
            if (r.get("performance") or {}).get(m) is not None
            else (r.get("estimated") or {}).get(m)
            for r in past
        ]
        if ref.get(m) is None or not any(v is not None for v in values):
            continue
        limit = (
            ref[m] - perf["max_drop"]
            if M.greater_is_better(m)
            else ref[m] * (1 + perf.get("max_rise", perf["max_drop"]))
        )
        figs.append(
            (f"{m} (realised or estimated)", plots.history(m, labels, values, limit, "alert"))
        )
    return figs


def _drift_table(page: Page, columns: list[ColumnDrift], *, first: str, kind: bool) -> None:
    """One row per tested column: its test, score, threshold and verdict."""
    headers = [first, *(["kind"] if kind else []), "method", "score", "threshold"]
    headers += ["p (adjusted)", "status"]
    page.table(
        headers,
        [
            [
                c.column,
                *([c.kind] if kind else []),
                c.method,
                fmt(c.score),
                fmt(c.threshold),
                fmt(c.p_adjusted) if c.p_adjusted is not None else "",
                "fail" if c.drifted else "ok",
            ]
            for c in columns
        ],
        status_col=len(headers) - 1,
    )


def write_monitor_html(path: Path, result: MonitorResult, past: list[dict[str, Any]]) -> Path:
    return write_report(Path(path), monitor_html(result, past).encode())
