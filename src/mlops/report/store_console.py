"""Rich renderings of store objects: artifact tables, manifests, lineage trees, fsck and gc results."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from mlops.report.tabular import Column, print_rows, short_id, short_time
from mlops.store.artifact import Artifact


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def artifacts_table(console: Console, artifacts: list[Artifact], fmt: str = "table") -> None:
    columns = [
        Column("id", short_id, no_wrap=True),
        Column("kind", no_wrap=True),
        Column("name"),
        Column("version", no_wrap=True),
        Column("aliases"),
        Column("files", no_wrap=True),
        Column("size", human_bytes, no_wrap=True),
        Column("created", short_time, no_wrap=True),
    ]
    rows = [
        [
            a.id,
            a.kind,
            a.name,
            str(a.version),
            ", ".join("@" + x for x in a.aliases),
            str(len(a.files)),
            str(sum(e.size for e in a.files.values())),
            a.created_at,
        ]
        for a in artifacts
    ]
    print_rows(console, columns, rows, fmt, empty="no artifacts")


def human_bytes(n: str) -> str:
    """human_size of a byte count written as a string."""
    return human_size(int(n))


def artifact_detail(console: Console, a: Artifact) -> None:
    console.print(f"[bold]{escape(a.kind)} {escape(a.label)}[/bold]  {a.id}")
    if a.aliases:
        console.print("aliases: " + ", ".join("@" + x for x in a.aliases))
    console.print(f"created: {a.created_at}  by mlops {a.tool_version}")
    if a.command:
        console.print(f"command: {escape(a.command)}")
    if a.run_id:
        console.print(f"run:     {a.run_id[:12]}")
    if a.parents:
        console.print("parents: " + ", ".join(p[:12] for p in a.parents))
    table = Table(box=None, header_style="bold", title="files", title_justify="left")
    table.add_column("path")
    table.add_column("sha256")
    table.add_column("size", justify="right")
    for p, e in sorted(a.files.items()):
        table.add_row(escape(p), e.hash[:16], human_size(e.size))
    console.print(table)
    if a.metadata:
        console.print("metadata:")
        for k, v in a.metadata.items():
            console.print(f"  {escape(str(k))}: {escape(_short(v))}")


def _short(v: Any, limit: int = 120) -> str:
    s = str(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def lineage_tree(console: Console, node: dict[str, Any], down: bool) -> None:
    def label(n: dict[str, Any]) -> str:
        if n.get("missing"):
            return f"[red]{n['id'][:12]} (missing)[/red]"
        return (
            f"{n['id'][:12]}  [bold]{escape(n['kind'])}[/bold] {escape(n['name'])}:{n['version']}"
        )

    tree = Tree(label(node))

    def add(t: Tree, n: dict[str, Any]) -> None:
        for c in n["children"]:
            add(t.add(label(c)), c)

    add(tree, node)
    console.print(tree)


def fsck_result(console: Console, result: Any) -> None:
    if result.ok:
        console.print(
            f"[green]ok[/green]: {result.objects_checked} objects re-hashed, "
            f"{result.artifacts_checked} artifacts checked"
            + (
                f", {result.unreferenced} unreferenced (reclaim with `mlops gc`)"
                if result.unreferenced
                else ""
            )
        )
        return
    table = Table(
        box=None,
        header_style="bold",
        title=f"{len(result.problems)} problem(s)",
        title_justify="left",
    )
    table.add_column("object")
    table.add_column("artifact")
    table.add_column("problem")
    for p in result.problems:
        table.add_row(p.object[:16], escape(p.artifact or ""), escape(p.problem))
    console.print(table)


def gc_result(console: Console, result: Any) -> None:
    verb = "would remove" if result.dry_run else "removed"
    console.print(
        f"{verb} {result.removed} unreferenced object(s), {human_size(result.bytes)}; "
        f"kept {result.kept}; {verb} {result.tmp_removed} staging file(s)"
    )


def removal(console: Console, r: Any) -> None:
    a = r.artifact
    label = f"{a['kind']}/{a['name']}:{a['version']} ({a['id'][:12]})"
    if r.needed_by and not r.forced:
        console.print(f"[red]refused[/red]: {escape(label)} is still needed:", soft_wrap=True)
        for line in r.needed_by:
            console.print(f"  {escape(line)}", soft_wrap=True)
        console.print("rerun with --force to remove it anyway (those links are dropped)")
        return
    verb = "removed" if r.removed else "would remove"
    console.print(f"{verb} {escape(label)}", soft_wrap=True)
    for line in r.needed_by:
        console.print(f"  dropped: {escape(line)}", soft_wrap=True)
    console.print(f"run `mlops gc` to reclaim up to {human_size(r.bytes)} of files")
