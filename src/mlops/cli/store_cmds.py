"""Store commands: add, ls, show, cat, export, lineage, gc, fsck."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mlops.cli.output import emit, info, out, progress
from mlops.cli.state import State, state_of


def register(app: typer.Typer) -> None:
    app.command("add")(add)
    app.command("ls")(ls)
    app.command("show")(show)
    app.command("cat")(cat)
    app.command("export")(export)
    app.command("lineage")(lineage)
    app.command("rm")(rm)
    app.command("gc")(gc)
    app.command("fsck")(fsck)


def add(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="File or directory to version."),
    name: str | None = typer.Option(
        None, "--name", "-n", help="Artifact name (default: the file or directory name)."
    ),
    kind: str = typer.Option("dataset", "--kind", help="Artifact kind."),
) -> None:
    """Version a file or directory in the store (as `dvc add` does)."""
    from mlops.errors import InputError
    from mlops.store.names import check_kind, check_name

    state = state_of(ctx)
    if name is not None:
        check_name(name)
    check_kind(kind)
    if not path.exists() and not path.is_symlink():
        raise InputError(f"{path} does not exist")
    store = state.store()
    with progress(state) as say:
        say(f"adding {path.name}")
        art, stats = store.add_path(path, name=name, kind=kind, command=state.command_line)
    repaired = store.repaired_blobs()
    data: dict[str, object] = {"artifact": art.to_dict(), "stats": stats}
    if repaired:  # damaged blobs replaced by the bytes just added (verify before reuse)
        data["repaired"] = repaired

    def human() -> None:
        from mlops.report.store_console import human_size

        cached = f", {stats['cached']} unchanged (not re-hashed)" if stats["cached"] else ""
        out().print(
            f"added {art.kind} [bold]{art.label}[/bold] {art.short_id}: "
            f"{stats['files']} file(s), {human_size(stats['bytes'])}{cached}",
            soft_wrap=True,
        )
        for digest in repaired:
            out().print(
                f"repaired object {digest[:12]}: the stored copy was damaged and was replaced "
                "by the bytes just added",
                soft_wrap=True,
            )

    emit(state, data, human)


def ls(
    ctx: typer.Context,
    kind: str | None = typer.Option(
        None, "--kind", "-k", help="Only this kind (dataset, model, report, ...)."
    ),
    name: str | None = typer.Option(None, "--name", "-n", help="Only this name."),
) -> None:
    """List artifacts in the store."""
    from mlops.report.store_console import artifacts_table

    state = state_of(ctx)
    arts = state.store(create=False).list_artifacts(kind=kind, name=name)
    emit(
        state,
        {"artifacts": [a.to_dict() for a in arts]},
        lambda: artifacts_table(out(), arts, state.table_format()),
    )


def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="id prefix, name, name:version or name@alias."),
) -> None:
    """Show an artifact's manifest: files, metadata, parents, aliases."""
    from mlops.report.store_console import artifact_detail

    state = state_of(ctx)
    art = state.store(create=False).resolve(ref)
    emit(state, art.to_dict(), lambda: artifact_detail(out(), art))


def cat(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Artifact reference."),
    path: str | None = typer.Argument(
        None, help="File inside the artifact (optional when it has one file)."
    ),
) -> None:
    """Write one file of an artifact to stdout, verified against its hash."""
    from mlops.errors import InputError

    state = state_of(ctx)
    store = state.store(create=False)
    art = store.resolve(ref)
    if path is None:
        if len(art.files) != 1:
            raise InputError(
                f"{art.label} has {len(art.files)} files; say which one",
                hint="files: " + ", ".join(sorted(art.files)),
            )
        path = next(iter(art.files))
    data = store.read_file(art, path)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


def export(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Artifact reference."),
    dest: Path = typer.Argument(..., help="Directory to write the artifact's files into."),
) -> None:
    """Copy an artifact's files out of the store, each verified against its hash."""
    state = state_of(ctx)
    store = state.store(create=False)
    art = store.resolve(ref)
    written = store.export(art, dest)
    emit(
        state,
        {"artifact": art.id, "files": [str(p) for p in written]},
        lambda: out().print(
            f"exported {len(written)} file(s) of {art.label} to {dest}", soft_wrap=True
        ),
    )


def lineage(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Artifact reference."),
    down: bool = typer.Option(
        False, "--down", help="Show what came from it instead of what it came from."
    ),
) -> None:
    """The tree of artifacts an artifact came from (or, with --down, what came from it)."""
    from mlops.report.store_console import lineage_tree

    state = state_of(ctx)
    store = state.store(create=False)
    art = store.resolve(ref)
    tree = store.lineage(art.id, down=down)
    emit(state, tree, lambda: lineage_tree(out(), tree, down))


def rm(
    ctx: typer.Context,
    ref: str = typer.Argument(..., metavar="REF", help="Artifact reference."),
    force: bool = typer.Option(
        False, "--force", "-f", help="Remove even what an alias or another artifact needs."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would happen; remove nothing."),
) -> None:
    """Remove an artifact from the catalog; `mlops gc` then reclaims its files.

    Refused (exit 1, with the list) while an alias points at it or another artifact was made
    from it, unless --force, which also drops those aliases and lineage links.

    Example: mlops rm dataset/big-mistake.csv && mlops gc
    """
    from mlops.report.store_console import removal
    from mlops.store.remove import remove

    state = state_of(ctx)
    result = remove(state.store(create=False), ref, force=force, dry_run=dry_run)
    emit(state, result.to_dict(), lambda: removal(out(), result))
    if result.needed_by and not force:
        raise typer.Exit(1)


def gc(
    ctx: typer.Context,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Say what would be removed; remove nothing."
    ),
    include_manifests: bool = typer.Option(
        False,
        "--include-manifests",
        help="DANGEROUS: also reclaim manifests the catalog does not list (and their files); "
        "artifacts a damaged or replaced catalog forgot are then lost for good.",
    ),
    remote: str | None = typer.Option(
        None,
        "--remote",
        "-r",
        help="Reclaim unreferenced blobs on this remote instead (a dry run unless --yes).",
    ),
    yes: bool = typer.Option(False, "--yes", help="With --remote: delete (default: dry run)."),
    grace: float = typer.Option(
        24.0,
        "--grace",
        min=0.0,
        help="With --remote: keep blobs written in the last HOURS (pushes in flight).",
    ),
) -> None:
    """Reclaim blobs that no artifact references, and staging files left by killed writers.

    Manifests, and the files they name, are kept even when the catalog does not list them
    (`mlops fsck --rebuild` can index them again). gc refuses to run on a catalog that was not
    made with these objects.
    """
    from mlops.report.store_console import gc_result
    from mlops.report.store_integrity_console import gc_notes
    from mlops.store.maintenance import gc as run_gc

    state = state_of(ctx)
    if remote is not None:
        _gc_remote(state, remote, dry_run or not yes, grace)
        return
    result = run_gc(state.store(create=False), dry_run=dry_run, include_manifests=include_manifests)

    def human() -> None:
        gc_result(out(), result)
        gc_notes(out(), result)

    emit(state, result.to_dict(), human)


def _fsck_remote(state: State, name: str, verify: bool) -> None:
    from mlops.cli.push_opts import remote_section
    from mlops.errors import ExitCode
    from mlops.remote import open_site
    from mlops.remote.check import fsck_remote
    from mlops.report.store_console import human_size

    site = open_site(state.store_location(), name, remote_section(state))
    with progress(state) as say:
        say(f"checking remote {site.remote.name}")
        result = fsck_remote(site, verify)

    def human() -> None:
        how = (
            f", {human_size(result.bytes_checked)} hashed"
            if verify
            else " (sizes; --verify hashes)"
        )
        out().print(
            f"remote {result.remote}: {result.artifacts} published artifact(s), "
            f"{result.checked} object(s) checked{how}: "
            + ("ok" if result.ok else f"{len(result.problems)} problem(s)"),
            soft_wrap=True,
        )
        for p in result.problems:
            out().print(f"  {p['object']}  {p['problem']}  [artifact {p['artifact'][:12]}]")
        if result.problems:
            out().print("run `mlops push --full` from a store that has them to put them back")

    emit(state, result.to_dict(), human)
    if not result.ok:
        raise typer.Exit(int(ExitCode.INTEGRITY))


def _gc_remote(state: State, name: str, dry_run: bool, grace: float) -> None:
    from mlops.cli.push_opts import remote_section
    from mlops.remote import open_site
    from mlops.remote.gc import gc_remote
    from mlops.report.store_console import human_size

    site = open_site(state.store_location(), name, remote_section(state))
    result = gc_remote(site, dry_run=dry_run, grace_hours=grace)

    def human() -> None:
        verb = "would remove" if dry_run else "removed"
        out().print(
            f"remote {result.remote}: {verb} {result.removed} object(s) "
            f"({human_size(result.bytes)}); kept {result.kept}, {result.in_grace} newer than "
            f"{grace:g} h",
            soft_wrap=True,
        )
        if dry_run and result.removed:
            out().print(f"run `mlops gc --remote {result.remote} --yes` to remove them")

    emit(state, result.to_dict(), human)


def fsck(
    ctx: typer.Context,
    rebuild: bool = typer.Option(
        False,
        "--rebuild",
        help="Rebuild the catalog from the manifests in objects/ (the old one is kept aside), "
        "then check the store.",
    ),
    remote: str | None = typer.Option(
        None,
        "--remote",
        "-r",
        help="Check this remote instead: every published artifact's manifest and files are "
        "there with their sizes.",
    ),
    verify: bool = typer.Option(
        False, "--verify", help="With --remote: also download and hash every blob."
    ),
) -> None:
    """Check the catalog file, re-hash every blob, check every manifest and catalog row; exit 3
    on damage. With --rebuild, first rebuild the catalog from the manifests."""
    from mlops.errors import ExitCode, NotFoundError
    from mlops.report.store_console import fsck_result
    from mlops.report.store_integrity_console import fsck_notes, rebuild_result
    from mlops.store.maintenance import fsck as run_fsck

    state = state_of(ctx)
    if remote is not None:  # a remote's check: its published artifacts are whole
        if rebuild:
            from mlops.errors import UsageError

            raise UsageError("--rebuild works on the local store, not with --remote")
        _fsck_remote(state, remote, verify)
        return
    rebuilt = None
    if rebuild:
        from mlops.store.rebuild import rebuild as run_rebuild

        location = state.store_location()
        if not location.is_dir():
            raise NotFoundError(f"no store at {location}", hint="check --store")
        info(state, f"rebuilding the catalog of {location} from its manifests ...")
        rebuilt = run_rebuild(location)
    store = state.store(create=False)
    info(state, f"checking {store.root} ...")
    result = run_fsck(store)
    data = result.to_dict()
    if rebuilt is not None:
        data["rebuild"] = rebuilt.to_dict()

    def human() -> None:
        if rebuilt is not None:
            rebuild_result(out(), rebuilt)
        fsck_result(out(), result)
        fsck_notes(out(), result)

    emit(state, data, human)
    if not result.ok:
        raise typer.Exit(int(ExitCode.INTEGRITY))
