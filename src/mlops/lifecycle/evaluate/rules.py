"""The gate's rules: absolute bounds on a metric, a bound relative to the model at an alias
(scored on the same rows), per-slice bounds with a largest gap between slices, and the p95
latency of single-row predict. Each rule gives a RuleResult."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlops.errors import MlopsError
from mlops.jsonable import fields_dict
from mlops.lifecycle import metrics as M
from mlops.lifecycle.evaluate.scoring import Scored, metrics_of, score
from mlops.lifecycle.model_io import MODEL_KIND, LoadedModel, load_model

if TYPE_CHECKING:
    import pandas as pd

    from mlops.config.evaluate import GateRule
    from mlops.store import Store
    from mlops.store.artifact import Artifact

    # the model at a relative rule's alias: its artifact, its metrics on the same rows, or why not
    Champion = tuple[Artifact | None, dict[str, float | None] | None, str | None]

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
    seconds: float = 0.0  # the time the rule took (JUnit's per-case time)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    def to_dict(self) -> dict[str, Any]:
        return {**fields_dict(self), "verdict": self.verdict}


def fmt(v: float | None) -> str:
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


def absolute(rule: GateRule, metrics: dict[str, float | None]) -> RuleResult:
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
        f"{rule.metric} = {fmt(v)} {'meets' if ok else 'misses'} {bound}",
    )


def champion(
    store: Store, candidate: LoadedModel, alias: str, frame: pd.DataFrame, names: list[str]
) -> Champion:
    """The model at alias and its metrics on frame (None when nothing holds the alias, or when
    the candidate itself does); the problem when it cannot score frame."""
    holder = store.get_alias(MODEL_KIND, candidate.artifact.name, alias)
    if holder is None:
        return None, None, None
    champ = load_model(store, store.get(holder))
    candidate.warnings.extend(w for w in champ.warnings if w not in candidate.warnings)
    if holder == candidate.artifact.id:
        return champ.artifact, None, None
    try:
        scored = score(champ, frame)
    except MlopsError as e:
        return champ.artifact, None, e.message
    except (ValueError, TypeError, KeyError) as e:
        return champ.artifact, None, f"{type(e).__name__}: {e}"
    return champ.artifact, metrics_of(champ, scored, names), None


def relative(
    rule: GateRule,
    metrics: dict[str, float | None],
    art: Artifact,
    champion: Champion,
) -> RuleResult:
    assert rule.metric is not None and rule.max_drop is not None
    champ, champ_metrics, problem = champion
    v = metrics.get(rule.metric)
    higher = M.greater_is_better(rule.metric)
    bound = f"{'drop' if higher else 'rise'} <= {rule.max_drop:g} vs @{rule.against}"

    def result(passed: bool, detail: str, extra: dict[str, Any]) -> RuleResult:
        return RuleResult(rule.label, "relative", rule.metric, v, bound, passed, detail, extra)

    if champ is None:
        return result(
            True,
            f"no model holds @{rule.against} yet; nothing to compare with, so the rule passes",
            {"champion": None},
        )
    extra: dict[str, Any] = {"champion": {"id": champ.id, "label": champ.label}}
    if champ.id == art.id:
        return result(True, f"this model already holds @{rule.against}", extra)
    if problem or champ_metrics is None:
        return result(
            False, f"@{rule.against} ({champ.label}) cannot score this data: {problem}", extra
        )
    c = champ_metrics.get(rule.metric)
    extra["champion_value"] = c
    if v is None or c is None:
        return result(False, f"{rule.metric} is undefined on this data", extra)
    worse_by = (c - v) if higher else (v - c)
    extra["worse_by"] = worse_by
    ok = worse_by <= rule.max_drop + 1e-12
    change = v - c
    return result(
        ok,
        f"{rule.metric} = {fmt(v)} vs {fmt(c)} for @{rule.against} ({champ.label}) on the "
        f"same rows: change {change:+.4g}",
        extra,
    )


def _slice_groups(series: pd.Series) -> pd.Series:
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if numeric and series.nunique() > MAX_SLICES:
        return pd.qcut(series, q=4, duplicates="drop").astype(str)
    return series.astype(object).where(series.notna(), "(missing)").astype(str)


def slice_rule(rule: GateRule, model: LoadedModel, frame: pd.DataFrame, s: Scored) -> RuleResult:
    # long: the per-slice scores, then the worst slice and gap against the rule's bounds
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
    problems = [f"{d['slice']} = {fmt(d['value'])}" for d in slices if not d["passed"]]
    ok = not problems
    if rule.max_gap is not None and gap > rule.max_gap + 1e-12:
        ok = False
        problems.append(f"gap {gap:.4g} > {rule.max_gap:g}")
    detail = (
        f"{len(slices)} slice(s) of {rule.slice!r}: worst {worst['slice']} = {fmt(worst['value'])}, "
        f"gap {gap:.4g}"
    )
    if problems:
        detail += "; failing: " + ", ".join(problems[:5])
    if skipped:
        detail += f"; skipped {len(skipped)} small/undefined slice(s)"
    return RuleResult(rule.label, "slice", rule.metric, worst["value"], bound, ok, detail, extra)


def latency(rule: GateRule, model: LoadedModel, frame: pd.DataFrame) -> RuleResult:
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


def short(r: RuleResult) -> str:
    if r.kind == "relative" and not r.extra.get("champion"):
        return "no champion yet"
    if r.kind == "relative" and "champion_value" in r.extra:
        return f"{fmt(r.value)} vs {fmt(r.extra['champion_value'])}"
    return fmt(r.value)
