"""Remote commands: remote add/ls/remove, push, fetch, pull (docs/remote.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mlops.cli.output import emit, out, progress
from mlops.cli.push_opts import remote_section
from mlops.cli.state import State, state_of

remote_app = typer.Typer(help="Named remotes: where the store is shared (S3, GCS, a mount).")


def register(app: typer.Typer) -> None:
    app.add_typer(remote_app, name="remote")
    app.command("push")(push)
    app.command("fetch")(fetch)
    app.command("pull")(pull)
    app.command("clone")(clone)


@remote_app.command("add")
def remote_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Remote name, e.g. origin."),
    url: str = typer.Argument(
        ..., help="s3://bucket/prefix, gs://..., az://..., file:///dir or a path."
    ),
    default: bool = typer.Option(False, "--default", help="Use it when --remote is not given."),
    endpoint_url: str | None = typer.Option(
        None, "--endpoint-url", help="S3-compatible server (MinIO, Ceph); not needed for AWS."
    ),
) -> None:
    """Add a remote to the store (credentials stay in the backend's own environment)."""
    from mlops.remote import remotes

    state = state_of(ctx)
    store = state.store()
    store.require_writable()
    remote = remotes.add(store.root, name, url, endpoint_url, default)
    emit(
        state,
        {"remote": remote.to_dict(default)},
        lambda: out().print(f"added remote {name} {remote.to_dict()['url']}", soft_wrap=True),
    )


@remote_app.command("ls")
def remote_ls(ctx: typer.Context) -> None:
    """List remotes (from the store and mlops.yaml); the default is marked with *."""
    from mlops.remote import remotes

    state = state_of(ctx)
    location = state.store_location()
    found, default = remotes.all_remotes(location, remote_section(state))
    items = [r.to_dict(r.name == default) for r in sorted(found.values(), key=lambda r: r.name)]

    def human() -> None:
        for r in items:
            mark = "*" if r["default"] else " "
            out().print(f"{mark} {r['name']}\t{r['url']}\t({r['source']})", soft_wrap=True)

    emit(state, {"remotes": items, "default": default}, human)


@remote_app.command("remove")
def remote_remove(ctx: typer.Context, name: str = typer.Argument(..., help="Remote name.")) -> None:
    """Remove a remote from the store (nothing on the remote is deleted)."""
    from mlops.remote import remotes

    state = state_of(ctx)
    store = state.store(create=False)
    store.require_writable()
    remotes.remove(store.root, name)
    emit(state, {"removed": name}, lambda: out().print(f"removed remote {name}"))


def push(
    ctx: typer.Context,
    refs: list[str] | None = typer.Argument(None, help="Artifacts to push (default: all)."),
    remote: str | None = typer.Option(None, "--remote", "-r", help="Remote name."),
    full: bool = typer.Option(
        False,
        "--full",
        help="Check every object against a listing of the remote (puts back what a damaged "
        "remote lost; `fsck --remote` finds that).",
    ),
) -> None:
    """Upload what the remote lacks: blobs, manifests, versions, runs and alias moves."""
    from mlops.remote import open_site
    from mlops.remote import push as do_push

    state = state_of(ctx)
    store = state.store(create=False)
    site = open_site(store.root, remote, remote_section(state))
    with progress(state) as say:
        say(f"pushing to {site.remote.name}")
        result = do_push(store, site, refs or [], _project_config(state), full)
    data = result.to_dict()

    def human() -> None:
        out().print(
            f"pushed to {site.remote.name}: {result.blobs_uploaded} object(s) "
            f"({result.bytes_uploaded} bytes), {result.blobs_present} already there; "
            f"{len(result.published)} artifact(s) published, {result.runs_uploaded} run(s), "
            f"{result.alias_moves_pushed} alias move(s)",
            soft_wrap=True,
        )
        for p in result.published:
            out().print(f"  {p['kind']}/{p['label']} {p['id'][:12]}", soft_wrap=True)

    emit(state, data, human)
    if result.conflicts:  # lost a race: the result above says what was pushed; exit 1
        from mlops.cli.output import error_line
        from mlops.errors import ExitCode

        first = result.conflicts[0]
        more = f" (and {len(result.conflicts) - 1} more)" if len(result.conflicts) > 1 else ""
        error_line(
            first.reason() + more,
            f"run `mlops fetch` to take the remote's @{first.alias}, then promote again if still wanted",
        )
        ctx.exit(int(ExitCode.CHECK_FAILED))


def fetch(
    ctx: typer.Context,
    remote: str | None = typer.Option(None, "--remote", "-r", help="Remote name."),
) -> None:
    """Bring the remote's catalog (artifacts, versions, runs, alias moves) into this store."""
    from mlops.remote import fetch as do_fetch
    from mlops.remote import open_site

    state = state_of(ctx)
    store = state.store()
    site = open_site(store.root, remote, remote_section(state))
    result = do_fetch(store, site)
    emit(state, result.to_dict(), lambda: _fetched(site.remote.name, result))


def pull(
    ctx: typer.Context,
    refs: list[str] | None = typer.Argument(
        None, help="Artifacts whose files to download (default: all)."
    ),
    remote: str | None = typer.Option(None, "--remote", "-r", help="Remote name."),
    with_lineage: bool = typer.Option(False, "--with-lineage", help="Also every ancestor's files."),
) -> None:
    """fetch, then download (verified) the files the named artifacts need."""
    from mlops.remote import open_site
    from mlops.remote import pull as do_pull

    state = state_of(ctx)
    store = state.store()
    site = open_site(store.root, remote, remote_section(state))
    with progress(state) as say:
        say(f"pulling from {site.remote.name}")
        result = do_pull(store, site, refs or [], with_lineage)
    emit(state, result.to_dict(), lambda: _fetched(site.remote.name, result))


def _project_config(state: State) -> bytes | None:
    config = state.config(required=False)
    return config.path.read_bytes() if config is not None else None


def clone(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="The remote: s3://bucket/prefix, file:///dir, ..."),
    directory: Path | None = typer.Argument(
        None, help="New project directory (default: the URL's last part)."
    ),
    name: str = typer.Option("origin", "--name", help="Name of the remote in the new store."),
    endpoint_url: str | None = typer.Option(
        None, "--endpoint-url", help="S3-compatible server (MinIO, Ceph); not needed for AWS."
    ),
    config_file: Path | None = typer.Option(
        None, "--mlops-yaml", help="mlops.yaml to use instead of the one on the remote."
    ),
    all_blobs: bool = typer.Option(
        False, "--all", help="Download every file now (default: when a command reads it)."
    ),
) -> None:
    """A new project directory from a remote: mlops.yaml, a store, the remote's catalog."""
    from mlops.errors import InputError
    from mlops.remote import Remote, Site
    from mlops.remote.clone import clone as do_clone
    from mlops.remote.remotes import check_name, check_no_credentials
    from mlops.remote.urls import check_url

    state = state_of(ctx)
    check_name(name)
    check_no_credentials(url)
    url = check_url(url)
    if config_file is not None and not config_file.is_file():
        raise InputError(f"{config_file}: file not found", hint="check --mlops-yaml")
    target = directory or Path(url.rstrip("/").rsplit("/", 1)[-1] or "mlops-clone")
    site = Site(Remote(name, url, endpoint_url))
    result = do_clone(
        site,
        target,
        lambda d: _clone_store(state, d),
        config_file.read_bytes() if config_file else None,
        all_blobs,
    )
    data = result.to_dict()

    def human() -> None:
        out().print(f"cloned {site.remote.name} into {result.directory}", soft_wrap=True)
        _fetched(site.remote.name, result.fetched)
        if result.config is None:
            out().print("no mlops.yaml on the remote: write one, or clone with --mlops-yaml")

    emit(state, data, human)


def _clone_store(state: State, directory: Path) -> Path:
    """The new project's store: --store, else what its mlops.yaml says, else DIR/.mlops."""
    if state.store_path:
        return Path(state.store_path)
    if not (directory / "mlops.yaml").is_file():
        return directory / ".mlops"
    from mlops.config import default_store_path, load_config

    return default_store_path(load_config(directory / "mlops.yaml"), None)


def _fetched(name: str, result: Any) -> None:
    line = (
        f"fetched from {name}: {result.artifacts_fetched} artifact(s), {result.runs_fetched} "
        f"run(s), {result.alias_moves_fetched} alias move(s)"
    )
    if result.pulled:
        line += (
            f"; downloaded {result.blobs_downloaded} object(s) ({result.bytes_downloaded} bytes)"
        )
    out().print(line, soft_wrap=True)
