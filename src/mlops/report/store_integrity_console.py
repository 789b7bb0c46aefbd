"""Rich renderings of the store's integrity results: catalog rebuilds, and the notes gc and fsck
add about manifests the catalog does not list."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape


def rebuild_result(console: Console, result: Any) -> None:
    console.print(
        f"rebuilt the catalog: {result.artifacts} artifact(s), {result.lineage_edges} lineage "
        f"edge(s) from the manifests among {result.blobs_read} blob(s)",
        soft_wrap=True,
    )
    if result.old_catalog:
        state = "damaged" if result.old_catalog_damaged else "previous"
        console.print(
            f"the {state} catalog is kept as {escape(result.old_catalog)}", soft_wrap=True
        )
    for clash in result.clashes:
        moved = ", ".join(f"{aid[:12]} -> {v}" for aid, v in clash.renumbered.items())
        console.print(
            f"[yellow]version clash[/yellow] {escape(clash.kind)}/{escape(clash.name)}:"
            f"{clash.version} kept by {clash.kept[:12]} (earliest created); renumbered {moved}",
            soft_wrap=True,
        )
    if result.damaged_blobs:
        console.print(f"[red]{len(result.damaged_blobs)} damaged blob(s) skipped[/red]")
    if result.missing_parents:
        console.print(
            f"[yellow]{len(result.missing_parents)} parent(s) named by manifests are not in "
            "the store[/yellow]"
        )
    if result.salvaged:
        parts = ", ".join(f"{t} {n}" for t, n in result.salvaged.items())
        console.print(f"copied from the old catalog: {parts}", soft_wrap=True)
    if result.not_salvaged:
        console.print(
            "[yellow]not recoverable[/yellow] (not in the manifests, and the old catalog could "
            "not be read for them): " + ", ".join(sorted(result.not_salvaged)),
            soft_wrap=True,
        )


def gc_notes(console: Console, result: Any) -> None:
    if result.unindexed_manifests and not result.include_manifests:
        console.print(
            f"kept {result.unindexed_manifests} manifest(s) the catalog does not list, with "
            "their files (`mlops fsck --rebuild` indexes them again)",
            soft_wrap=True,
        )


def fsck_notes(console: Console, result: Any) -> None:
    if result.unindexed_manifests:
        console.print(
            f"{result.unindexed_manifests} manifest(s) in objects/ are not in the catalog "
            "(a write killed before its commit, or a forgotten artifact); "
            "`mlops fsck --rebuild` would index them",
            soft_wrap=True,
        )
