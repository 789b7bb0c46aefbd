"""Rich rendering of a validation result: one row per check, failures first."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def _value(v: Any) -> str:
    s = repr(v) if isinstance(v, str) else str(v)
    return s if len(s) <= 24 else s[:21] + "..."


def render(console: Console, result: Any, show_passing: bool = False) -> None:
    report = result.report
    failures = [c for c in report.checks if not c.passed]
    shown = report.checks if show_passing else failures
    if shown:
        table = Table(box=None, header_style="bold")
        for col in ("", "check", "column", "failing rows", "samples (row: value)"):
            table.add_column(col)
        for c in sorted(shown, key=lambda c: c.passed):
            samples = ", ".join(f"{s.row}: {_value(s.value)}" for s in c.samples[:3])
            if len(c.samples) > 3:
                samples += f", ... ({len(c.samples)} shown in --json)"
            table.add_row(
                "[green]✓[/green]" if c.passed else "[red]✗[/red]",
                escape(c.check),
                escape(c.column or "(dataset)"),
                f"{c.failing_rows:,}" if not c.passed else "0",
                escape(samples),
            )
        console.print(table)
        for c in failures:
            console.print(f"  [red]•[/red] {escape(c.message)}", soft_wrap=True)
    for note in result.notes:
        console.print(f"[dim]{escape(note)}[/dim]")
    where = ", ".join(result.paths[:3]) + (
        f" (+{len(result.paths) - 3} more)" if len(result.paths) > 3 else ""
    )
    summary = (
        f"{report.n_rows:,} rows, {len(report.columns)} columns, {len(report.checks)} checks against "
        f"{escape(result.schema_source)}: "
    )
    if report.passed:
        console.print(f"[bold green]PASSED[/bold green] {escape(where)}: {summary}all passed")
    else:
        console.print(
            f"[bold red]FAILED[/bold red] {escape(where)}: {summary}{len(failures)} failed"
        )
    if result.dataset is not None:
        console.print(
            f"[dim]recorded dataset {result.dataset.name}:{result.dataset.version} ({result.dataset.short_id}) "
            f"and report {result.report_artifact.short_id}[/dim]"
        )
