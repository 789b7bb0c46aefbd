"""Rich renderings of training results and tracked runs."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlops.report.tabular import Column, full, print_rows, short_id, short_number


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def train_result(console: Console, r: dict[str, Any]) -> None:
    m = r["model"]
    console.print(
        f"trained [bold]{escape(m['label'])}[/bold] {m['id'][:12]}  "
        f"({r['task']}, {escape(r['estimator'].rsplit('.', 1)[-1])}, "
        f"{r['rows']['train']} rows fit, {r['rows']['holdout']} held out, {r['split']['method']} split)"
    )
    table = Table(box=None, header_style="bold", title="holdout metrics", title_justify="left")
    table.add_column("metric")
    table.add_column("holdout", justify="right")
    if r.get("cv"):
        table.add_column("cv mean", justify="right")
        table.add_column("cv std", justify="right")
    for k, v in r["metrics"].items():
        row = [k, fmt(v)]
        if r.get("cv"):
            s = r["cv"].get(k) or {}
            row += [fmt(s.get("mean")), fmt(s.get("std"))]
        table.add_row(*row)
    console.print(table)
    if r.get("importance"):
        top = ", ".join(
            f"{escape(d['feature'])} {fmt(d['importance'])}" for d in r["importance"][:5]
        )
        console.print(f"top features (permutation importance): {top}")
    console.print(
        f"run {r['run_id'][:12]}  data "
        + ", ".join(f"{escape(d['name'])}:{d['version']}" for d in r["datasets"])
        + f"  in {r['duration_s']:.1f}s"
    )
    for w in r.get("warnings") or []:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}")


def runs_table(console: Console, runs: list[dict[str, Any]], fmt: str = "table") -> None:
    keys: list[str] = []
    for r in runs:
        for k in r.get("metrics", {}):
            if not k.startswith("cv_") and k not in keys:
                keys.append(k)
    if fmt == "table":
        keys = keys[:3]  # a terminal has room for three; a pipe gets them all
    columns = [
        Column("run", short_id, no_wrap=True),
        Column("step", no_wrap=True),
        Column("name", no_wrap=True),
        Column("status", styles={"succeeded": "green", "failed": "red"}, no_wrap=True),
        Column("started", lambda t: t[5:16].replace("T", " "), no_wrap=True),
        Column("time", lambda s: f"{float(s):.1f}s", no_wrap=True),
        *[Column(k, short_number, justify="right") for k in keys],
    ]
    rows = [
        [
            r["id"],
            r["step"],
            r.get("name") or "",
            r["status"],
            r.get("started_at") or "",
            full(r.get("duration_s")),
            *[full(r.get("metrics", {}).get(k)) for k in keys],
        ]
        for r in runs
    ]
    print_rows(console, columns, rows, fmt, empty="no runs")


def run_detail(console: Console, r: dict[str, Any]) -> None:
    console.print(f"[bold]run {r['id']}[/bold]  {r['step']} {escape(r.get('name') or '')}")
    for key in (
        "status",
        "started_at",
        "finished_at",
        "duration_s",
        "user",
        "host",
        "git_commit",
        "config_hash",
        "command",
    ):
        if r.get(key) is not None:
            console.print(f"{key}: {escape(fmt(r[key]))}")
    if r.get("info", {}).get("error"):
        console.print(f"[red]error:[/red] {escape(str(r['info']['error']))}")
    for section in ("params", "metrics"):
        if r.get(section):
            t = Table(box=None, header_style="bold", title=section, title_justify="left")
            t.add_column("key")
            t.add_column("value")
            for k, v in r[section].items():
                t.add_row(escape(k), escape(fmt(v)))
            console.print(t)
    if r.get("artifacts"):
        console.print(
            "artifacts: " + ", ".join(f"{a['role']} {a['id'][:12]}" for a in r["artifacts"])
        )
    pkgs = r.get("info", {}).get("packages")
    if pkgs:
        console.print("packages: " + ", ".join(f"{k} {v}" for k, v in sorted(pkgs.items())))


def runs_compare(console: Console, c: dict[str, Any]) -> None:
    table = Table(box=None, header_style="bold")
    table.add_column("")
    for r in c["runs"]:
        table.add_column(f"{r['id'][:12]}\n{escape(r.get('name') or '')} {r['step']}")
    for section in ("params", "metrics"):
        table.add_row(f"[bold]{section}[/bold]", *[""] * len(c["runs"]))
        for row in c[section]:
            cells = [escape(fmt(v)) for v in row["values"]]
            if row["differs"]:
                cells = [f"[yellow]{x}[/yellow]" for x in cells]
                key = f"[yellow]* {escape(row['key'])}[/yellow]"
            else:
                key = f"  {escape(row['key'])}"
            table.add_row(key, *cells)
    console.print(table)
    n = sum(row["differs"] for s in ("params", "metrics") for row in c[s])
    console.print(f"{n} difference(s) marked with *")
