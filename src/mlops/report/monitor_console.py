"""Rich rendering of a monitor report (a MonitorResult.to_dict()) and of the history."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlops.lifecycle.monitor import fmt

_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def monitor_result(console: Console, data: dict[str, Any]) -> None:
    # long: one console section after another, in the order of the report
    d = data["drift"]
    status = {"fail": "[bold red]FAIL[/bold red]", "warnings": "[yellow]warnings[/yellow]"}.get(
        data["status"], "[green]ok[/green]"
    )
    console.print(
        f"monitor {escape(data['model']['label'])}  {status}  "
        f"{data['data']['rows']:,} rows ({data['data']['format']})  "
        f"{d['n_drifted']} of {d['n_tested']} features drifted  "
        f"fail on: {data['fail_on']}"
    )
    table = Table(title="data drift", title_justify="left", show_edge=False)
    for col in ("feature", "method", "score", "threshold", "p (adj.)", "drift"):
        table.add_column(col)
    for c in d["columns"]:
        table.add_row(
            escape(c["column"]),
            c["method"],
            fmt(c["score"]),
            fmt(c["threshold"]),
            fmt(c["p_adjusted"]) if c["p_adjusted"] is not None else "",
            "[red]drift[/red]" if c["drifted"] else "ok",
        )
    console.print(table)
    perf = data["performance"]
    if perf.get("realised") or perf.get("estimated"):
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
    if len(data["windows"]) > 1:
        wt = Table(title=f"windows ({data['window']})", title_justify="left", show_edge=False)
        for col in ("window", "rows", "drifted", "quality issues", "accuracy"):
            wt.add_column(col)
        for w in data["windows"]:
            acc = (w.get("performance") or w.get("estimated") or {}).get("accuracy")
            wt.add_row(
                escape(w["label"]),
                f"{w['rows']:,}",
                ", ".join(w["drift"]["drifted_columns"]) or "-",
                str(len(w["quality"]["issues"])),
                fmt(acc) if acc is not None else "",
            )
        console.print(wt)
    if data["alerts"]:
        console.print(f"[bold]alerts[/bold] ({len(data['alerts'])})")
        for a in data["alerts"]:
            style = _STYLE.get(a["severity"], "")
            console.print(
                f"  [{style}]{a['severity']:<8}[/{style}] {escape(a['message'])}\n"
                f"           [dim]{escape(a['action'])}[/dim]",
                soft_wrap=True,
            )
    else:
        console.print("[green]no alerts[/green]")
    for note in data.get("notes") or []:
        console.print(f"[dim]note: {escape(note)}[/dim]", soft_wrap=True)
    if data.get("report_id"):
        console.print(f"[dim]report {data['report_id'][:12]} stored[/dim]")


def history_table(console: Console, rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("no monitor reports yet; run `mlops monitor`")
        return
    metrics: list[str] = []
    for r in rows:
        for m in list(r.get("performance") or {}) + list(r.get("estimated") or {}):
            if m not in metrics and m in ("accuracy", "roc_auc", "rmse", "r2"):
                metrics.append(m)
    models = sorted({str(r.get("model", "")) for r in rows})
    # no rules between columns and short headers: a row fits 80 columns with two metrics
    table = Table(
        title=f"monitor history: {', '.join(models)}",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    for col in ("when (UTC)", "report", "rows", "drifted", *metrics, "c/w/i", "status"):
        table.add_column(col, no_wrap=True)
    for r in rows:
        a = r.get("alerts") or {}
        cells = []
        for m in metrics:
            v = (r.get("performance") or {}).get(m)
            est = v is None and (r.get("estimated") or {}).get(m) is not None
            v = v if v is not None else (r.get("estimated") or {}).get(m)
            cells.append(f"{fmt(v)}{'~' if est else ''}" if v is not None else "")
        table.add_row(
            str(r.get("created_at", ""))[5:16].replace("T", " "),
            r["report_id"][:8],
            f"{r.get('rows', 0):,}",
            f"{r.get('n_drifted', 0)}/{r.get('n_features', 0)}",
            *cells,
            f"{a.get('critical', 0)}/{a.get('warning', 0)}/{a.get('info', 0)}",
            _history_status(r),
        )
    console.print(table)
    note = "c/w/i: critical/warning/info alerts; when: month-day hour:minute"
    if metrics:
        note += "; ~ estimated from probabilities (no labels)"
    console.print(f"[dim]{note}[/dim]")


def _history_status(row: dict[str, Any]) -> str:
    status = row.get("status") or ("fail" if row.get("failed") else "ok")
    return {"fail": "[red]fail[/red]", "warnings": "[yellow]warnings[/yellow]"}.get(status, "ok")
