"""`monitor`: compare a batch (files or the prediction log) with a model's reference profile.

One pass over the batch in chunks (scan.py), then per window and overall: data drift, data
quality, prediction drift, target drift, realised or estimated performance (assess.py), and
alerts (rules.py). The report is stored as a `monitor-report` artifact (parents: the model and the
monitored dataset) and a `monitor` run (record.py). Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError, NotFoundError, UsageError
from mlops.lifecycle.monitor.alerts import at_least, sort_alerts
from mlops.lifecycle.monitor.result import MonitorResult, WindowResult
from mlops.lifecycle.monitor.windows import Window, parse_window

if TYPE_CHECKING:
    import pandas as pd

    from mlops.config import Config
    from mlops.config.monitor import NotifyConfig
    from mlops.data.readers import DataFile
    from mlops.lifecycle.engine import DaskEngine
    from mlops.lifecycle.monitor.data import BatchLayout, Reference
    from mlops.lifecycle.monitor.scan import WindowState
    from mlops.store import Store
    from mlops.store.artifact import Artifact

Progress = Callable[[str], None]


def monitor(
    config: Config,
    store: Store,
    data: list[str] | None = None,
    *,
    model: str | None = None,
    labels: list[str] | None = None,
    window: str | int | None = None,
    fail_on: str | None = None,
    notify_url: str | None = None,
    command: str | None = None,
    progress: Progress | None = None,
    engine: DaskEngine | None = None,
    store_data: bool = False,
) -> MonitorResult:
    """Monitor one batch against a model's reference profile; store and return the report.

    Args:
        config: the project's config; `monitor:` sets methods, thresholds and `fail_on`.
        store: holds the model (its reference profile) and receives the report.
        data: files, directories, globs or a prediction log (default: `data.current`).
        model: the model reference (default: `<project>@production`, else the latest model).
        labels: files with labels to join by id when the batch has none.
        window: results per hour, day, week, month or N rows.
        fail_on: the alert severity at which the result's exit code is 1.
        notify_url: a webhook for the alerts.
        command: the command line, recorded with the run.
        progress: called with a short message as the scan proceeds.
        engine: a Dask engine to scan the batch on (None: this process, in chunks).
        store_data: also copy files read from object storage into the store (they are
            always recorded by URL, size and ETag/version).

    Returns:
        The report: drift, quality, prediction and performance per window and overall, the
        alerts and the exit code.

    Raises:
        NotFoundError: no model to monitor against.
        InputError: the batch cannot be read, is empty or lacks the model's features.
        UsageError: the model has no reference profile, or options conflict.
    """
    # long: the step's stages in order, one call each; split, it would only pass them around
    from mlops.lifecycle.monitor import assess
    from mlops.lifecycle.monitor.data import load_reference
    from mlops.lifecycle.monitor.record import record
    from mlops.lifecycle.monitor.rules import build_alerts
    from mlops.lifecycle.monitor.scan import subset

    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    mc = config.model.monitor
    notes: list[str] = []
    art = resolve_model(config, store, model, notes)
    ref = load_reference(store, art)
    batch = _open_batch(config, ref, data, labels, window, notes)
    overrides = assess.drift_overrides(config, ref.features)
    assess.quality_thresholds(config, ref.features)  # a bad column name fails before the scan
    metric_names = assess.metric_names(config, ref)
    states, total, labelled = _scan(config, store, art, ref, batch, say, engine)
    if batch.labels is not None:
        notes.append(f"joined labels for {labelled:,} of {total:,} rows by {batch.id_column!r}")
    calibrator = None
    if mc.performance.estimate and ref.task == "classification":
        calibrator = assess.fit_calibrator(store, ref, notes)
    say("comparing with the reference")
    assessed = assess.assess_windows(
        states, ref, config, overrides, metric_names, calibrator, batch.window is not None
    )
    performance = assess.performance_block(
        config,
        art,
        assessed[1],
        metric_names,
        labelled,
        calibrator,
        assess.holdout_errors(store, ref, metric_names),
    )
    features = subset(ref.data, ref.features).columns
    alerts = build_alerts(
        config, ref, assessed[1], assessed[2], performance, batch.layout.extra, features
    )
    result = _result(art, ref, batch, total, assessed, performance, notes)
    result.alerts = sort_alerts(alerts)
    result.fail_on = fail_on or mc.fail_on
    record(config, store, result, batch.paths, command, t0, copy_remote=store_data)
    url = notify_url or mc.notify.url
    if url:  # after the report is stored: a receiver that hangs or fails cannot lose it
        result.notify = _notify(result, url, mc.notify)
        store.add_run_info(result.run_id or "", {"notify": result.notify})
    return result


def resolve_model(config: Config, store: Store, ref: str | None, notes: list[str]) -> Artifact:
    """--model, then monitor.model, then <project>@production, else the latest model."""
    from mlops.lifecycle.model_io import resolve_model as resolve

    explicit = ref or config.model.monitor.model
    if explicit:
        return resolve(store, explicit)
    project = config.model.project
    try:
        return resolve(store, f"{project}@production")
    except NotFoundError:
        pass
    try:
        art = resolve(store, project)
    except NotFoundError:
        raise NotFoundError(
            f"there is no model {project!r} to monitor",
            hint="train one with `mlops train` (and promote it with `mlops evaluate --promote`)",
        ) from None
    notes.append(f"no model is at {project}@production; monitoring the latest, {art.label}")
    return art


# -- the batch ---------------------------------------------------------------------------------
@dataclass
class _Batch:
    """The files to monitor and how their columns map to roles."""

    specs: list[str]
    paths: list[DataFile]
    csv: Any
    window: Window | None
    label_column: str
    id_column: str | None
    layout: BatchLayout
    labels: pd.Series | None = None  # from label files, by id


def _open_batch(
    config: Config,
    ref: Reference,
    data: list[str] | None,
    labels: list[str] | None,
    window: str | int | None,
    notes: list[str],
) -> _Batch:
    from mlops.data.readers import CsvOptions, expand_sources
    from mlops.lifecycle.monitor.data import file_columns, layout

    mc = config.model.monitor
    dc = config.model.data
    specs = list(data or dc.current)
    if not specs:
        raise UsageError(
            "no data to monitor",
            hint="pass files (mlops monitor DATA...) or set data.current in mlops.yaml",
        )
    base = config.base_dir if not data else Path.cwd()
    paths = expand_sources(specs, base=base)
    csv = CsvOptions(dc.delimiter or None, dc.encoding)
    win = parse_window(window if window is not None else mc.window)
    label_column = mc.label_column or ref.target
    time_column = mc.time_column or dc.time_column or ref.signature.get("time_column")
    id_column = dc.id_column or ref.signature.get("id_column")
    columns = file_columns(paths[0], dc.delimiter, dc.encoding)
    lay = layout(ref, columns, label_column, id_column, time_column)
    if lay.extra:
        notes.append(
            f"the batch has {len(lay.extra)} column(s) the model does not use: "
            f"{', '.join(lay.extra[:10])}"
        )
    batch = _Batch(specs, paths, csv, win, label_column, id_column, lay)
    label_specs = list(labels or dc.labels)
    if label_specs and lay.label_column is None:
        lbase = config.base_dir if not labels else Path.cwd()
        batch.labels = _label_file_series(
            config, batch, columns, expand_sources(label_specs, base=lbase), notes
        )
    return batch


def _label_file_series(
    config: Config, batch: _Batch, columns: list[str], label_paths: list[DataFile], notes: list[str]
) -> pd.Series:
    """Labels by id from label files; the batch then reads its id column too."""
    from mlops.lifecycle.monitor.data import load_labels

    lay, id_column = batch.layout, batch.id_column
    if not id_column or id_column not in {lay.rename.get(c, c) for c in columns}:
        raise UsageError(
            "labels from a label file are joined by id, but the batch has no id column",
            hint="set data.id_column to a column both the batch and the label file hold",
        )
    dc = config.model.data
    series, label_notes = load_labels(
        label_paths, id_column, batch.label_column, dc.delimiter, dc.encoding
    )
    notes.extend(label_notes)
    if lay.id_column not in lay.read:
        lay.read.append(next(c for c in columns if lay.rename.get(c, c) == id_column))
    return series


def _scan(
    config: Config,
    store: Store,
    art: Artifact,
    ref: Reference,
    batch: _Batch,
    say: Progress,
    engine: DaskEngine | None,
) -> tuple[dict[str, WindowState], int, int]:
    """The one pass over the batch (scan.single_pass, or on Dask monitor.parallel.dask_pass);
    a batch without rows is an input error."""
    from mlops.lifecycle.model_io import ModelBlob, load_model
    from mlops.lifecycle.monitor.parallel import dask_pass
    from mlops.lifecycle.monitor.scan import needs_scoring, single_pass

    mc = config.model.monitor
    say("reading the batch")
    common: dict[str, Any] = dict(
        window=batch.window,
        label_column=batch.label_column,
        labels=batch.labels,
        chunk_rows=mc.chunk_rows,
        sample_rows=mc.performance.sample_rows,
        csv=batch.csv,
        say=say,
    )
    if engine is not None:
        blob = ModelBlob.read(store, art) if needs_scoring(ref, batch.layout) else None
        states, total, labelled = dask_pass(
            engine, batch.paths, ref, batch.layout, model=blob, **common
        )
    else:
        states, total, labelled = single_pass(
            batch.paths, ref, batch.layout, model_loader=lambda: load_model(store, art), **common
        )
    if total == 0:
        raise InputError(
            f"the batch ({', '.join(batch.specs)}) has no rows, so there is nothing to monitor",
            hint="check that the files hold data rows, not only a header",
        )
    return states, total, labelled


# -- the result --------------------------------------------------------------------------------
def _result(
    art: Artifact,
    ref: Reference,
    batch: _Batch,
    total: int,
    assessed: tuple[WindowState, WindowResult, list[WindowResult]],
    performance: dict[str, Any],
    notes: list[str],
) -> MonitorResult:
    """The result; its alerts and fail_on are set by the caller, its ids when it is stored."""
    from mlops.lifecycle.monitor.scan import subset
    from mlops.stats.drift import histograms

    overall_state, overall, windows = assessed
    lay = batch.layout
    feat_ref = subset(ref.data, ref.features)
    return MonitorResult(
        model=art.summary(),
        data={
            "sources": batch.specs,
            "files": [str(p) for p in batch.paths],
            "rows": total,
            "format": "prediction-log" if lay.is_log else "table",
            "scored_by_monitor": not lay.has_prediction,
            "labels": "batch"
            if lay.label_column
            else ("file" if batch.labels is not None else None),
            "time_column": lay.time_column,
            "dataset_id": None,
        },
        window=batch.window.label if batch.window else None,
        reference={"rows": ref.rows, "features": ref.features, "target": ref.target},
        drift=overall.drift,
        quality=overall.quality,
        prediction_drift=overall.prediction_drift,
        target_drift=overall.target_drift,
        performance=performance,
        windows=windows,
        alerts=[],
        fail_on="",
        histograms={
            k: h.to_dict() for k, h in histograms(feat_ref, overall_state.features).items()
        },
        notes=notes,
    )


def _notify(result: MonitorResult, url: str, nc: NotifyConfig) -> dict[str, Any]:
    """Post the alerts at or above notify.min_severity to url; what happened."""
    from mlops.lifecycle.monitor.notify import payload, post, redact_url

    sent = at_least(result.alerts, nc.min_severity)
    if not sent:
        return {"url": redact_url(url), "ok": True, "attempts": 0, "skipped": "no alerts to send"}
    body = payload(
        _summary_line(result),
        [a.to_dict() for a in sent],
        {
            "model": result.model,
            "rows": result.data["rows"],
            "status": result.status,
            "report_id": result.report_id,
        },
    )
    outcome = post(url, body, nc.timeout_s, nc.retries)
    outcome.posted_alerts = len(sent) if outcome.ok else 0
    return outcome.to_dict()


def _summary_line(result: MonitorResult) -> str:
    d = result.drift
    verdict = "FAIL" if result.failed else result.status
    return (
        f"mlops monitor {result.model['label']}: {verdict}; {len(result.alerts)} alert(s), "
        f"{d.n_drifted} of {d.n_tested} features drifted, {result.data['rows']:,} rows"
    )


__all__ = ["monitor", "resolve_model"]
