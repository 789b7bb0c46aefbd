"""Rich renderings of the model registry."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from mlops.report.tabular import Column, full, print_rows, short_id, short_number, short_time


def models_table(console: Console, models: list[dict[str, Any]], fmt: str = "table") -> None:
    columns = [
        Column("name", no_wrap=True),
        Column("versions", no_wrap=True),
        Column("latest", no_wrap=True),
        Column("latest_id", short_id, no_wrap=True),
        Column("aliases"),
        Column("updated", short_time, no_wrap=True),
    ]
    rows = [
        [
            m["name"],
            str(m["versions"]),
            f"v{m['latest']['version']}",
            m["latest"]["id"],
            ", ".join(f"@{a}=v{x['version']}" for a, x in m["aliases"].items()),
            m["updated_at"],
        ]
        for m in models
    ]
    print_rows(console, columns, rows, fmt, empty="no models")


def versions_table(
    console: Console, name: str, versions: list[dict[str, Any]], fmt: str = "table"
) -> None:
    keys: list[str] = []
    for v in versions:
        for k in v["metrics"]:
            if k not in keys:
                keys.append(k)
    if fmt == "table":
        console.print(f"[bold]model {escape(name)}[/bold]")
        keys = keys[:3]  # a terminal has room for three; a pipe gets them all
    columns = [
        Column("version", no_wrap=True),
        Column("id", short_id, no_wrap=True),
        Column("aliases", no_wrap=True),
        Column("created", short_time, no_wrap=True),
        *[Column(k, short_number, justify="right") for k in keys],
    ]
    rows = [
        [
            str(v["version"]),
            v["id"],
            ", ".join("@" + a for a in v["aliases"]),
            v["created_at"],
            *[full(v["metrics"].get(k)) for k in keys],
        ]
        for v in versions
    ]
    print_rows(console, columns, rows, fmt)


def alias_move(console: Console, m: dict[str, Any]) -> None:
    if not m["moved"]:
        console.print(escape(m["why"]))
        return
    prev = f" (was {escape(m['previous']['label'])})" if m.get("previous") else ""
    console.print(
        f"@{escape(m['alias'])} -> [bold]{escape(m['to']['label'])}[/bold]{prev}: {escape(m['why'])}"
    )


def history_table(console: Console, events: list[dict[str, Any]], fmt: str = "table") -> None:
    columns = [
        Column("when", lambda t: t[:19].replace("T", " ")),
        Column("alias"),
        Column("from"),
        Column("to"),
        Column("who"),
        Column("why"),
    ]
    rows = [
        [
            e["at"],
            "@" + e["alias"],
            e["from"]["label"] if e["from"] else "-",
            e["to"]["label"] if e["to"] else "-",
            e["who"] or "",
            e["why"] or "",
        ]
        for e in events
    ]
    print_rows(console, columns, rows, fmt, empty="no alias moves")
