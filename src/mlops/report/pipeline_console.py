"""Rich renderings of `mlops run`, `mlops retrain` and `mlops demo` results."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

_STYLE = {"ran": "green", "skipped": "cyan", "failed": "bold red", "not run": "dim"}


def _outputs(stage: dict[str, Any]) -> str:
    o = stage.get("outputs") or {}
    bits = []
    if o.get("model_label"):
        bits.append(f"model {o['model_label']}")
    if "passed" in o and stage["name"] == "validate":
        bits.append("data valid" if o["passed"] else "data invalid")
    if stage["name"] == "evaluate" and o:
        bits.append("gate passed" if o.get("passed") else "gate failed")
        if o.get("promoted"):
            moved = stage["status"] == "ran"
            bits.append(f"{'promoted to' if moved else 'holds'} @{o.get('alias')}")
    if o.get("package_label"):
        bits.append(f"package {o['package_label']}")
    return ", ".join(bits)


def pipeline_result(console: Console, r: dict[str, Any]) -> None:
    table = Table(box=None, header_style="bold")
    for col in ("stage", "status", "time", "outputs", "why"):
        table.add_column(col, justify="right" if col == "time" else "left")
    for s in r["stages"]:
        style = _STYLE.get(s["status"], "")
        why = s["message"] if s["status"] == "failed" else s["reason"]
        table.add_row(
            s["name"],
            f"[{style}]{s['status']}[/{style}]",
            f"{s['duration_s']:.1f}s" if s["status"] != "not run" else "-",
            escape(_outputs(s)),
            escape(why or ""),
        )
    console.print(table)
    counts: dict[str, int] = {}
    for s in r["stages"]:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())
    verdict = "[green]ok[/green]" if r["passed"] else f"[bold red]exit {r['exit_code']}[/bold red]"
    console.print(f"{verdict}  {summary}  in {r['duration_s']:.1f}s  (run {r['run_id'][:12]})")
