"""`monitor`: compare a batch (files or the prediction log) with a model's reference profile.

One pass over the batch in chunks: each chunk is scored when it carries no predictions, split
into windows, and added to mergeable profiles (features, model outputs, labels) and a bounded row
sample for metrics. Memory depends on the chunk size and the number of windows, not on the rows.
Then per window and overall: data drift, data quality, prediction drift, target drift, realised or
estimated performance, and alerts. The report is stored as a `monitor-report` artifact (parents:
the model and the monitored dataset) and a `monitor` run. Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError, MlopsError, NotFoundError, UsageError
from mlops.lifecycle.monitor_alerts import Alert, at_least, highest, sort_alerts
from mlops.lifecycle.monitor_windows import (
    Window,
    display_key,
    parse_window,
    sort_keys,
    window_keys,
)
from mlops.lifecycle.runs import fail_run_on_error
from mlops.store.names import artifact_file_names

if TYPE_CHECKING:
    import pandas as pd

    from mlops.config import Config
    from mlops.lifecycle.model_io import LoadedModel
    from mlops.lifecycle.monitor_data import BatchLayout, Reference
    from mlops.lifecycle.monitor_performance import Calibrator, RowSample
    from mlops.stats.profile import DatasetProfile
    from mlops.store import Store
    from mlops.store.artifact import Artifact

Progress = Callable[[str], None]
REPORT_KIND = "monitor-report"
REPORT_FILE = "report.json"


@dataclass
class WindowResult:
    key: str
    label: str
    rows: int
    drift: dict[str, Any]
    quality: dict[str, Any]
    prediction_drift: dict[str, Any] | None = None
    target_drift: dict[str, Any] | None = None
    performance: dict[str, float | None] | None = None
    estimated: dict[str, float | None] | None = None
    labelled_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class MonitorResult:
    model: dict[str, Any]
    data: dict[str, Any]
    window: str | None
    reference: dict[str, Any]
    drift: dict[str, Any]
    quality: dict[str, Any]
    prediction_drift: dict[str, Any] | None
    target_drift: dict[str, Any] | None
    performance: dict[str, Any]
    windows: list[WindowResult]
    alerts: list[Alert]
    fail_on: str
    histograms: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    notify: dict[str, Any] | None = None
    report_id: str | None = None
    run_id: str | None = None
    created_at: str | None = None
    duration_s: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(at_least(self.alerts, self.fail_on))

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    @property
    def highest_severity(self) -> str | None:
        return highest(self.alerts)

    def summary(self) -> dict[str, Any]:
        """The figures kept per run for `mlops monitor history` (also the artifact metadata)."""
        counts = {s: 0 for s in ("info", "warning", "critical")}
        for a in self.alerts:
            counts[a.severity] += 1
        return {
            "model": self.model["label"],
            "model_id": self.model["id"],
            "rows": self.data["rows"],
            "source": self.data["sources"],
            "windows": len(self.windows),
            "dataset_drift": self.drift["dataset_drift"],
            "share_drifted": self.drift["share_drifted"],
            "drift_share": self.drift["drift_share"],
            "n_drifted": self.drift["n_drifted"],
            "n_features": self.drift["n_tested"],
            "drifted": self.drift["drifted_columns"],
            "scores": {
                c["column"]: {
                    "method": c["method"],
                    "score": c["score"],
                    "threshold": c["threshold"],
                }
                for c in self.drift["columns"]
            },
            "quality_issues": len(self.quality["issues"]),
            "prediction_drift": bool(
                self.prediction_drift and self.prediction_drift["drifted_columns"]
            ),
            "performance": self.performance.get("realised") or {},
            "estimated": self.performance.get("estimated") or {},
            "reference_metrics": self.performance.get("reference") or {},
            "max_drop": self.performance.get("max_drop"),
            "alerts": counts,
            "highest": self.highest_severity,
            "failed": self.failed,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "data": self.data,
            "window": self.window,
            "reference": self.reference,
            "status": "fail" if self.failed else "ok",
            "fail_on": self.fail_on,
            "highest_severity": self.highest_severity,
            "alerts": [a.to_dict() for a in self.alerts],
            "drift": self.drift,
            "quality": self.quality,
            "prediction_drift": self.prediction_drift,
            "target_drift": self.target_drift,
            "performance": self.performance,
            "windows": [w.to_dict() for w in self.windows],
            "histograms": self.histograms,
            "notes": self.notes,
            "notify": self.notify,
            "report_id": self.report_id,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "duration_s": self.duration_s,
        }


# -- model -------------------------------------------------------------------------------------
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


# -- one pass over the batch ---------------------------------------------------------------------
@dataclass
class _WindowState:
    features: DatasetProfile
    outputs: DatasetProfile
    target: DatasetProfile | None
    sample: RowSample
    rows: int = 0
    labelled: int = 0


def _subset(profile: DatasetProfile, names: list[str]) -> DatasetProfile:
    from mlops.stats.profile import DatasetProfile, ProfileSpec

    spec = ProfileSpec({n: profile.spec.columns[n] for n in names})
    return DatasetProfile(spec, {n: profile.columns[n] for n in names}, profile.rows)


def _conform(chunk: pd.DataFrame, ref: Reference, lay: BatchLayout) -> pd.DataFrame:
    """Rename prediction-log columns; give all-missing categorical inputs an object dtype."""
    import pandas as pd

    if lay.rename:
        chunk = chunk.rename(columns=lay.rename)
    kinds = {c["name"]: c.get("kind") for c in ref.signature.get("inputs", [])}
    for name, kind in kinds.items():
        col = chunk[name]
        if kind == "categorical" and pd.api.types.is_float_dtype(col.dtype) and col.isna().all():
            chunk[name] = col.astype(object)
    return chunk


def _score(model: LoadedModel, chunk: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Predictions for chunk. The model sees +/-inf as missing (scikit-learn refuses inf); the
    profiles still count them, so they surface as an `infinite_values` quality alert."""
    import numpy as np

    x = chunk[ref.features]
    numeric = x.select_dtypes("number")
    if len(numeric.columns) and np.isinf(numeric.to_numpy(dtype=float)).any():
        x = x.copy()
        x[numeric.columns] = numeric.replace([np.inf, -np.inf], np.nan)
    try:
        pred, proba = model.predict(x)
    except MlopsError:
        raise
    except Exception as e:  # noqa: BLE001 - scikit-learn raises many types for bad input
        raise InputError(
            f"model {model.artifact.label} could not score the batch: {type(e).__name__}: {e}",
            hint="check the batch's column types against the training data",
        ) from None
    chunk = chunk.copy()
    chunk[ref.prediction] = pred
    if proba is not None:
        for j, col in enumerate(ref.proba.values()):
            if j < proba.shape[1]:
                chunk[col] = proba[:, j]
    return chunk


def _single_pass(
    paths: list[Path],
    ref: Reference,
    lay: BatchLayout,
    *,
    window: Window | None,
    label_column: str,
    labels: pd.Series | None,
    model_loader: Callable[[], LoadedModel],
    chunk_rows: int,
    sample_rows: int,
    csv: Any,
    say: Progress,
) -> tuple[dict[str, _WindowState], int, int]:
    import numpy as np
    import pandas as pd

    from mlops.data.readers import iter_chunks_with_offset
    from mlops.lifecycle.monitor_data import class_labels
    from mlops.lifecycle.monitor_performance import RowSample
    from mlops.stats.profile import DatasetProfile

    classification = ref.task == "classification"
    need_scoring = not lay.has_prediction or (classification and ref.proba and not lay.has_proba)
    has_labels = lay.label_column is not None or labels is not None
    feat_ref = _subset(ref.data, ref.features)
    out_names = [c for c in ref.outputs.columns if c in {ref.prediction, *ref.proba.values()}]
    out_ref = _subset(ref.outputs, out_names)
    tgt_ref = _subset(ref.data, [ref.target]) if ref.target in ref.data.columns else None
    proba_cols = list(ref.proba.values())
    rng = np.random.default_rng(0)
    states: dict[str, _WindowState] = {}
    model: LoadedModel | None = None
    total = 0
    labelled_total = 0
    for offset, raw in iter_chunks_with_offset(
        paths, columns=lay.read, chunk_rows=chunk_rows, csv_options=csv
    ):
        if not len(raw):
            continue
        chunk = _conform(raw, ref, lay)
        if need_scoring:
            model = model or model_loader()
            chunk = _score(model, chunk, ref)
        if labels is not None and lay.id_column is not None:
            joined = chunk[lay.id_column].astype(str).map(labels)
            if lay.label_column is not None:
                joined = chunk[label_column].where(chunk[label_column].notna(), joined)
            chunk[label_column] = joined.to_numpy()
        if classification:
            chunk[ref.prediction] = class_labels(chunk[ref.prediction], ref.classes)
            if has_labels:
                chunk[label_column] = class_labels(chunk[label_column], ref.classes)
        keys = window_keys(window, chunk, offset, lay.time_column)
        uniq = pd.unique(keys)
        for key in uniq:
            part = chunk if len(uniq) == 1 else chunk[keys == key]
            st = states.get(key)
            if st is None:
                st = _WindowState(
                    DatasetProfile.empty(feat_ref.spec),
                    DatasetProfile.empty(out_ref.spec),
                    DatasetProfile.empty(tgt_ref.spec) if (has_labels and tgt_ref) else None,
                    RowSample(sample_rows, rng),
                )
                states[key] = st
            st.rows += len(part)
            st.features.update(part[ref.features])
            st.outputs.update(part[out_names])
            y = None
            if has_labels:
                ys = part[label_column]
                if st.target is not None:
                    st.target.update(ys.rename(ref.target).to_frame())
                n_lab = int(ys.notna().sum())
                st.labelled += n_lab
                labelled_total += n_lab
                y = ys.to_numpy(dtype=object)
            proba = part[proba_cols].to_numpy(dtype=float) if proba_cols else None
            pred = part[ref.prediction].to_numpy(dtype=object)
            st.sample.add(
                y if y is not None else np.full(len(part), None, dtype=object), pred, proba
            )
        total += len(chunk)
        say(f"profiled {total:,} rows")
    return states, total, labelled_total


# -- results -----------------------------------------------------------------------------------
def _drift_overrides(config: Config, features: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for name, opt in config.model.monitor.drift.columns.items():
        if name not in features:
            raise config.error(
                ("monitor", "drift", "columns", name),
                f"{name!r} is not a feature of the model",
                hint=f"features: {', '.join(features[:20])}",
            )
        out[name] = {k: v for k, v in opt.model_dump().items() if v is not None}
    return out


def _evaluate_window(
    key: str,
    st: _WindowState,
    ref: Reference,
    config: Config,
    overrides: dict[str, dict],
    metric_names: list[str],
    calibrator: Calibrator | None,
) -> WindowResult:
    from mlops.lifecycle.monitor_performance import realised
    from mlops.stats.drift import compute_drift
    from mlops.stats.quality import compute_quality

    dc = config.model.monitor.drift
    feat_ref = _subset(ref.data, ref.features)
    drift = compute_drift(feat_ref, st.features, overrides, dc.correction, dc.drift_share)
    quality = compute_quality(feat_ref, st.features)
    out_ref = _subset(ref.outputs, list(st.outputs.columns))
    pred_drift = compute_drift(out_ref, st.outputs, None, dc.correction, 1.0)
    target_drift = None
    if st.target is not None and st.labelled:
        target_drift = compute_drift(
            _subset(ref.data, [ref.target]), st.target, None, dc.correction, 1.0
        ).to_dict()
    y, pred, proba = st.sample.arrays()
    performance = None
    if st.labelled:
        performance = realised(metric_names, y, pred, proba, ref.classes or None, ref.positive)
    estimated = None
    if calibrator is not None and proba is not None and len(pred):
        estimated = calibrator.estimate(pred, proba, metric_names)
    return WindowResult(
        key=key,
        label=display_key(key),
        rows=st.rows,
        drift=drift.to_dict(),
        quality=quality.to_dict(),
        prediction_drift=pred_drift.to_dict(),
        target_drift=target_drift,
        performance=performance,
        estimated=estimated,
        labelled_rows=st.labelled,
    )


def _merge_states(states: list[_WindowState]) -> _WindowState:
    out = states[0]
    for st in states[1:]:
        out = _WindowState(
            out.features.merge(st.features),
            out.outputs.merge(st.outputs),
            out.target.merge(st.target) if out.target is not None and st.target else out.target,
            out.sample.merged(st.sample),
            out.rows + st.rows,
            out.labelled + st.labelled,
        )
    return out


def _calibrator(
    store: Store, ref: Reference, label_column: str, notes: list[str]
) -> Calibrator | None:
    """Isotonic calibration of the class probabilities on the model's holdout."""
    from mlops.lifecycle.monitor_data import load_holdout
    from mlops.lifecycle.monitor_performance import Calibrator

    if ref.task != "classification" or not ref.proba or not ref.classes:
        return None
    holdout = load_holdout(store, ref.artifact)
    cols = list(ref.proba.values())
    if holdout is None or ref.target not in holdout.columns or any(c not in holdout for c in cols):
        notes.append(
            f"model {ref.artifact.label} has no holdout with labels and probabilities; "
            "performance without labels is not estimated"
        )
        return None
    holdout = holdout.dropna(subset=[ref.target])
    cal = Calibrator.fit(
        holdout[ref.target].to_numpy(),
        holdout[cols].to_numpy(dtype=float),
        ref.classes,
        ref.positive,
    )
    cal.source = (
        f"isotonic regression on the model's holdout ({len(holdout)} rows), at monitor time"
    )
    return cal


def _metric_names(config: Config, ref: Reference) -> list[str]:
    from mlops.lifecycle import metrics as M

    wanted = config.model.monitor.performance.metrics
    if wanted:
        n = len(ref.classes)
        for i, m in enumerate(wanted):
            problem = M.check_metric(m, ref.task, n)
            if problem:
                raise config.error(("monitor", "performance", "metrics", i), problem)
        return list(wanted)
    names = [m for m in (ref.artifact.metadata.get("metrics") or {}) if not m.startswith("cv_")]
    return names or M.default_metrics(ref.task, len(ref.classes))


# -- entry point -------------------------------------------------------------------------------
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
) -> MonitorResult:
    """Monitor one batch against a model's reference; store and return the report."""
    from mlops.data.readers import CsvOptions, expand_paths
    from mlops.lifecycle.model_io import load_model
    from mlops.lifecycle.monitor_data import file_columns, layout, load_labels, load_reference
    from mlops.stats.drift import histograms

    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    mc = config.model.monitor
    dc = config.model.data
    notes: list[str] = []
    art = resolve_model(config, store, model, notes)
    ref = load_reference(store, art)
    specs = list(data or dc.current)
    if not specs:
        raise UsageError(
            "no data to monitor",
            hint="pass files (mlops monitor DATA...) or set data.current in mlops.yaml",
        )
    base = config.base_dir if not data else Path.cwd()
    paths = expand_paths(specs, base=base)
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
    label_series = None
    label_specs = list(labels or dc.labels)
    if label_specs and lay.label_column is None:
        if not id_column or id_column not in {lay.rename.get(c, c) for c in columns}:
            raise UsageError(
                "labels from a label file are joined by id, but the batch has no id column",
                hint="set data.id_column to a column both the batch and the label file hold",
            )
        lbase = config.base_dir if not labels else Path.cwd()
        label_series, label_notes = load_labels(
            expand_paths(label_specs, base=lbase),
            id_column,
            label_column,
            dc.delimiter,
            dc.encoding,
        )
        notes.extend(label_notes)
        if lay.id_column not in lay.read:
            lay.read.append(next(c for c in columns if lay.rename.get(c, c) == id_column))
    overrides = _drift_overrides(config, ref.features)
    metric_names = _metric_names(config, ref)
    say("reading the batch")
    states, total, labelled = _single_pass(
        paths,
        ref,
        lay,
        window=win,
        label_column=label_column,
        labels=label_series,
        model_loader=lambda: load_model(store, art),
        chunk_rows=mc.chunk_rows,
        sample_rows=mc.performance.sample_rows,
        csv=csv,
        say=say,
    )
    if total == 0:
        raise InputError(
            f"the batch ({', '.join(specs)}) has no rows, so there is nothing to monitor",
            hint="check that the files hold data rows, not only a header",
        )
    if label_series is not None:
        notes.append(f"joined labels for {labelled:,} of {total:,} rows by {id_column!r}")
    calibrator = None
    if mc.performance.estimate and ref.task == "classification":
        calibrator = _calibrator(store, ref, label_column, notes)
    say("comparing with the reference")
    keys = sort_keys(list(states))
    overall_state = _merge_states([states[k] for k in keys])
    overall = _evaluate_window(
        "all", overall_state, ref, config, overrides, metric_names, calibrator
    )
    windows = (
        [
            _evaluate_window(k, states[k], ref, config, overrides, metric_names, calibrator)
            for k in keys
        ]
        if win is not None
        else []
    )
    reference_metrics = {
        m: v for m, v in (art.metadata.get("metrics") or {}).items() if m in metric_names
    }
    performance: dict[str, Any] = {
        "metrics": metric_names,
        "reference": reference_metrics,
        "realised": overall.performance,
        "estimated": overall.estimated if not labelled else None,
        "labelled_rows": labelled,
        "max_drop": mc.performance.max_drop,
        "max_rise": mc.performance.max_rise,
        "calibration": calibrator.source if calibrator is not None else None,
    }
    if calibrator is not None and labelled:
        performance["estimated"] = overall.estimated  # shown next to the realised figures
    from mlops.lifecycle.monitor_rules import build_alerts

    feat_ref = _subset(ref.data, ref.features)
    alerts = build_alerts(config, ref, overall, windows, performance, lay.extra, feat_ref.columns)
    result = MonitorResult(
        model=art.summary(),
        data={
            "sources": specs,
            "files": [str(p) for p in paths],
            "rows": total,
            "format": "prediction-log" if lay.is_log else "table",
            "scored_by_monitor": not lay.has_prediction,
            "labels": "batch"
            if lay.label_column
            else ("file" if label_series is not None else None),
            "time_column": lay.time_column,
            "dataset_id": None,
        },
        window=win.label if win else None,
        reference={"rows": ref.rows, "features": ref.features, "target": ref.target},
        drift=overall.drift,
        quality=overall.quality,
        prediction_drift=overall.prediction_drift,
        target_drift=overall.target_drift,
        performance=performance,
        windows=windows,
        alerts=sort_alerts(alerts),
        fail_on=fail_on or mc.fail_on,
        histograms={
            k: h.to_dict() for k, h in histograms(feat_ref, overall_state.features).items()
        },
        notes=notes,
    )
    if notify_url or mc.notify.url:
        from mlops.lifecycle.monitor_notify import payload, post

        url = notify_url or mc.notify.url or ""
        sent = at_least(result.alerts, mc.notify.min_severity)
        if sent:
            body = payload(
                _summary_line(result),
                [a.to_dict() for a in sent],
                {"model": result.model, "rows": total, "status": "fail" if result.failed else "ok"},
            )
            outcome = post(url, body, mc.notify.timeout_s, mc.notify.retries)
            outcome.posted_alerts = len(sent) if outcome.ok else 0
            result.notify = outcome.to_dict()
        else:
            result.notify = {"url": url, "ok": True, "attempts": 0, "skipped": "no alerts to send"}
    _record(config, store, result, paths, command, t0)
    return result


def _summary_line(result: MonitorResult) -> str:
    d = result.drift
    verdict = "FAIL" if result.failed else "ok"
    return (
        f"mlops monitor {result.model['label']}: {verdict}; {len(result.alerts)} alert(s), "
        f"{d['n_drifted']} of {d['n_tested']} features drifted, {result.data['rows']:,} rows"
    )


def _record(
    config: Config,
    store: Store,
    result: MonitorResult,
    paths: list[Path],
    command: str | None,
    t0: float,
) -> None:
    import json

    from mlops.store.store import now_iso

    project = config.model.project
    run_id = store.start_run(step="monitor", name=project, config_hash=config.hash, command=command)
    with fail_run_on_error(store, run_id, describe=str):
        parents = [result.model["id"]]
        store.link_run(run_id, result.model["id"], "input")
        if config.model.monitor.store_data:
            files = artifact_file_names(paths, config.base_dir)
            ds = store.add_artifact(
                "dataset",
                f"{project}-current",
                files,
                metadata={"source": result.data["sources"], "rows": result.data["rows"]},
                command=command,
            )
            result.data["dataset_id"] = ds.id
            parents.append(ds.id)
            store.link_run(run_id, ds.id, "input")
        result.run_id = run_id
        result.created_at = now_iso()
        result.duration_s = round(time.perf_counter() - t0, 4)
        body = json.dumps(result.to_dict(), sort_keys=True, default=str, allow_nan=False)
        art = store.add_artifact(
            REPORT_KIND,
            result.model["name"],
            {REPORT_FILE: body.encode()},
            metadata=result.summary(),
            parents=parents,
            run_id=run_id,
            command=command,
            reuse_unchanged=False,
        )
        result.report_id = art.id
        metrics: dict[str, float | None] = {
            "rows": float(result.data["rows"]),
            "share_drifted": result.drift["share_drifted"],
            "n_drifted": float(result.drift["n_drifted"]),
            "alerts": float(len(result.alerts)),
        }
        for k, v in (result.performance.get("realised") or {}).items():
            metrics[f"realised_{k}"] = v
        for k, v in (result.performance.get("estimated") or {}).items():
            metrics[f"estimated_{k}"] = v
        store.log_metrics(run_id, metrics)
    store.finish_run(
        run_id,
        info={"report": result.report_id, "status": "fail" if result.failed else "ok"},
    )


def history(store: Store, name: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Past monitor reports, oldest first: their summaries, ids and times."""
    rows = store.list_rows(kind=REPORT_KIND, name=name)
    rows = rows[-limit:] if limit else rows
    out = []
    for r in rows:
        art = store.get(r["id"])
        out.append(
            {
                "report_id": art.id,
                "version": art.version,
                "created_at": art.created_at,
                **art.metadata,
            }
        )
    return out


__all__ = ["MonitorResult", "WindowResult", "history", "monitor"]
