"""`evaluate`: score a model on its holdout (or a test set) and apply the gate in mlops.yaml.

Rules: absolute bounds, a bound relative to the model at an alias (scored on the same rows),
per-slice bounds and a largest gap between slices, and the p95 latency of single-row predict.
The evaluation is stored as an `evaluation` artifact whose parents are the model and the data.
With `promote`, the alias moves only when every rule passes (compare-and-swap on the holder
seen at the start, so two racing promoters cannot both win). Nothing here prints.
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError, MlopsError
from mlops.lifecycle import metrics as M
from mlops.lifecycle.model_io import HOLDOUT_FILE, MODEL_KIND, LoadedModel, load_model
from mlops.lifecycle.runs import fail_run_on_error

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlops.config import Config
    from mlops.config.evaluate import GateRule
    from mlops.store import Store
    from mlops.store.artifact import Artifact

EVALUATION_KIND = "evaluation"
EVALUATION_FILE = "evaluation.json"
MAX_SLICES = 50


@dataclass
class RuleResult:
    name: str
    kind: str
    metric: str | None
    value: float | None
    bound: str
    passed: bool
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = self.verdict
        return d


@dataclass
class EvaluationResult:
    model: dict[str, Any]
    data: dict[str, Any]
    task: str
    metrics: dict[str, float | None]
    rules: list[RuleResult]
    passed: bool
    run_id: str
    evaluation_id: str | None = None
    promotion: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rules"] = [r.to_dict() for r in self.rules]
        return d


@dataclass
class Scored:
    y: np.ndarray
    pred: np.ndarray
    proba: np.ndarray | None


def evaluate(
    config: Config,
    store: Store,
    model_ref: str | None = None,
    data: list[str | Path] | None = None,
    promote: str | None = None,
    command: str | None = None,
    who: str | None = None,
) -> EvaluationResult:
    """Score the model, apply every gate rule, store the evaluation, and maybe promote."""
    ref = model_ref or config.model.project
    candidate = load_model(store, ref)
    art = candidate.artifact
    expected_holder = store.get_alias(MODEL_KIND, art.name, promote) if promote else None
    run_id = store.start_run(
        step="evaluate", name=art.name, config_hash=config.hash, command=command
    )
    store.link_run(run_id, art.id, "input")
    with fail_run_on_error(store, run_id):
        result = _evaluate(
            config, store, candidate, data, promote, expected_holder, command, who, run_id
        )
    store.finish_run(
        run_id,
        info={"passed": result.passed, "model": art.id, "promotion": result.promotion},
    )
    return result


def _evaluate(
    config: Config,
    store: Store,
    candidate: LoadedModel,
    data: list[str | Path] | None,
    promote: str | None,
    expected_holder: str | None,
    command: str | None,
    who: str | None,
    run_id: str,
) -> EvaluationResult:
    art = candidate.artifact
    warnings_ = list(candidate.warnings)
    frame, data_info, data_parent = _scoring_frame(config, store, candidate, data, command)
    frame = _clean_target(candidate, frame, warnings_)
    if len(frame) == 0:
        raise InputError(f"the evaluation data has no rows with a value in {candidate.target!r}")
    rules = config.model.evaluate.gate
    n_classes = len(candidate.classes)
    for i, rule in enumerate(rules):
        if rule.metric:
            problem = M.check_metric(rule.metric, candidate.task, n_classes)
            if problem:
                raise config.error(("evaluate", "gate", i, "metric"), problem)
        if rule.slice and rule.slice not in frame.columns:
            raise config.error(
                ("evaluate", "gate", i, "slice"),
                f"column {rule.slice!r} is not in the evaluation data",
            )
    names = list(
        dict.fromkeys([*art.metadata.get("metrics", {}), *(r.metric for r in rules if r.metric)])
    )
    names = [n for n in names if M.check_metric(n, candidate.task, n_classes) is None]
    scored = _score(candidate, frame)
    metrics = _metrics(candidate, scored, names)

    champions: dict[str, tuple[Artifact | None, dict[str, float | None] | None, str | None]] = {}
    results: list[RuleResult] = []
    for rule in rules:
        if rule.kind == "absolute":
            results.append(_absolute(rule, metrics))
        elif rule.kind == "relative":
            assert rule.against is not None
            if rule.against not in champions:
                champions[rule.against] = _champion(store, candidate, rule.against, frame, names)
            results.append(_relative(rule, metrics, art, champions[rule.against]))
        elif rule.kind == "slice":
            results.append(_slice(rule, candidate, frame, scored))
        else:
            results.append(_latency(rule, candidate, frame))
    passed = all(r.passed for r in results)
    for alias, (champ, _, _) in champions.items():
        if champ is not None:
            store.link_run(run_id, champ.id, f"champion@{alias}")
    store.log_metrics(run_id, metrics)
    store.log_params(run_id, {"model": art.label, "data": data_info["source"], "rules": len(rules)})

    promotion = None
    if promote:
        promotion = _promote(store, art, promote, passed, results, expected_holder, who)
    result = EvaluationResult(
        model=art.summary(),
        data=data_info,
        task=candidate.task,
        metrics=metrics,
        rules=results,
        passed=passed,
        run_id=run_id,
        promotion=promotion,
        warnings=warnings_,
    )
    if not rules:
        warnings_.append("mlops.yaml has no evaluate.gate rules; the gate passes vacuously")
    parents = [art.id] + ([data_parent] if data_parent else [])
    ev = store.add_artifact(
        EVALUATION_KIND,
        art.name,
        {EVALUATION_FILE: json.dumps(_finite(result.to_dict()), indent=1, sort_keys=True).encode()},
        metadata={
            "passed": passed,
            "model": art.id,
            "model_label": art.label,
            "data": data_info["source"],
            "metrics": _finite(metrics),
            "failed_rules": [r.name for r in results if not r.passed],
        },
        parents=parents,
        run_id=run_id,
        command=command,
        reuse_unchanged=False,
    )
    result.evaluation_id = ev.id
    return result


# -- data ---------------------------------------------------------------------------------------
def _scoring_frame(
    config: Config,
    store: Store,
    candidate: LoadedModel,
    data: list[str | Path] | None,
    command: str | None,
) -> tuple[pd.DataFrame, dict[str, Any], str | None]:
    import pandas as pd

    from mlops.data.readers import CsvOptions, expand_paths, read_frame

    dc = config.model.data
    csv = CsvOptions(delimiter=dc.delimiter, encoding=dc.encoding)
    mode = config.model.evaluate.data
    specs: list[str | Path] | None = None
    base: Path | None = None
    if data:
        specs, source = list(data), "data"
    elif mode == "test" or (mode == "auto" and dc.test):
        if not dc.test:
            raise config.error(("evaluate", "data"), "evaluate.data is test but data.test is empty")
        specs, source, base = list(dc.test), "test", config.base_dir
    else:
        source = "holdout"
    art = candidate.artifact
    if specs is None:
        if HOLDOUT_FILE not in art.files:
            raise InputError(
                f"model {art.label} has no stored holdout", hint="pass --data TEST_FILE"
            )
        frame = pd.read_parquet(io.BytesIO(store.read_file(art, HOLDOUT_FILE)))
        return frame, {"source": "holdout", "rows": len(frame), "dataset": None}, None
    paths = expand_paths([str(s) for s in specs], base=base)
    frame = read_frame(paths, csv_options=csv)
    files: dict[str, Path] = {}
    for p in paths:
        name = p.name
        while name in files:
            name = "_" + name
        files[name] = p
    ds = store.add_artifact(
        "dataset",
        f"{art.name}-test",
        files,
        metadata={"source": [str(p) for p in paths], "rows": len(frame)},
        command=command,
    )
    info = {
        "source": source,
        "paths": [str(p) for p in paths],
        "rows": len(frame),
        "dataset": {"id": ds.id, "label": ds.label},
    }
    return frame, info, ds.id


def _clean_target(
    candidate: LoadedModel, frame: pd.DataFrame, warnings_: list[str]
) -> pd.DataFrame:
    import pandas as pd

    target = candidate.target
    if target not in frame.columns:
        raise InputError(
            f"the evaluation data has no target column {target!r}",
            hint="evaluate needs labelled data",
        )
    missing = int(frame[target].isna().sum())
    if missing:
        warnings_.append(f"skipped {missing} row(s) with no value in target {target!r}")
        frame = frame[frame[target].notna()].reset_index(drop=True)
    if candidate.task == "regression":
        y = pd.to_numeric(frame[target], errors="coerce")
        if y.isna().any():
            raise InputError(f"target {target!r} has non-numeric values in the evaluation data")
        frame = frame.copy()
        frame[target] = y.astype(float)
    return frame


def _score(model: LoadedModel, frame: pd.DataFrame) -> Scored:
    import numpy as np

    pred, proba = model.predict(frame)
    y = frame[model.target].to_numpy()
    if model.task == "classification" and model.classes:
        y = _as_classes(y, model.classes)
    return Scored(np.asarray(y), np.asarray(pred), proba)


def _as_classes(y: np.ndarray, classes: list[Any]) -> np.ndarray:
    """Map labels read from a file onto the model's class values (e.g. '1' -> 1)."""
    import numpy as np

    lookup = {str(c): c for c in classes}
    if all(v in classes for v in y[:1000]):
        return y
    return np.asarray([lookup.get(str(v), v) for v in y], dtype=object)


def _metrics(model: LoadedModel, s: Scored, names: list[str]) -> dict[str, float | None]:
    classes = model.classes or None
    return M.compute(names, s.y, s.pred, s.proba, classes, model.positive_class)


# -- rules --------------------------------------------------------------------------------------
def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4g}"


def _bounds(rule: GateRule) -> str:
    parts = []
    if rule.min is not None:
        parts.append(f">= {rule.min:g}")
    if rule.max is not None:
        parts.append(f"<= {rule.max:g}")
    return " and ".join(parts)


def _within(rule: GateRule, v: float) -> bool:
    return (rule.min is None or v >= rule.min) and (rule.max is None or v <= rule.max)


def _absolute(rule: GateRule, metrics: dict[str, float | None]) -> RuleResult:
    assert rule.metric is not None
    v = metrics.get(rule.metric)
    bound = _bounds(rule)
    if v is None:
        return RuleResult(
            rule.label,
            "absolute",
            rule.metric,
            None,
            bound,
            False,
            f"{rule.metric} is undefined on this data",
        )
    ok = _within(rule, v)
    return RuleResult(
        rule.label,
        "absolute",
        rule.metric,
        v,
        bound,
        ok,
        f"{rule.metric} = {_fmt(v)} {'meets' if ok else 'misses'} {bound}",
    )


def _champion(
    store: Store, candidate: LoadedModel, alias: str, frame: pd.DataFrame, names: list[str]
) -> tuple[Artifact | None, dict[str, float | None] | None, str | None]:
    holder = store.get_alias(MODEL_KIND, candidate.artifact.name, alias)
    if holder is None:
        return None, None, None
    champ = load_model(store, store.get(holder))
    candidate.warnings.extend(w for w in champ.warnings if w not in candidate.warnings)
    if holder == candidate.artifact.id:
        return champ.artifact, None, None
    try:
        scored = _score(champ, frame)
    except MlopsError as e:
        return champ.artifact, None, e.message
    except (ValueError, TypeError, KeyError) as e:
        return champ.artifact, None, f"{type(e).__name__}: {e}"
    return champ.artifact, _metrics(champ, scored, names), None


def _relative(
    rule: GateRule,
    metrics: dict[str, float | None],
    art: Artifact,
    champion: tuple[Artifact | None, dict[str, float | None] | None, str | None],
) -> RuleResult:
    assert rule.metric is not None and rule.max_drop is not None
    champ, champ_metrics, problem = champion
    v = metrics.get(rule.metric)
    higher = M.greater_is_better(rule.metric)
    bound = f"{'drop' if higher else 'rise'} <= {rule.max_drop:g} vs @{rule.against}"
    if champ is None:
        return RuleResult(
            rule.label,
            "relative",
            rule.metric,
            v,
            bound,
            True,
            f"no model holds @{rule.against} yet; nothing to compare with, so the rule passes",
            {"champion": None},
        )
    extra: dict[str, Any] = {"champion": {"id": champ.id, "label": champ.label}}
    if champ.id == art.id:
        return RuleResult(
            rule.label,
            "relative",
            rule.metric,
            v,
            bound,
            True,
            f"this model already holds @{rule.against}",
            extra,
        )
    if problem or champ_metrics is None:
        return RuleResult(
            rule.label,
            "relative",
            rule.metric,
            v,
            bound,
            False,
            f"@{rule.against} ({champ.label}) cannot score this data: {problem}",
            extra,
        )
    c = champ_metrics.get(rule.metric)
    extra["champion_value"] = c
    if v is None or c is None:
        return RuleResult(
            rule.label,
            "relative",
            rule.metric,
            v,
            bound,
            False,
            f"{rule.metric} is undefined on this data",
            extra,
        )
    worse_by = (c - v) if higher else (v - c)
    extra["worse_by"] = worse_by
    ok = worse_by <= rule.max_drop + 1e-12
    change = v - c
    return RuleResult(
        rule.label,
        "relative",
        rule.metric,
        v,
        bound,
        ok,
        f"{rule.metric} = {_fmt(v)} vs {_fmt(c)} for @{rule.against} ({champ.label}) on the "
        f"same rows: change {change:+.4g}",
        extra,
    )


def _slice_groups(series: pd.Series) -> pd.Series:
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if numeric and series.nunique() > MAX_SLICES:
        return pd.qcut(series, q=4, duplicates="drop").astype(str)
    return series.astype(object).where(series.notna(), "(missing)").astype(str)


def _slice(rule: GateRule, model: LoadedModel, frame: pd.DataFrame, s: Scored) -> RuleResult:
    import numpy as np

    assert rule.metric is not None and rule.slice is not None
    groups = _slice_groups(frame[rule.slice]).to_numpy()
    values = sorted(set(groups.tolist()))
    slices: list[dict[str, Any]] = []
    skipped: list[str] = []
    for g in values[: MAX_SLICES * 4]:
        mask = groups == g
        n = int(mask.sum())
        if n < rule.min_rows:
            skipped.append(f"{g} ({n} rows)")
            continue
        proba = None if s.proba is None else s.proba[mask]
        v = M.compute(
            [rule.metric],
            s.y[mask],
            s.pred[mask],
            proba,
            model.classes or None,
            model.positive_class,
        )[rule.metric]
        if v is None:
            skipped.append(f"{g} (undefined)")
            continue
        slices.append({"slice": g, "rows": n, "value": v, "passed": _within(rule, v)})
    bound_parts = [p for p in (_bounds(rule),) if p]
    if rule.max_gap is not None:
        bound_parts.append(f"gap <= {rule.max_gap:g}")
    bound = ", ".join(bound_parts)
    extra: dict[str, Any] = {"column": rule.slice, "slices": slices, "skipped": skipped}
    if not slices:
        return RuleResult(
            rule.label,
            "slice",
            rule.metric,
            None,
            bound,
            False,
            f"no slice of {rule.slice!r} has {rule.min_rows}+ rows with a defined {rule.metric}",
            extra,
        )
    vals = np.array([d["value"] for d in slices])
    higher = M.greater_is_better(rule.metric)
    worst = slices[int(np.argmin(vals) if higher else np.argmax(vals))]
    gap = float(vals.max() - vals.min())
    extra["gap"] = gap
    problems = [f"{d['slice']} = {_fmt(d['value'])}" for d in slices if not d["passed"]]
    ok = not problems
    if rule.max_gap is not None and gap > rule.max_gap + 1e-12:
        ok = False
        problems.append(f"gap {gap:.4g} > {rule.max_gap:g}")
    detail = (
        f"{len(slices)} slice(s) of {rule.slice!r}: worst {worst['slice']} = {_fmt(worst['value'])}, "
        f"gap {gap:.4g}"
    )
    if problems:
        detail += "; failing: " + ", ".join(problems[:5])
    if skipped:
        detail += f"; skipped {len(skipped)} small/undefined slice(s)"
    return RuleResult(rule.label, "slice", rule.metric, worst["value"], bound, ok, detail, extra)


def _latency(rule: GateRule, model: LoadedModel, frame: pd.DataFrame) -> RuleResult:
    """p95 of single-row predict, in CPU time of the calling thread.

    CPU time is what the model costs; wall time on a shared machine adds whatever else runs,
    so a gate on it would pass or fail with the load. Wall time is reported beside it.
    """
    import numpy as np
    from threadpoolctl import threadpool_limits

    assert rule.latency_p95_ms is not None
    x = model.inputs(frame)
    n = min(rule.latency_calls, len(x))
    rng = np.random.default_rng(0)
    rows = [x.iloc[[int(i)]] for i in rng.choice(len(x), n, replace=len(x) < n)]
    cpu, wall = [], []
    # one thread, as one request in one serving worker, so that the thread's CPU clock sees all
    # of the work (and thread pools spun up per row only add overhead)
    with threadpool_limits(limits=1):
        for r in rows[:5]:
            model.pipeline.predict(r)
        for r in rows:
            c, t = time.thread_time(), time.perf_counter()
            model.pipeline.predict(r)
            cpu.append((time.thread_time() - c) * 1000.0)
            wall.append((time.perf_counter() - t) * 1000.0)
    p95 = float(np.percentile(cpu, 95))
    p50 = float(np.percentile(cpu, 50))
    wall_p95 = float(np.percentile(wall, 95))
    ok = p95 < rule.latency_p95_ms
    return RuleResult(
        rule.label,
        "latency",
        None,
        p95,
        f"< {rule.latency_p95_ms:g} ms",
        ok,
        f"p95 {p95:.2f} ms CPU (p50 {p50:.2f} ms; wall p95 {wall_p95:.2f} ms) over {n} "
        "single-row predict calls, one thread",
        {"p50_ms": p50, "wall_p95_ms": wall_p95, "calls": n, "clock": "thread CPU time"},
    )


# -- promotion ----------------------------------------------------------------------------------
def _promote(
    store: Store,
    art: Artifact,
    alias: str,
    passed: bool,
    results: list[RuleResult],
    expected_holder: str | None,
    who: str | None,
) -> dict[str, Any]:
    previous = None
    if expected_holder is not None:
        previous = {"id": expected_holder, "label": store.get(expected_holder).label}
    if not passed:
        failed = [r.name for r in results if not r.passed]
        return {
            "alias": alias,
            "moved": False,
            "reason": "gate failed: " + "; ".join(failed),
            "previous": previous,
        }
    if expected_holder == art.id:
        return {
            "alias": alias,
            "moved": False,
            "reason": f"{art.label} already holds @{alias}",
            "previous": previous,
        }
    why = f"gate passed ({len(results)} rule(s))"
    if results:
        why += ": " + "; ".join(f"{r.name} [{_short(r)}]" for r in results)
    store.set_alias(art, alias, why=why[:500], who=who, expect_from=expected_holder)
    return {"alias": alias, "moved": True, "reason": why[:500], "previous": previous}


def _short(r: RuleResult) -> str:
    if r.kind == "relative" and not r.extra.get("champion"):
        return "no champion yet"
    if r.kind == "relative" and "champion_value" in r.extra:
        return f"{_fmt(r.value)} vs {_fmt(r.extra['champion_value'])}"
    return _fmt(r.value)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj
