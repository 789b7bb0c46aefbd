"""From the profiles of a scanned batch to figures: per window and overall, data drift, data
quality, prediction drift, target drift, and realised or estimated performance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops.lifecycle.monitor.result import WindowResult
from mlops.lifecycle.monitor.scan import WindowState, merge_states, subset
from mlops.lifecycle.monitor.windows import display_key, sort_keys

if TYPE_CHECKING:
    from mlops.config import Config
    from mlops.lifecycle.monitor.data import Reference
    from mlops.lifecycle.monitor.performance import Calibrator
    from mlops.store import Store
    from mlops.store.artifact import Artifact


def drift_overrides(config: Config, features: list[str]) -> dict[str, dict]:
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


def quality_thresholds(config: Config, features: list[str]) -> tuple[Any, dict[str, Any]]:
    """The quality rules' thresholds from `monitor.quality`: defaults and per column."""
    from mlops.stats.quality import QualityThresholds

    qc = config.model.monitor.quality
    base = QualityThresholds(
        qc.missing_rise,
        qc.missing_rise_relative,
        qc.missing_alpha,
        qc.out_of_range_share,
        qc.unseen_share,
        qc.alpha,
    )
    per: dict[str, Any] = {}
    for name, opt in qc.columns.items():
        if name not in features:
            raise config.error(
                ("monitor", "quality", "columns", name),
                f"{name!r} is not a feature of the model",
                hint=f"features: {', '.join(features[:20])}",
            )
        per[name] = base.replace(**opt.model_dump())
    return base, per


def metric_names(config: Config, ref: Reference) -> list[str]:
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


def fit_calibrator(store: Store, ref: Reference, notes: list[str]) -> Calibrator | None:
    """Isotonic calibration of the class probabilities on the model's holdout."""
    from mlops.lifecycle.monitor.data import load_holdout
    from mlops.lifecycle.monitor.performance import Calibrator

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


def holdout_errors(
    store: Store, ref: Reference, names: list[str]
) -> tuple[dict[str, float | None], int | None]:
    """The standard error of each holdout metric (the reference figures' sampling noise), and
    the holdout's labelled rows; ({}, None) when the model stored no usable holdout."""
    from mlops.lifecycle.monitor.data import load_holdout
    from mlops.lifecycle.monitor.performance import realised, realised_errors

    holdout = load_holdout(store, ref.artifact)
    if holdout is None or ref.target not in holdout or ref.prediction not in holdout:
        return {}, None
    cols = list(ref.proba.values())
    proba = (
        holdout[cols].to_numpy(dtype=float) if cols and all(c in holdout for c in cols) else None
    )
    y = holdout[ref.target].to_numpy(dtype=object)
    pred = holdout[ref.prediction].to_numpy(dtype=object)
    classes = ref.classes or None
    values = realised(names, y, pred, proba, classes, ref.positive)
    errors = realised_errors(names, values, y, pred, proba, classes, ref.positive)
    return errors, int(holdout[ref.target].notna().sum())


def assess_windows(
    states: dict[str, WindowState],
    ref: Reference,
    config: Config,
    overrides: dict[str, dict],
    names: list[str],
    calibrator: Calibrator | None,
    windowed: bool,
) -> tuple[WindowState, WindowResult, list[WindowResult]]:
    """The merged state of all windows, its figures, and each window's (when windowed)."""
    keys = sort_keys(list(states))
    overall_state = merge_states([states[k] for k in keys])
    overall = assess_window("all", overall_state, ref, config, overrides, names, calibrator)
    windows = (
        [assess_window(k, states[k], ref, config, overrides, names, calibrator) for k in keys]
        if windowed
        else []
    )
    return overall_state, overall, windows


def assess_window(
    key: str,
    st: WindowState,
    ref: Reference,
    config: Config,
    overrides: dict[str, dict],
    names: list[str],
    calibrator: Calibrator | None,
) -> WindowResult:
    from mlops.lifecycle.monitor.performance import realised, realised_errors
    from mlops.stats.drift import compute_drift
    from mlops.stats.quality import compute_quality

    dc = config.model.monitor.drift
    feat_ref = subset(ref.data, ref.features)
    drift = compute_drift(feat_ref, st.features, overrides, dc.correction, dc.drift_share)
    quality = compute_quality(feat_ref, st.features, *quality_thresholds(config, ref.features))
    out_ref = subset(ref.outputs, list(st.outputs.columns))
    pred_drift = compute_drift(out_ref, st.outputs, None, dc.correction, 1.0)
    target_drift = None
    if st.target is not None and st.labelled:
        target_drift = compute_drift(
            subset(ref.data, [ref.target]), st.target, None, dc.correction, 1.0, significant=True
        ).as_reported()
    y, pred, proba = st.sample.arrays()
    performance = performance_se = None
    classes = ref.classes or None
    if st.labelled:
        performance = realised(names, y, pred, proba, classes, ref.positive)
        performance_se = realised_errors(names, performance, y, pred, proba, classes, ref.positive)
    estimated = estimated_se = None
    if calibrator is not None and proba is not None and len(pred):
        estimated = calibrator.estimate(pred, proba, names)
        estimated_se = calibrator.estimate_errors(pred, proba, names, estimated)
    return WindowResult(
        key=key,
        label=display_key(key),
        rows=st.rows,
        drift=drift.as_reported(),
        quality=quality,
        prediction_drift=pred_drift.as_reported(),
        target_drift=target_drift,
        performance=performance,
        estimated=estimated,
        labelled_rows=st.labelled,
        performance_se=performance_se,
        estimated_se=estimated_se,
    )


def performance_block(
    config: Config,
    art: Artifact,
    overall: WindowResult,
    names: list[str],
    labelled: int,
    calibrator: Calibrator | None,
    reference_se: tuple[dict[str, float | None], int | None] = ({}, None),
) -> dict[str, Any]:
    """The report's performance section: reference, realised and estimated figures, their
    standard errors, and the settings of the performance rule."""
    pc = config.model.monitor.performance
    reference_metrics = {m: v for m, v in (art.metadata.get("metrics") or {}).items() if m in names}
    performance: dict[str, Any] = {
        "metrics": names,
        "reference": reference_metrics,
        "realised": overall.performance,
        "estimated": overall.estimated if not labelled else None,
        "labelled_rows": labelled,
        "max_drop": pc.max_drop,
        "max_rise": pc.max_rise,
        "calibration": calibrator.source if calibrator is not None else None,
        "rows": overall.rows,
        "holdout_rows": reference_se[1],
        "standard_errors": {
            "reference": reference_se[0],
            "realised": overall.performance_se,
            "estimated": overall.estimated_se,
        },
        "alpha": pc.alpha,
        "min_rows": pc.min_rows,
    }
    if calibrator is not None and labelled:
        performance["estimated"] = overall.estimated  # shown next to the realised figures
    return performance
