"""`evaluate`: score a model on its holdout (or a test set) and apply the gate in mlops.yaml.

Rules: absolute bounds, a bound relative to the model at an alias (scored on the same rows),
per-slice bounds and a largest gap between slices, and the p95 latency of single-row predict.
The evaluation is stored as an `evaluation` artifact whose parents are the model and the data.
With `promote`, the alias moves only when every rule passes (compare-and-swap on the holder
seen at the start, so two racing promoters cannot both win). Nothing here prints.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import InputError
from mlops.jsonable import fields_dict
from mlops.lifecycle import metrics as M
from mlops.lifecycle.evaluate import rules as R
from mlops.lifecycle.evaluate.rules import RuleResult
from mlops.lifecycle.evaluate.scoring import clean_target, metrics_of, score, scoring_frame
from mlops.lifecycle.model_io import MODEL_KIND, LoadedModel, load_model
from mlops.lifecycle.runs import fail_run_on_error

if TYPE_CHECKING:
    import pandas as pd

    from mlops.config import Config
    from mlops.config.evaluate import GateRule
    from mlops.lifecycle.evaluate.rules import Champion
    from mlops.lifecycle.evaluate.scoring import Scored
    from mlops.store import Store
    from mlops.store.artifact import Artifact

EVALUATION_KIND = "evaluation"
EVALUATION_FILE = "evaluation.json"


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
        return fields_dict(self)


def evaluate(
    config: Config,
    store: Store,
    model_ref: str | None = None,
    data: list[str | Path] | None = None,
    promote: str | None = None,
    command: str | None = None,
    who: str | None = None,
    store_data: bool = False,
) -> EvaluationResult:
    """The gate: score a model, apply every rule of `evaluate.gate`, store the evaluation.

    Args:
        config: the project's config.
        store: the store holding the model (and the champion, for relative rules).
        model_ref: the model to evaluate (default: the latest model of the project).
        data: files, globs or object-storage URLs to score (default: data.test or the
            model's stored holdout).
        promote: an alias to move to the model when every rule passes (compare-and-swap).
        command: the command line, recorded with the run.
        who: recorded with an alias move (default: $MLOPS_USER or the login name).
        store_data: also copy data read from object storage into the store (it is always
            recorded by URL, size and ETag/version).

    Returns:
        The result: each rule's value, bound and verdict, `passed`, and the promotion outcome.

    Raises:
        NotFoundError: the model or a referenced alias does not exist.
        InputError: the data cannot be read or does not match the model's signature.
    """
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
            config,
            store,
            candidate,
            (data, store_data),
            promote,
            expected_holder,
            command,
            who,
            run_id,
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
    data: tuple[list[str | Path] | None, bool],
    promote: str | None,
    expected_holder: str | None,
    command: str | None,
    who: str | None,
    run_id: str,
) -> EvaluationResult:
    art = candidate.artifact
    warnings_ = list(candidate.warnings)
    specs, store_data = data  # the files to score, and whether to copy objects into the store
    frame, data_info, data_parent = scoring_frame(
        config, store, candidate, specs, command, store_data
    )
    frame = clean_target(candidate, frame, warnings_)
    if len(frame) == 0:
        raise InputError(f"the evaluation data has no rows with a value in {candidate.target!r}")
    rules = config.model.evaluate.gate
    _check_rules(config, candidate, frame)
    names = _metric_names(candidate, rules)
    scored = score(candidate, frame)
    metrics = metrics_of(candidate, scored, names)
    results, champions = _apply_rules(store, rules, candidate, frame, scored, metrics, names)
    passed = all(r.passed for r in results)
    for alias, champ in champions.items():
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
    result.evaluation_id = _store_evaluation(store, result, parents, command)
    return result


def _check_rules(config: Config, candidate: LoadedModel, frame: pd.DataFrame) -> None:
    """Every gate metric suits the model's task; every slice column is in the data."""
    n_classes = len(candidate.classes)
    for i, rule in enumerate(config.model.evaluate.gate):
        if rule.metric:
            problem = M.check_metric(rule.metric, candidate.task, n_classes)
            if problem:
                raise config.error(("evaluate", "gate", i, "metric"), problem)
        if rule.slice and rule.slice not in frame.columns:
            raise config.error(
                ("evaluate", "gate", i, "slice"),
                f"column {rule.slice!r} is not in the evaluation data",
            )


def _metric_names(candidate: LoadedModel, rules: list[GateRule]) -> list[str]:
    """The model's training metrics and the gate's, those defined for its task."""
    art = candidate.artifact
    names = list(
        dict.fromkeys([*art.metadata.get("metrics", {}), *(r.metric for r in rules if r.metric)])
    )
    n_classes = len(candidate.classes)
    return [n for n in names if M.check_metric(n, candidate.task, n_classes) is None]


def _apply_rules(
    store: Store,
    rules: list[GateRule],
    candidate: LoadedModel,
    frame: pd.DataFrame,
    scored: Scored,
    metrics: dict[str, float | None],
    names: list[str],
) -> tuple[list[RuleResult], dict[str, Artifact | None]]:
    """Each rule's result, and the model at each alias a relative rule compared with."""
    champions: dict[str, Champion] = {}
    results: list[RuleResult] = []
    for rule in rules:
        t0 = time.perf_counter()
        if rule.kind == "absolute":
            results.append(R.absolute(rule, metrics))
        elif rule.kind == "relative":
            assert rule.against is not None
            if rule.against not in champions:
                champions[rule.against] = R.champion(store, candidate, rule.against, frame, names)
            results.append(R.relative(rule, metrics, candidate.artifact, champions[rule.against]))
        elif rule.kind == "slice":
            results.append(R.slice_rule(rule, candidate, frame, scored))
        else:
            results.append(R.latency(rule, candidate, frame))
        results[-1].seconds = round(time.perf_counter() - t0, 6)
    return results, {alias: champ for alias, (champ, _, _) in champions.items()}


def _store_evaluation(
    store: Store, result: EvaluationResult, parents: list[str], command: str | None
) -> str:
    """Store the evaluation artifact; its id."""
    art_name = result.model["name"]
    ev = store.add_artifact(
        EVALUATION_KIND,
        art_name,
        {EVALUATION_FILE: json.dumps(_finite(result.to_dict()), indent=1, sort_keys=True).encode()},
        metadata={
            "passed": result.passed,
            "model": result.model["id"],
            "model_label": result.model["label"],
            "data": result.data["source"],
            "metrics": _finite(result.metrics),
            "failed_rules": [r.name for r in result.rules if not r.passed],
        },
        parents=parents,
        run_id=result.run_id,
        command=command,
        reuse_unchanged=False,
    )
    return ev.id


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
        why += ": " + "; ".join(f"{r.name} [{R.short(r)}]" for r in results)
    store.set_alias(art, alias, why=why[:500], who=who, expect_from=expected_holder)
    return {"alias": alias, "moved": True, "reason": why[:500], "previous": previous}


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj
