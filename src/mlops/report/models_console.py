"""Rich renderings of the model registry."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlops.report.train_console import fmt


def models_table(console: Console, models: list[dict[str, Any]]) -> None:
    if not models:
        console.print("no models")
        return
    table = Table(box=None, header_style="bold")
    for col in ("name", "versions", "latest", "aliases", "updated"):
        table.add_column(col, no_wrap=col != "aliases")
    for m in models:
        aliases = ", ".join(f"@{a}=v{x['version']}" for a, x in m["aliases"].items())
        table.add_row(
            escape(m["name"]),
            str(m["versions"]),
            f"v{m['latest']['version']} {m['latest']['id'][:8]}",
            escape(aliases),
            m["updated_at"][:16].replace("T", " "),
        )
    console.print(table)


def versions_table(console: Console, name: str, versions: list[dict[str, Any]]) -> None:
    console.print(f"[bold]model {escape(name)}[/bold]")
    keys: list[str] = []
    for v in versions:
        for k in v["metrics"]:
            if k not in keys:
                keys.append(k)
    keys = keys[:3]
    table = Table(box=None, header_style="bold")
    for col in ("version", "id", "aliases", "created"):
        table.add_column(col, no_wrap=True)
    for k in keys:
        table.add_column(k, justify="right")
    for v in versions:
        table.add_row(
            str(v["version"]),
            v["id"][:8],
            ", ".join("@" + a for a in v["aliases"]),
            v["created_at"][5:16].replace("T", " "),
            *[fmt(v["metrics"].get(k)) for k in keys],
        )
    console.print(table)


def alias_move(console: Console, m: dict[str, Any]) -> None:
    if not m["moved"]:
        console.print(escape(m["why"]))
        return
    prev = f" (was {escape(m['previous']['label'])})" if m.get("previous") else ""
    console.print(
        f"@{escape(m['alias'])} -> [bold]{escape(m['to']['label'])}[/bold]{prev}: {escape(m['why'])}"
    )


def history_table(console: Console, events: list[dict[str, Any]]) -> None:
    if not events:
        console.print("no alias moves")
        return
    table = Table(box=None, header_style="bold")
    for col in ("when", "alias", "from", "to", "who", "why"):
        table.add_column(col)
    for e in events:
        table.add_row(
            e["at"][:19].replace("T", " "),
            "@" + escape(e["alias"]),
            escape(e["from"]["label"]) if e["from"] else "-",
            escape(e["to"]["label"]) if e["to"] else "-",
            escape(e["who"] or ""),
            escape(e["why"] or ""),
        )
    console.print(table)
