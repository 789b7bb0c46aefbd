"""`retrain`: close the loop. Monitor the current batch against the champion (or read the latest
monitoring report); when the policy in mlops.yaml triggers, build the training set it declares,
train a candidate, score candidate and champion on the same held-out slice of the current batch,
and either move the alias (compare-and-swap on the holder seen at the start) or keep the champion.

One retrain at a time per store: the `retrain` lock is an flock, so the kernel releases it when
its holder dies and a crashed retrain leaves nothing stale. Every step is linked: the monitoring
report is a parent of the training dataset, the dataset of the model, the model of its
evaluation, and a `retrain` record names them all with the alias move. Nothing here prints.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import ExitCode, LockedError, UsageError
from mlops.jsonable import fields_dict
from mlops.lifecycle.model_io import MODEL_KIND
from mlops.lifecycle.monitor.result import REPORT_KIND
from mlops.lifecycle.runs import fail_run_on_error, type_and_text

if TYPE_CHECKING:
    import pandas as pd

    from mlops.config import Config
    from mlops.data.readers import DataFile
    from mlops.lifecycle.evaluate import EvaluationResult
    from mlops.store import Store
    from mlops.store.artifact import Artifact

Progress = Callable[[str], None]

RETRAIN_KIND = "retrain"
LOCK_NAME = "retrain"
NO_RETRAIN, PROMOTED, KEPT, DRY_RUN = "no-retrain", "promoted", "kept", "dry-run"
_RANK = {"info": 0, "warning": 1, "critical": 2}


class RetrainLocked(LockedError):
    """Another retrain holds the store's retrain lock (exit code from retrain.locked_exit_code)."""

    def __init__(self, message: str, hint: str | None, exit_code: int) -> None:
        super().__init__(message, hint)
        self.exit_code = exit_code  # type: ignore[assignment]


@dataclass
class RetrainResult:
    decision: str
    reasons: list[str]
    why: str
    alias: str
    champion: dict[str, Any] | None
    monitor: dict[str, Any]
    training_set: dict[str, Any] | None = None
    candidate: dict[str, Any] | None = None
    comparison: dict[str, Any] | None = None
    evaluation_id: str | None = None
    alias_move: dict[str, Any] | None = None
    run_id: str | None = None
    train_run_id: str | None = None
    record_id: str | None = None
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.CHECK_FAILED if self.decision == KEPT else ExitCode.OK)

    def to_dict(self) -> dict[str, Any]:
        return {**fields_dict(self), "exit_code": self.exit_code}


def champion_alias(config: Config) -> str:
    return config.model.retrain.alias or config.model.pipeline.promote or "production"


# -- the entry point ----------------------------------------------------------------------------
def retrain(
    config: Config,
    store: Store,
    data: list[str] | None = None,
    *,
    force: bool = False,
    dry_run: bool = False,
    wait: bool | None = None,
    latest_report: bool = False,
    command: str | None = None,
    who: str | None = None,
    progress: Progress | None = None,
) -> RetrainResult:
    """Decide whether to retrain; when the policy says so, retrain, gate the candidate against
    the champion on held-out recent rows, and promote it or keep the champion.

    Args:
        config: the project's config; `retrain:` holds the triggers and the training-set policy.
        store: the store.
        data: the current batch (default: `data.current`).
        force: retrain even when no trigger fires.
        dry_run: decide and plan the training set; change nothing.
        wait: queue behind another retrain instead of exiting 1 (default: `retrain.wait`).
        latest_report: use the latest monitor report of the batch instead of monitoring again.
        command: the command line, recorded with the run.
        who: recorded with an alias move.
        progress: called with a short message at each stage.

    Returns:
        The decision (`no-retrain`, `promoted`, `kept`, `dry-run`), its reasons and lineage.

    Raises:
        RetrainLocked: another retrain holds the store's retrain lock (exit 1 by default).
        UsageError: no model holds the champion alias yet, or `latest_report` finds no
            report.
        InputError: the batch cannot be read.
    """
    say = progress or (lambda _msg: None)
    rc = config.model.retrain
    wait = rc.wait if wait is None else wait
    if dry_run:
        return _retrain(config, store, data, force, True, latest_report, command, who, say)
    lock = store.lock(LOCK_NAME, wait=wait)
    try:
        say("waiting for another retrain to finish" if wait else "taking the retrain lock")
        lock.__enter__()
    except LockedError:
        holder = _lock_holder(store)
        raise RetrainLocked(
            "another retrain is running on this store" + (f" ({holder})" if holder else ""),
            "pass --wait (or set retrain.wait: true) to queue behind it",
            rc.locked_exit_code,
        ) from None
    try:
        return _retrain(config, store, data, force, False, latest_report, command, who, say)
    finally:
        lock.__exit__(None, None, None)


def _lock_holder(store: Store) -> str:
    try:
        text = (store.root / "locks" / f"{LOCK_NAME}.lock").read_text().split()
    except OSError:
        return ""
    return f"pid {text[0]} on {text[1]} since {text[2]}" if len(text) >= 3 else ""


def _retrain(
    config: Config,
    store: Store,
    data: list[str] | None,
    force: bool,
    dry_run: bool,
    latest_report: bool,
    command: str | None,
    who: str | None,
    say: Progress,
) -> RetrainResult:
    # long: decide (champion, triggers, dry run), then run the retrain steps in one run
    t0 = time.perf_counter()
    alias = champion_alias(config)
    name = config.model.project
    champion_id = store.get_alias(MODEL_KIND, name, alias)
    if champion_id is None:
        raise UsageError(
            f"no model holds @{alias} yet, so there is no champion to retrain",
            hint="run `mlops run` (train, evaluate and promote) first",
        )
    champion = store.get(champion_id)
    metric = _compare_metric(config, champion)
    specs = _current_specs(config, data)
    say("monitoring the current batch")
    report = _monitoring(config, store, specs, champion, latest_report, command)
    reasons = _triggers(config, report, champion, metric, force)
    result = RetrainResult(
        decision=NO_RETRAIN,
        reasons=reasons,
        why="",
        alias=alias,
        champion=_label(champion),
        monitor=report,
    )
    if not reasons:
        result.why = f"no trigger fired; {champion.label} stays @{alias}"
        result.duration_s = round(time.perf_counter() - t0, 4)
        return result

    plan = training_plan(config, specs)
    result.training_set = {k: v for k, v in plan.items() if k != "paths"}
    if dry_run:
        result.decision = DRY_RUN
        result.why = _would_retrain(config, reasons, plan, champion, alias)
        result.duration_s = round(time.perf_counter() - t0, 4)
        return result

    run_id = store.start_run(
        "retrain",
        name=name,
        config_hash=config.hash,
        command=command,
        info={"reasons": reasons, "policy": plan["policy"], "alias": alias},
    )
    result.run_id = run_id
    with fail_run_on_error(store, run_id, describe=type_and_text):
        _retrain_steps(config, store, result, plan, champion, metric, command, who, say)
    result.duration_s = round(time.perf_counter() - t0, 4)
    store.finish_run(
        run_id,
        status="succeeded",
        info={"decision": result.decision, "why": result.why, "record": result.record_id},
    )
    return result


def _current_specs(config: Config, data: list[str] | None) -> list[str]:
    """The current batch as absolute paths (URLs as they are): paths given by the caller are
    relative to the working directory (as for `mlops monitor`), data.current to mlops.yaml."""
    from mlops.data.urls import is_url

    if data:
        return [s if is_url(s) else str(Path(s).absolute()) for s in data]
    current = config.model.data.current
    return [s if is_url(s) else str(config.resolve_path(s).absolute()) for s in current]


def _would_retrain(
    config: Config, reasons: list[str], plan: dict[str, Any], champion: Artifact, alias: str
) -> str:
    """What a retrain would do (--dry-run)."""
    return (
        f"would retrain ({'; '.join(reasons)}) on {plan['policy']}: "
        f"{len(plan['files'])} file(s), then compare with {champion.label} on "
        f"{config.model.retrain.holdout_fraction:.0%} of the current batch and promote to "
        f"@{alias} if it wins"
    )


def _retrain_steps(
    config: Config,
    store: Store,
    result: RetrainResult,
    plan: dict[str, Any],
    champion: Artifact,
    metric: str,
    command: str | None,
    who: str | None,
    say: Progress,
) -> None:
    run_id = result.run_id
    assert run_id is not None
    report_id = result.monitor.get("report_id")
    if report_id:
        store.link_run(run_id, report_id, "trigger")
    store.link_run(run_id, champion.id, "champion")
    candidate, ev = _train_and_compare(config, store, result, plan, champion, metric, command, say)
    result.evaluation_id = ev.evaluation_id
    if ev.evaluation_id:
        store.link_run(run_id, ev.evaluation_id, "evaluation")
    _decide(config, store, result, ev, champion, candidate, metric, who)
    _store_record(config, store, result, champion, candidate, command)


def _train_and_compare(
    config: Config,
    store: Store,
    result: RetrainResult,
    plan: dict[str, Any],
    champion: Artifact,
    metric: str,
    command: str | None,
    say: Progress,
) -> tuple[Artifact, EvaluationResult]:
    """Store the training set, train a candidate on it, evaluate it on the held-out recent rows
    against the champion."""
    from mlops.lifecycle.evaluate import evaluate
    from mlops.lifecycle.train import train

    run_id = result.run_id
    assert run_id is not None
    report_id = result.monitor.get("report_id")
    say("building the training set")
    with tempfile.TemporaryDirectory(prefix="mlops-retrain-", dir=store.root / "tmp") as tmp:
        train_frame, holdout = _build_frames(config, plan)
        train_path, holdout_path = Path(tmp) / "train.parquet", Path(tmp) / "recent.parquet"
        train_frame.to_parquet(train_path, index=False)
        holdout.to_parquet(holdout_path, index=False)
        result.training_set.update(  # type: ignore[union-attr]
            {"rows": len(train_frame), "holdout_rows": len(holdout)}
        )
        dataset = store.add_artifact(
            "dataset",
            f"{config.model.project}-retrain",
            {"train.parquet": train_path},
            metadata={
                "policy": plan["policy"],
                "sources": plan["files"],
                "held_out": plan["current"],
                "rows": len(train_frame),
            },
            parents=[report_id] if report_id else [],
            run_id=run_id,
            command=command,
        )
        cfg = _candidate_config(config, dataset.id, result.alias, metric)

        say(f"training a candidate on {len(train_frame)} rows")
        trained = train(cfg, store, command=command)
        candidate = store.get(trained.model["id"])
        result.candidate = _label(candidate)
        result.train_run_id = trained.run_id
        store.link_run(run_id, candidate.id, "candidate")

        say(f"comparing {candidate.label} with {champion.label} on recent data")
        ev = evaluate(cfg, store, model_ref=candidate.id, data=[str(holdout_path)], command=command)
    return candidate, ev


def _decide(
    config: Config,
    store: Store,
    result: RetrainResult,
    ev: EvaluationResult,
    champion: Artifact,
    candidate: Artifact,
    metric: str,
    who: str | None,
) -> None:
    """Promote the candidate when every rule of its evaluation passed; else keep the champion."""
    alias = result.alias
    run_id = result.run_id or ""
    beat = next((r for r in ev.rules if r.name == _BEATS.format(alias=alias)), None)
    champ_value = beat.extra.get("champion_value") if beat else None
    result.comparison = {
        "metric": metric,
        "candidate": ev.metrics.get(metric),
        "champion": champ_value,
        "min_improvement": config.model.retrain.min_improvement,
        "holdout_rows": ev.data.get("rows"),
        "rules": [r.to_dict() for r in ev.rules],
    }
    failed = [r for r in ev.rules if not r.passed]
    if failed:
        result.decision = KEPT
        result.why = f"kept {champion.label} @{alias}: " + "; ".join(
            f"{r.name}: {r.detail}" for r in failed
        )
        return
    why = (
        f"retrain ({'; '.join(result.reasons)}): {candidate.label} {metric} "
        f"{_num(ev.metrics.get(metric))} vs {_num(champ_value)} for {champion.label} on "
        f"{ev.data.get('rows')} held-out recent rows; run {run_id[:12]}"
    )
    try:
        store.set_alias(candidate, alias, why=why[:500], who=who, expect_from=champion.id)
    except LockedError as e:
        result.decision = KEPT
        result.why = f"kept the alias as it is: {e.message}"
    else:
        result.decision = PROMOTED
        result.why = why
        moves = store.alias_history(MODEL_KIND, candidate.name, alias)
        result.alias_move = moves[-1] if moves else None


def _store_record(
    config: Config,
    store: Store,
    result: RetrainResult,
    champion: Artifact,
    candidate: Artifact,
    command: str | None,
) -> None:
    """The `retrain` artifact: the whole result, its parents the inputs to the decision."""
    report_id = result.monitor.get("report_id")
    parents = [x for x in (report_id, champion.id, candidate.id, result.evaluation_id) if x]
    record = store.add_artifact(
        RETRAIN_KIND,
        config.model.project,
        {"retrain.json": json.dumps(result.to_dict(), sort_keys=True, default=str).encode()},
        metadata={
            "decision": result.decision,
            "why": result.why[:500],
            "reasons": result.reasons,
            "alias": result.alias,
            "champion": champion.id,
            "candidate": candidate.id,
            "monitor_report": report_id,
            "evaluation": result.evaluation_id,
            "alias_move_seq": (result.alias_move or {}).get("seq"),
        },
        parents=parents,
        run_id=result.run_id,
        command=command,
        reuse_unchanged=False,
    )
    result.record_id = record.id


# -- monitoring and triggers ----------------------------------------------------------------------
def _monitoring(
    config: Config,
    store: Store,
    specs: list[str],
    champion: Artifact,
    latest_report: bool,
    command: str | None,
) -> dict[str, Any]:
    """The monitoring summary that drives the decision: a fresh report, or the latest stored."""
    if latest_report:
        rows = store.list_rows(kind=REPORT_KIND, name=champion.name)
        if not rows:
            raise UsageError(
                f"no monitoring report for {champion.name} in the store",
                hint="run `mlops monitor` first, or drop --latest-report",
            )
        art = store.get(rows[-1]["id"])
        return {**art.metadata, "report_id": art.id, "via": "latest report"}
    if not specs:
        raise config.error(
            ("data", "current"),
            "no current batch to monitor",
            hint="pass the batch (`mlops retrain data/batches/2026-05.csv`) or set data.current",
        )
    from mlops.lifecycle.monitor import monitor

    m = monitor(config, store, data=specs, model=champion.id, command=command)
    return {**m.summary(), "report_id": m.report_id, "via": "monitor"}


def _triggers(
    config: Config, report: dict[str, Any], champion: Artifact, metric: str, force: bool
) -> list[str]:
    from mlops.lifecycle import metrics as M

    t = config.model.retrain.triggers
    reasons = ["--force"] if force else []
    share = report.get("share_drifted") or 0.0
    drifted_enough = bool(report.get("dataset_drift")) or (
        t.drift_share is not None and share >= t.drift_share
    )
    if t.drift and drifted_enough:
        drifted = report.get("drifted") or []
        cols = ", ".join(drifted[:4]) + (" ..." if len(drifted) > 4 else "")
        what = "dataset drift" if report.get("dataset_drift") else "drift"
        counted = f"{report.get('n_drifted')} of {report.get('n_features')} features"
        reasons.append(f"{what}: {counted} drifted" + (f" ({cols})" if cols else ""))
    highest = report.get("highest")
    severe = bool(t.min_severity and highest and _RANK.get(highest, -1) >= _RANK[t.min_severity])
    if severe and not (t.drift and drifted_enough):
        reasons.append(f"a {highest} monitoring alert")
    if t.performance_drop is not None:
        now = (report.get("performance") or {}).get(metric)
        ref = (report.get("reference_metrics") or {}).get(metric)
        if ref is None:
            ref = (champion.metadata.get("metrics") or {}).get(metric)
        if now is not None and ref is not None:
            drop = (ref - now) if M.greater_is_better(metric) else (now - ref)
            if drop > t.performance_drop:
                reasons.append(
                    f"{metric} fell from {_num(ref)} to {_num(now)} (more than {t.performance_drop:g})"
                )
    if t.max_age_days is not None:
        created = datetime.fromisoformat(champion.created_at.replace("Z", "+00:00"))
        age = (datetime.now(UTC) - created).total_seconds() / 86400
        if age > t.max_age_days:
            reasons.append(f"{champion.label} is {age:.0f} days old (max {t.max_age_days:g})")
    return reasons


# -- the training set ---------------------------------------------------------------------------
def training_plan(config: Config, specs: list[str]) -> dict[str, Any]:
    """Which files make the training set under the declared policy. Batches are retrain.batches
    sorted by name up to and including the current one; the current batch is split into a part
    trained on and a held-out part for the comparison."""
    rc = config.model.retrain
    current = _expand(config, specs)
    batches = _expand(config, rc.batches) if rc.batches else []
    cur_set = {_key(p) for p in current}
    if batches and cur_set & {_key(b) for b in batches}:
        last = max(i for i, b in enumerate(batches) if _key(b) in cur_set)
        so_far = [b for b in batches[: last + 1] if _key(b) not in cur_set]
    else:
        so_far = [
            b for b in batches if _key(b) not in cur_set and b.name < min(p.name for p in current)
        ]
    policy = rc.training_set.policy
    n = rc.training_set.window
    reference = _expand(config, config.model.data.train) if policy != "window" else []
    # window and reference_plus_recent: the current batch counts as one of the last n
    keep = len(so_far) if policy == "all" else n - 1
    earlier = so_far[len(so_far) - keep :] if keep > 0 else []
    paths = [*reference, *earlier, *current]
    return {
        "policy": policy if policy != "window" else f"window of {n}",
        "files": [_rel(config, p) for p in paths],
        "current": [_rel(config, p) for p in current],
        "paths": {"train": [*reference, *earlier], "current": current},
    }


def _build_frames(config: Config, plan: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    import numpy as np
    import pandas as pd

    rc = config.model.retrain
    current = _read(config, plan["paths"]["current"])
    rng = np.random.default_rng(rc.random_state)
    held = rng.random(len(current)) < rc.holdout_fraction
    holdout = current[held].reset_index(drop=True)
    parts = [_read(config, [p]) for p in plan["paths"]["train"]] + [current[~held]]
    frame = pd.concat(parts, ignore_index=True)
    return frame, holdout


def _candidate_config(config: Config, dataset_id: str, alias: str, metric: str) -> Config:
    """mlops.yaml with the training data replaced by the retrain dataset and one more gate rule:
    the candidate must beat the champion on the held-out recent rows."""
    from mlops.config import Config
    from mlops.config.evaluate import GateRule

    model = config.model.model_copy(deep=True)
    model.data.train = [f"dataset:{dataset_id}"]
    model.data.test = []
    rule = GateRule(
        name=_BEATS.format(alias=alias),
        metric=metric,
        against=alias,
        max_drop=-config.model.retrain.min_improvement,
    )
    model.evaluate.gate = [*model.evaluate.gate, rule]
    return Config(model=model, path=config.path, doc=config.doc)


_BEATS = "beats @{alias} on recent data"


def _compare_metric(config: Config, champion: Artifact) -> str:
    rc = config.model.retrain
    if rc.metric:
        return rc.metric
    if config.model.train.metrics:
        return config.model.train.metrics[0]
    metrics = list((champion.metadata.get("metrics") or {}).keys())
    if not metrics:
        raise config.error(("retrain", "metric"), "cannot tell which metric to compare on")
    return metrics[0]


# -- helpers ------------------------------------------------------------------------------------
def _expand(config: Config, specs: list[str]) -> list[DataFile]:
    from mlops.data.readers import expand_sources

    return expand_sources(specs, base=config.base_dir)


def _key(p: DataFile) -> str:
    """What identifies a file across specs: its resolved path, or its URL."""
    return str(p.resolve()) if isinstance(p, Path) else str(p)


def _read(config: Config, paths: list[DataFile]) -> pd.DataFrame:
    from mlops.data.readers import CsvOptions, read_frame

    d = config.model.data
    return read_frame(paths, csv_options=CsvOptions(delimiter=d.delimiter, encoding=d.encoding))


def _rel(config: Config, p: DataFile) -> str:
    if not isinstance(p, Path):
        return str(p)
    base = config.base_dir.resolve()
    rp = p.resolve()
    return rp.relative_to(base).as_posix() if rp.is_relative_to(base) else str(rp)


def _label(art: Artifact) -> dict[str, Any]:
    return {"id": art.id, "label": art.label, "version": art.version, "created_at": art.created_at}


def _num(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}"
