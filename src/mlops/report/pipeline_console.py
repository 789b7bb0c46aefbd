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


_DECISION = {
    "promoted": "[green]promoted[/green]",
    "kept": "[bold red]kept the champion[/bold red]",
    "no-retrain": "[cyan]no retrain needed[/cyan]",
    "dry-run": "[yellow]dry run[/yellow]",
}


def retrain_result(console: Console, r: dict[str, Any]) -> None:
    m = r["monitor"]
    share = m.get("share_drifted")
    drift = "dataset drift" if m.get("dataset_drift") else "no dataset drift"
    if share is not None:
        drift += f" ({m.get('n_drifted')} of {m.get('n_features')} features drifted)"
    drifted = m.get("drifted") or []
    console.print(
        f"monitor ({m.get('via')}): {drift}"
        + (f": {escape(', '.join(drifted[:6]))}" if drifted else "")
        + (f"  report {m['report_id'][:12]}" if m.get("report_id") else "")
    )
    if r["reasons"]:
        console.print("triggers: " + escape("; ".join(r["reasons"])))
    ts = r.get("training_set")
    if ts:
        rows = f", {ts['rows']} rows + {ts['holdout_rows']} held out" if "rows" in ts else ""
        console.print(
            f"training set ({escape(ts['policy'])}): {escape(', '.join(ts['files']))}{rows}"
        )
    c = r.get("comparison")
    if c:
        console.print(
            f"{escape(c['metric'])} on recent held-out rows: candidate "
            f"{_f(c['candidate'])} vs champion {_f(c['champion'])}"
        )
    console.print(f"{_DECISION.get(r['decision'], r['decision'])}: {escape(r['why'])}")
    if r.get("record_id"):
        console.print(
            f"[dim]retrain record {r['record_id'][:12]}; `mlops lineage {r['record_id'][:12]}` "
            f"shows the chain[/dim]"
        )


def _f(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}"


def demo_story(console: Console, d: dict[str, Any]) -> None:
    run = d["run"]
    console.print(f"[bold]mlops demo[/bold]: the churn example in {escape(d['directory'])}")
    console.print("1. [bold]mlops run[/bold] (train on January, gate, promote, package)")
    pipeline_result(console, run)
    if not run["passed"]:
        return
    console.print(
        "2. each later month: [bold]mlops monitor[/bold], then [bold]mlops retrain[/bold]"
    )
    table = Table(box=None, header_style="bold")
    for col in ("month", "drift", "decision", "why"):
        table.add_column(col)
    for m in d["months"]:
        mon = m["monitor"]
        drift = f"{mon.get('n_drifted')}/{mon.get('n_features')} features"
        if mon.get("drifted"):
            drift += (
                " ("
                + ", ".join(mon["drifted"][:3])
                + ("..." if len(mon["drifted"]) > 3 else "")
                + ")"
            )
        decision = _DECISION.get(m["decision"], m["decision"])
        c = m.get("comparison")
        why = m["why"]
        if c and m["decision"] == "promoted":
            why = (
                f"{(m.get('candidate') or {}).get('label')} {c['metric']} {_f(c['candidate'])} "
                f"vs champion {_f(c['champion'])} on recent rows"
            )
        table.add_row(m["month"], escape(drift), decision, escape(why))
    console.print(table)
    champ = d.get("champion")
    if champ:
        console.print(f"3. @{champ['alias']} is now [bold]{escape(champ['label'])}[/bold]")
    console.print(f"HTML monitoring reports: {escape(d['reports_dir'])}/monitor-<month>.html")
    console.print(
        f"next: cd {escape(d['directory'])} && mlops models history {escape((champ or {}).get('label', 'model').split(':')[0])}"
        " ; mlops lineage retrain/" + escape((champ or {}).get("label", "model").split(":")[0])
    )
    console.print(f"done in {d['duration_s']:.0f}s")
