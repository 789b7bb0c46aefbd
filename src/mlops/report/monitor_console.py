"""Rich rendering of a monitor result and of the history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlops.lifecycle.monitor import fmt
from mlops.report.tabular import Column, full, print_rows, short_id, short_number, short_time

if TYPE_CHECKING:
    from mlops.lifecycle.monitor import MonitorResult, WindowResult

_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def monitor_result(console: Console, result: MonitorResult) -> None:
    """The result's sections in the order of the report: verdict, drift, performance, windows,
    alerts, notes."""
    d = result.drift
    status = {"fail": "[bold red]FAIL[/bold red]", "warnings": "[yellow]warnings[/yellow]"}.get(
        result.status, "[green]ok[/green]"
    )
    console.print(
        f"monitor {escape(result.model['label'])}  {status}  "
        f"{result.data['rows']:,} rows ({result.data['format']})  "
        f"{d.n_drifted} of {d.n_tested} features drifted  "
        f"fail on: {result.fail_on}"
    )
    table = Table(title="data drift", title_justify="left", show_edge=False)
    for col in ("feature", "method", "score", "threshold", "p (adj.)", "drift"):
        table.add_column(col)
    for c in d.columns:
        table.add_row(
            escape(c.column),
            c.method,
            fmt(c.score),
            fmt(c.threshold),
            fmt(c.p_adjusted) if c.p_adjusted is not None else "",
            "[red]drift[/red]" if c.drifted else "ok",
        )
    console.print(table)
    _performance(console, result.performance)
    if len(result.windows) > 1:
        _windows(console, result.windows, result.window)
    _alerts_and_notes(console, result)


def _performance(console: Console, perf: dict[str, Any]) -> None:
    if not (perf.get("realised") or perf.get("estimated")):
        return
    pt = Table(title="performance", title_justify="left", show_edge=False)
    for col in ("metric", "holdout", "realised", "estimated"):
        pt.add_column(col)
    for m in perf["metrics"]:
        pt.add_row(
            m,
            fmt((perf.get("reference") or {}).get(m)),
            fmt((perf.get("realised") or {}).get(m)) if perf.get("realised") else "",
            fmt((perf.get("estimated") or {}).get(m)) if perf.get("estimated") else "",
        )
    console.print(pt)
    if perf.get("labelled_rows"):
        console.print(f"[dim]{perf['labelled_rows']:,} labelled rows[/dim]")


def _windows(console: Console, windows: list[WindowResult], window: str | None) -> None:
    wt = Table(title=f"windows ({window})", title_justify="left", show_edge=False)
    for col in ("window", "rows", "drifted", "quality issues", "accuracy"):
        wt.add_column(col)
    estimated = False
    for w in windows:
        acc = (w.performance or {}).get("accuracy")
        mark = ""
        if acc is None and (w.estimated or {}).get("accuracy") is not None:
            acc, mark, estimated = (w.estimated or {})["accuracy"], "~", True
        wt.add_row(
            escape(w.label),
            f"{w.rows:,}",
            ", ".join(w.drift.drifted_columns) or "-",
            str(len(w.quality.issues)),
            fmt(acc) + mark if acc is not None else "",
        )
    console.print(wt)
    if estimated:
        console.print("[dim]~ estimated from probabilities (no labels)[/dim]")


def _alerts_and_notes(console: Console, result: MonitorResult) -> None:
    if result.alerts:
        console.print(f"[bold]alerts[/bold] ({len(result.alerts)})")
        for a in result.alerts:
            style = _STYLE.get(a.severity, "")
            console.print(
                f"  [{style}]{a.severity:<8}[/{style}] {escape(a.message)}\n"
                f"           [dim]{escape(a.action)}[/dim]",
                soft_wrap=True,
            )
    else:
        console.print("[green]no alerts[/green]")
    for note in result.notes:
        console.print(f"[dim]note: {escape(note)}[/dim]", soft_wrap=True)
    if result.report_id:
        console.print(f"[dim]report {result.report_id[:12]} stored[/dim]")


def history_table(console: Console, rows: list[dict[str, Any]], fmt: str = "table") -> None:
    metrics: list[str] = []
    for r in rows:
        for m in list(r.get("performance") or {}) + list(r.get("estimated") or {}):
            if m not in metrics and m in ("accuracy", "roc_auc", "rmse", "r2"):
                metrics.append(m)
    models = sorted({str(r.get("model", "")) for r in rows})
    columns = [
        Column("when (UTC)", short_time, no_wrap=True),
        Column("report", short_id, no_wrap=True),
        Column("rows", lambda n: f"{int(n):,}", no_wrap=True),
        Column("drifted", no_wrap=True),
        *[Column(m, short_number, no_wrap=True) for m in metrics],
        Column("c/w/i", no_wrap=True),
        Column("status", styles={"fail": "red", "warnings": "yellow"}, no_wrap=True),
    ]
    table = [_history_row(r, metrics) for r in rows]
    empty = "no monitor reports yet; run `mlops monitor`"
    print_rows(console, columns, table, fmt, f"monitor history: {', '.join(models)}", empty)
    if rows and fmt == "table":
        note = "c/w/i: critical/warning/info alerts"
        if metrics:
            note += "; ~ estimated from probabilities (no labels)"
        console.print(f"[dim]{note}[/dim]")


def _history_row(r: dict[str, Any], metrics: list[str]) -> list[str]:
    a = r.get("alerts") or {}
    cells = []
    for m in metrics:
        v = (r.get("performance") or {}).get(m)
        est = v is None and (r.get("estimated") or {}).get(m) is not None
        v = v if v is not None else (r.get("estimated") or {}).get(m)
        cells.append(f"{full(v)}{'~' if est else ''}")
    return [
        str(r.get("created_at", "")),
        r["report_id"],
        str(r.get("rows", 0)),
        f"{r.get('n_drifted', 0)}/{r.get('n_features', 0)}",
        *cells,
        f"{a.get('critical', 0)}/{a.get('warning', 0)}/{a.get('info', 0)}",
        r.get("status") or ("fail" if r.get("failed") else "ok"),
    ]
