"""`run`: the lifecycle mlops.yaml declares (validate, train, evaluate, package), in order, with a
stage cache in the manner of DVC's run cache.

Each stage has a key: the SHA-256 of its inputs (the hashes of its data files, taken through the
store's state cache so unchanged files are not re-read; the hash of its own config section; the
versions of mlops, Python and the libraries that shape its result; and the ids of its upstream
stages' outputs). A stage whose key matches an earlier successful run is skipped and that run's
outputs are reused, provided they are still in the store (and, for package, on disk). Failed
stages are never cached. The evaluate stage is cached under the state it leaves behind (the alias
pointing at the model it promoted), so a rerun after a promotion is a hit, while a rerun after the
alias moved elsewhere evaluates (and promotes) again. Nothing here prints.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops import __version__
from mlops.config.pipeline import STAGES
from mlops.errors import ExitCode, MlopsError, UsageError
from mlops.jsonable import fields_dict
from mlops.lifecycle.runs import fail_run_on_error, type_and_text

if TYPE_CHECKING:
    from mlops.config import Config
    from mlops.store import Store

Progress = Callable[[str], None]

RAN, SKIPPED, FAILED, NOT_RUN = "ran", "skipped", "failed", "not run"
CACHE_FORMAT = 1
_LIBRARIES = ("scikit-learn", "pandas", "numpy", "scipy", "pyarrow", "joblib")


@dataclass
class StageResult:
    name: str
    status: str = NOT_RUN
    duration_s: float = 0.0
    exit_code: int = 0
    reason: str = ""
    message: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    key: str | None = None


@dataclass
class PipelineResult:
    stages: list[StageResult]
    run_id: str
    duration_s: float
    forced: bool

    @property
    def exit_code(self) -> int:
        for s in self.stages:
            if s.status == FAILED:
                return s.exit_code
        return int(ExitCode.OK)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def stage(self, name: str) -> StageResult:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        # kept: computed `passed`/`exit_code` first, keys in their published order
        return {
            "passed": self.passed,
            "exit_code": self.exit_code,
            "run_id": self.run_id,
            "duration_s": self.duration_s,
            "forced": self.forced,
            "stages": [fields_dict(s) for s in self.stages],
        }


class StageFailed(MlopsError):
    """A stage ran and a check failed (validation, the gate): exit 1, the pipeline stops."""

    exit_code = ExitCode.CHECK_FAILED

    def __init__(self, message: str, outputs: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.outputs = outputs or {}


# -- which stages -----------------------------------------------------------------------------
def declared_stages(config: Config) -> list[str]:
    """pipeline.stages, else validate (when a schema is declared), train, evaluate, package."""
    declared = config.model.pipeline.stages
    if declared is not None:
        return list(declared)
    stages = ["validate"] if config.model.schema_ is not None else []
    return stages + ["train", "evaluate", "package"]


def select_stages(config: Config, wanted: list[str] | None) -> list[str]:
    """The declared stages up to and including each wanted one (as `dvc repro TARGET`)."""
    declared = declared_stages(config)
    if not wanted:
        return declared
    for w in wanted:
        if w not in STAGES:
            raise UsageError(
                f"no stage named {w!r}", hint="stages: " + ", ".join(STAGES) + " (in this order)"
            )
        if w not in declared:
            raise UsageError(
                f"stage {w!r} is not in this pipeline",
                hint="declared stages: " + ", ".join(declared) + " (pipeline.stages in mlops.yaml)",
            )
    last = max(declared.index(w) for w in wanted)
    return declared[: last + 1]


# -- keys ---------------------------------------------------------------------------------------
def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def library_versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {
        "mlops": __version__,
        "python": ".".join(map(str, sys.version_info[:2])),
    }
    for lib in _LIBRARIES:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = None
    return out


def data_hashes(config: Config, store: Store, specs: list[str]) -> dict[str, str]:
    """{spec or path: hash} for data specs: files by content (state cache), store refs by id,
    objects in object storage by URL, size, ETag and version (not downloaded)."""
    from mlops.data.readers import expand_sources

    out: dict[str, str] = {}
    paths: list[str] = []
    for spec in specs:
        if spec.startswith("dataset:"):
            out[spec] = store.resolve(spec.removeprefix("dataset:"), kind="dataset").id
        else:
            paths.append(spec)
    if paths:
        base = config.base_dir.resolve()
        for p in expand_sources(paths, base=config.base_dir):
            if not isinstance(p, Path):
                out[str(p)] = _object_hash(p)
                continue
            rp = p.resolve()
            name = rp.relative_to(base).as_posix() if rp.is_relative_to(base) else str(rp)
            out[name] = store.hash_file(p)[0]
    return out


def _object_hash(url: Any) -> str:
    """A hash of what identifies an object's bytes (URL, size, ETag, version)."""
    described = json.dumps(url.describe(), sort_keys=True).encode()
    return hashlib.sha256(described).hexdigest()


def _data_subset(config: Config) -> dict[str, Any]:
    d = config.model.data
    return {
        "id_column": d.id_column,
        "time_column": d.time_column,
        "delimiter": d.delimiter,
        "encoding": d.encoding,
    }


def _schema_input(config: Config, store: Store) -> Any:
    declared = config.model.schema_
    if isinstance(declared, str):
        path = config.resolve_path(declared)
        return {"file": declared, "hash": store.hash_file(path)[0] if path.is_file() else None}
    return None if declared is None else declared.model_dump(mode="json")


def stage_inputs(
    config: Config, store: Store, stage: str, upstream: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Everything a stage's result depends on, as a JSON-able dict (its key is the hash)."""
    m = config.model
    inputs: dict[str, Any] = {"stage": stage, "cache_format": CACHE_FORMAT}
    libs = library_versions()
    if stage == "validate":
        inputs["config"] = {
            "schema": _schema_input(config, store),
            "validate": config.section_hash("validate")
            if "validate" in type(m).model_fields
            else None,
            "data": _data_subset(config),
        }
        inputs["data"] = data_hashes(config, store, [*m.data.train, *m.data.test])
        inputs["versions"] = {k: libs[k] for k in ("mlops", "python", "pandas", "pyarrow")}
    elif stage == "train":
        inputs["config"] = {
            "project": m.project,
            "train": config.section_hash("train"),
            "data": _data_subset(config),
        }
        inputs["data"] = data_hashes(config, store, m.data.train)
        inputs["versions"] = libs
        inputs["upstream"] = {"validate": upstream.get("validate", {}).get("report")}
    elif stage == "evaluate":
        promote = m.pipeline.promote
        inputs["config"] = {"evaluate": config.section_hash("evaluate"), "promote": promote}
        uses_test = m.evaluate.data == "test" or (m.evaluate.data == "auto" and m.data.test)
        inputs["data"] = data_hashes(config, store, m.data.test) if uses_test else {}
        inputs["versions"] = libs
        model = upstream.get("train", {}).get("model")
        inputs["upstream"] = {"model": model}
        inputs["aliases"] = _alias_state(config, store, model)
    elif stage == "package":
        inputs["config"] = {"package": config.section_hash("package")}
        inputs["versions"] = libs
        inputs["upstream"] = {"model": upstream.get("train", {}).get("model")}
    return inputs


def _alias_state(config: Config, store: Store, model_id: str | None) -> dict[str, str | None]:
    """Who holds every alias the gate compares with or promotes to (champions change results)."""
    if model_id is None or not store.has(model_id):
        return {}
    name = store.get(model_id).name
    aliases = {r.against for r in config.model.evaluate.gate if r.against}
    if config.model.pipeline.promote:
        aliases.add(config.model.pipeline.promote)
    return {a: store.get_alias("model", name, a) for a in sorted(aliases)}


def stage_key(inputs: dict[str, Any]) -> str:
    return _digest(inputs)


def _changed(before: dict[str, Any] | None, now: dict[str, Any]) -> str:
    """A short phrase naming what differs from the stage's last run."""
    if before is None:
        return "no earlier run"
    parts = []
    for k in ("config", "data", "upstream", "versions", "aliases"):
        if before.get(k) != now.get(k):
            if k == "config":
                keys = [
                    s
                    for s in (now.get(k) or {})
                    if (before.get(k) or {}).get(s) != (now.get(k) or {}).get(s)
                ]
                parts.append("config " + "/".join(keys) + " changed")
            elif k == "data":
                b, n = before.get(k) or {}, now.get(k) or {}
                files = sorted(f for f in set(b) | set(n) if b.get(f) != n.get(f))
                parts.append("data changed (" + ", ".join(files[:3]) + ")")
            elif k == "upstream":
                parts.append("upstream output changed")
            elif k == "versions":
                parts.append("library versions changed")
            else:
                parts.append("alias holder changed")
    return "; ".join(parts) or "inputs match an earlier run no longer cached"


# -- running ------------------------------------------------------------------------------------
def run_pipeline(
    config: Config,
    store: Store,
    stages: list[str] | None = None,
    force: bool = False,
    command: str | None = None,
    progress: Progress | None = None,
) -> PipelineResult:
    """`mlops run`: the selected stages (validate, train, evaluate, package) in order, each
    skipped when its cache key (data hashes, config section, versions, upstream ids) is unchanged.

    Args:
        config: the project's config.
        store: the store.
        stages: run up to and including these stages (default: every declared stage).
        force: run even the stages whose cache key is unchanged.
        command: the command line, recorded with the run.
        progress: called with a short message at each stage.

    Returns:
        Each stage's status (ran, skipped, failed, not run); the first failure's exit code is
        the result's.

    Raises:
        UsageError: an unknown stage, or one that `pipeline.stages` does not declare.
    """
    say = progress or (lambda _msg: None)
    selected = select_stages(config, stages)
    t0 = time.perf_counter()
    run_id = store.start_run(
        "pipeline",
        name=config.model.project,
        config_hash=config.hash,
        command=command,
        info={"stages": selected, "force": force},
    )
    results = [StageResult(s) for s in selected]
    upstream: dict[str, dict[str, Any]] = {}
    with fail_run_on_error(store, run_id, describe=type_and_text):
        for res in results:
            _run_stage(config, store, res, upstream, force, command, say)
            if res.status == FAILED:
                break
            upstream[res.name] = res.outputs
            for role, value in res.outputs.items():
                if isinstance(value, str) and len(value) == 64 and store.has(value):
                    store.link_run(run_id, value, f"{res.name}.{role}")
    result = PipelineResult(results, run_id, round(time.perf_counter() - t0, 4), force)
    store.finish_run(
        run_id,
        status="succeeded" if result.passed else "failed",
        info={
            "stages": {s.name: {"status": s.status, "duration_s": s.duration_s} for s in results},
            "exit_code": result.exit_code,
        },
    )
    return result


def _run_stage(
    config: Config,
    store: Store,
    res: StageResult,
    upstream: dict[str, dict[str, Any]],
    force: bool,
    command: str | None,
    say: Progress,
) -> None:
    t = time.perf_counter()
    try:
        inputs = stage_inputs(config, store, res.name, upstream)
        res.key = stage_key(inputs)
        last_key = f"last:{config.model.project}:{res.name}"
        cached = None if force else store.cache_get(res.key)
        if cached is not None and _outputs_present(store, cached.get("outputs", {})):
            res.status, res.outputs = SKIPPED, cached["outputs"]
            run = cached.get("run")
            res.reason = "inputs unchanged" + (f" since run {run[:8]}" if run else "")
            res.duration_s = round(time.perf_counter() - t, 4)
            return
        previous = store.cache_get(last_key)
        res.reason = "forced" if force else _changed(previous, inputs)
        say(f"{res.name}: running ({res.reason})")
        res.outputs = STAGE_FUNCS[res.name](config, store, upstream, command)
        res.status = RAN
        if res.name == "evaluate":  # cache under the alias state the stage leaves behind
            inputs = stage_inputs(config, store, res.name, upstream)
            res.key = stage_key(inputs)
        store.cache_put(
            res.key, res.name, {"outputs": res.outputs, "run": res.outputs.get("run_id")}
        )
        store.cache_put(last_key, res.name, inputs)
    except StageFailed as e:
        res.status, res.exit_code, res.message, res.outputs = FAILED, 1, e.message, e.outputs
    except MlopsError as e:
        res.status, res.exit_code = FAILED, int(e.exit_code)
        res.message = e.message + (f" ({e.hint})" if e.hint else "")
    finally:
        res.duration_s = round(time.perf_counter() - t, 4)


def _outputs_present(store: Store, outputs: dict[str, Any]) -> bool:
    """Cached outputs are reused only while they exist: artifacts in the store, files on disk."""
    for role in ("model", "evaluation", "package", "report", "dataset"):
        value = outputs.get(role)
        if isinstance(value, str) and not store.has(value):
            return False
    archive = outputs.get("archive")
    if archive:
        p = Path(archive)
        if not p.is_file() or store.hash_file(p)[0] != outputs.get("archive_sha256"):
            return False
    return True


# -- the stages ---------------------------------------------------------------------------------
def _stage_validate(
    config: Config, store: Store, upstream: dict[str, dict[str, Any]], command: str | None
) -> dict[str, Any]:
    from mlops.lifecycle.validate import validate

    result = validate(config, store, command=command)
    outputs = {
        "report": result.report_artifact.id if result.report_artifact is not None else None,
        "dataset": result.dataset.id if result.dataset is not None else None,
        "passed": result.passed,
    }
    if not result.passed:
        n = len(result.report.failures)
        raise StageFailed(f"validation failed: {n} check(s) failed", outputs)
    return outputs


def _stage_train(
    config: Config, store: Store, upstream: dict[str, dict[str, Any]], command: str | None
) -> dict[str, Any]:
    from mlops.lifecycle.train.step import train

    r = train(config, store, command=command)
    return {"model": r.model["id"], "model_label": r.model["label"], "run_id": r.run_id}


def _stage_evaluate(
    config: Config, store: Store, upstream: dict[str, dict[str, Any]], command: str | None
) -> dict[str, Any]:
    from mlops.lifecycle.evaluate.step import evaluate

    model = _upstream_model(upstream, "evaluate")
    alias = config.model.pipeline.promote
    r = evaluate(config, store, model_ref=model, promote=alias, command=command)
    promo = r.promotion or {}
    outputs = {
        "evaluation": r.evaluation_id,
        "passed": r.passed,
        "run_id": r.run_id,
        "promoted": bool(promo.get("moved")),
        "alias": alias,
        "promotion": promo.get("reason"),
    }
    if not r.passed:
        failed = [x.name for x in r.rules if not x.passed]
        raise StageFailed("gate failed: " + "; ".join(failed), outputs)
    return outputs


def _stage_package(
    config: Config, store: Store, upstream: dict[str, dict[str, Any]], command: str | None
) -> dict[str, Any]:
    from mlops.lifecycle.deploy.package import build_package

    model = _upstream_model(upstream, "package")
    pc = config.model.package
    r = build_package(
        store,
        model,
        config.resolve_path(pc.output_dir),
        base_image=pc.base_image,
        port=pc.serve.port,
        command=command,
    )
    return {
        "package": r.package.id,
        "package_label": r.package.label,
        "archive": str(r.archive.resolve()),
        "archive_sha256": r.archive_sha256,
    }


def _upstream_model(upstream: dict[str, dict[str, Any]], stage: str) -> str:
    model = upstream.get("train", {}).get("model")
    if not model:
        raise UsageError(
            f"the {stage} stage needs the train stage before it",
            hint="add train to pipeline.stages",
        )
    return str(model)


STAGE_FUNCS: dict[str, Callable[..., dict[str, Any]]] = {
    "validate": _stage_validate,
    "train": _stage_train,
    "evaluate": _stage_evaluate,
    "package": _stage_package,
}
