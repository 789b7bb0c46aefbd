"""Package, predict and serve commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mlops.cli.engine_opts import engine_option, scheduler_option
from mlops.cli.output import emit, err, info, out, progress, warn
from mlops.cli.state import State, state_of

if TYPE_CHECKING:
    from mlops.config import Config
    from mlops.lifecycle.engine import EngineSpec


def register(app: typer.Typer) -> None:
    app.command("package")(package)
    app.command("predict")(predict)
    app.command("serve")(serve)


def _package_config(state: State):  # type: ignore[no-untyped-def]
    from mlops.config.package import PackageConfig

    config = state.config(required=False)
    return (config.model.package if config else PackageConfig()), config


def _relative_to_config(state: State, value: str) -> Path:
    config = state.config(required=False)
    return config.resolve_path(value) if config else Path(value)


_TRUST_HELP = (
    "Open a package no store records, loading only scikit-learn, numpy and scipy types "
    "(a restricted loader, never plain pickle). See docs/security.md."
)


def _open_model(state: State, ref: str, trust_unverified: bool):  # type: ignore[no-untyped-def]
    from mlops.cli.output import warn
    from mlops.lifecycle.deploy import resolve_model

    handle = resolve_model(state.store, ref, trust_unverified=trust_unverified)
    for note in handle.warnings:
        warn(note)
    return handle


def _pull_for_serve(state: State, ref: str, remote: str) -> None:
    """serve --remote: fetch the remote's catalog and download REF's files before loading it."""
    from mlops.cli.push_opts import remote_section
    from mlops.errors import UsageError
    from mlops.remote import open_site, pull

    if Path(ref).exists():
        raise UsageError(
            f"--remote serves a model reference from the remote, but {ref} is a local package",
            hint="drop --remote to serve the package, or give a ref such as churn@production",
        )
    state.remote_name = remote
    store = state.store()
    site = open_site(store.root, remote, remote_section(state))
    result = pull(store, site, [ref])
    info(
        state,
        f"pulled {ref} from {site.remote.name}: {result.blobs_downloaded} object(s), "
        f"{result.bytes_downloaded} bytes",
    )


def package(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Model reference: name, name:version, name@alias or id."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Directory for the bundle and its .tar.gz (default: dist)."
    ),
) -> None:
    """Write a self-contained, MLflow-compatible bundle and a reproducible .tar.gz."""
    from mlops.lifecycle.deploy import build_package

    state = state_of(ctx)
    pcfg, _ = _package_config(state)
    out_dir = output if output is not None else _relative_to_config(state, pcfg.output_dir)
    result = build_package(
        state.store(),
        ref,
        out_dir,
        base_image=pcfg.base_image,
        port=pcfg.serve.port,
        command=state.command_line,
    )

    def human() -> None:
        out().print(
            f"packaged model [bold]{result.model.label}[/bold] as package "
            f"{result.package.label} {result.package.short_id}"
        )
        out().print(f"  bundle:  {result.directory}")
        out().print(f"  archive: {result.archive} (sha256 {result.archive_sha256[:16]}...)")

    emit(state, result.to_dict(), human)


def predict(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Model reference or package (directory or .tar.gz)."),
    inputs: list[str] = typer.Option(
        ..., "--input", "-i", help="CSV/Parquet file, directory or glob (repeatable)."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Where to write predictions (.csv or .parquet)."
    ),
    log: bool = typer.Option(
        False, "--log", help="Append the scored batch to the prediction log (for `mlops monitor`)."
    ),
    log_dir: Path | None = typer.Option(
        None, "--log-dir", help="Prediction log directory (default: package.prediction_log)."
    ),
    id_column: str | None = typer.Option(
        None, "--id-column", help="Input column to copy beside the predictions as the row id."
    ),
    chunk_rows: int | None = typer.Option(
        None, "--chunk-rows", min=1, help="Rows scored at a time (default: package.chunk_rows)."
    ),
    trust_unverified: bool = typer.Option(False, "--trust-unverified", help=_TRUST_HELP),
    engine: str | None = engine_option(),
    scheduler: str | None = scheduler_option(),
) -> None:
    """Score a CSV/Parquet file in chunks and write the predictions beside the row ids."""
    # long: the Typer options are the signature; the body calls the library and renders
    from mlops.data.readers import CsvOptions
    from mlops.lifecycle.deploy import predict_files
    from mlops.lifecycle.engine.settings import engine_spec

    state = state_of(ctx)
    pcfg, config = _package_config(state)
    spec = engine_spec(config, engine, scheduler)
    if spec.is_dask:
        _predict_on_dask(
            state,
            config,
            ref,
            inputs,
            output,
            chunk_rows or pcfg.chunk_rows,
            spec,
            id_column,
            _log_dir(state, pcfg, log, log_dir),
        )
        return
    handle = _open_model(state, ref, trust_unverified)
    csv = (
        CsvOptions(delimiter=config.model.data.delimiter, encoding=config.model.data.encoding)
        if config is not None
        else None
    )
    logs = _log_dir(state, pcfg, log, log_dir)
    info(state, f"scoring with {handle.source}")
    with progress(state) as say:
        say("scoring")
        result = predict_files(
            handle,
            list(inputs),
            output,
            chunk_rows=chunk_rows or pcfg.chunk_rows,
            id_column=id_column,
            default_id_column=config.model.data.id_column if config is not None else None,
            log_dir=logs,
            csv_options=csv,
        )
    if result.infinite_values:
        found = ", ".join(f"{c} ({n:,})" for c, n in result.infinite_values.items())
        warn(f"+/-inf values were scored as missing: {found}")

    def human() -> None:
        out().print(
            f"wrote {result.rows} prediction(s) to [bold]{result.output}[/bold] "
            f"({result.chunks} chunk(s), model {handle.label})"
        )
        if result.prediction_counts and handle.signature.is_classifier:
            counts = ", ".join(f"{k}: {v}" for k, v in result.prediction_counts.items())
            out().print(f"  predicted classes: {counts}")
        if result.log_file:
            out().print(f"  logged to {result.log_file}")

    emit(state, result.to_dict(), human)


def _log_dir(state: State, pcfg: Any, log: bool, log_dir: Path | None) -> Path | None:
    """The prediction log directory when --log or --log-dir asks for one."""
    if not log and log_dir is None:
        return None
    return log_dir if log_dir is not None else _relative_to_config(state, pcfg.prediction_log)


def _predict_on_dask(
    state: State,
    config: Config | None,
    ref: str,
    inputs: list[str],
    output: Path,
    chunk_rows: int,
    spec: EngineSpec,
    id_column: str | None,
    logs: Path | None,
) -> None:
    """`predict` on the Dask engine: a store model, scored on the workers into a dataset."""
    from mlops.data.readers import CsvOptions
    from mlops.errors import UsageError
    from mlops.lifecycle.deploy.predict_parallel import predict_on_dask
    from mlops.lifecycle.engine import open_engine
    from mlops.lifecycle.model_io import ModelBlob, resolve_model

    if Path(ref).exists():
        raise UsageError(
            f"the Dask engine scores models from the store, and {ref} is a path",
            hint="pass the model reference (e.g. churn@production)",
        )
    store = state.store(create=False)
    blob = ModelBlob.read(store, resolve_model(store, ref))
    dc = config.model.data if config is not None else None
    csv = CsvOptions(dc.delimiter, dc.encoding) if dc is not None else None

    def say(message: str) -> None:
        if not state.quiet:
            err().print(message, markup=False, highlight=False)

    with open_engine(spec, say) as eng:
        assert eng is not None
        result = predict_on_dask(
            eng,
            blob,
            list(inputs),
            output,
            chunk_rows=chunk_rows,
            id_column=id_column,
            default_id_column=dc.id_column if dc is not None else None,
            csv_options=csv,
            log_dir=logs,
        )
    emit(
        state,
        result.to_dict(),
        lambda: out().print(
            f"wrote {result.rows} prediction(s) to the dataset [bold]{result.output}[/bold] "
            f"({len(result.inputs)} part(s), model {blob.artifact.label})"
        ),
    )


def serve(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Model reference or package (directory or .tar.gz)."),
    host: str | None = typer.Option(
        None, "--host", help="Address to bind (default 127.0.0.1: this machine only)."
    ),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="TCP port (default 8080)."
    ),
    log_dir: Path | None = typer.Option(
        None, "--log-dir", help="Prediction log directory (default: package.prediction_log)."
    ),
    no_log: bool = typer.Option(False, "--no-log", help="Do not log predictions."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Server processes (/metrics shows their totals)."
    ),
    log_queue_rows: int = typer.Option(
        100_000,
        "--log-queue-rows",
        min=1,
        help="Rows waiting to be logged beyond which new rows are dropped (and counted).",
    ),
    trust_unverified: bool = typer.Option(False, "--trust-unverified", help=_TRUST_HELP),
    remote: str | None = typer.Option(
        None,
        "--remote",
        "-r",
        help="Pull REF (its catalog and files, verified) from this remote before serving.",
    ),
) -> None:
    """Serve the model over HTTP: POST /predict and /invocations (MLflow's protocol), GET
    /health, /ping, /metadata, /metrics."""
    from mlops.lifecycle.deploy import bind, require_serve_extra, run_server

    require_serve_extra()
    state = state_of(ctx)
    pcfg, _ = _package_config(state)
    scfg = pcfg.serve
    if remote is not None:
        _pull_for_serve(state, ref, remote)
    handle = _open_model(state, ref, trust_unverified)
    host = host or scfg.host
    port = port or scfg.port
    logs = None
    if not no_log and scfg.log_predictions:
        logs = log_dir if log_dir is not None else _relative_to_config(state, pcfg.prediction_log)
    sock = bind(host, port)
    procs = f" with {workers} workers" if workers > 1 else ""
    info(state, f"serving {handle.source} on http://{host}:{port}{procs} (Ctrl-C to stop)")
    if logs is not None:
        info(state, f"logging predictions to {logs}")
    run_server(
        handle,
        sock,
        log_dir=logs,
        max_body_bytes=int(scfg.max_body_mb * (1 << 20)),
        flush_rows=scfg.log_flush_rows,
        flush_seconds=scfg.log_flush_seconds,
        max_queued_rows=log_queue_rows,
        workers=workers,
    )
