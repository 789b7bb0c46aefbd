"""Rich rendering of a gate evaluation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlops.report.train_console import fmt

if TYPE_CHECKING:
    from mlops.lifecycle.evaluate import EvaluationResult


def evaluation(console: Console, r: EvaluationResult) -> None:
    m = r.model
    d = r.data
    console.print(
        f"evaluated [bold]{escape(m['label'])}[/bold] {m['id'][:12]} on {d['source']} "
        f"({d['rows']} rows)"
    )
    if r.metrics:
        console.print("metrics: " + ", ".join(f"{k} {fmt(v)}" for k, v in r.metrics.items()))
    if r.rules:
        table = Table(box=None, header_style="bold")
        for col in ("rule", "value", "bound", "verdict", "detail"):
            table.add_column(col)
        for rule in r.rules:
            verdict = "[green]pass[/green]" if rule.passed else "[bold red]FAIL[/bold red]"
            table.add_row(
                escape(rule.name), fmt(rule.value), escape(rule.bound), verdict, escape(rule.detail)
            )
        console.print(table)
    failed = sum(not x.passed for x in r.rules)
    console.print(
        "[bold green]gate passed[/bold green]"
        if r.passed
        else f"[bold red]gate failed[/bold red] ({failed} of {len(r.rules)} rules)"
    )
    p = r.promotion
    if p:
        if p["moved"]:
            prev = f" (was {escape(p['previous']['label'])})" if p.get("previous") else ""
            console.print(f"promoted {escape(m['label'])} to @{escape(p['alias'])}{prev}")
        else:
            console.print(f"not promoted to @{escape(p['alias'])}: {escape(p['reason'])}")
