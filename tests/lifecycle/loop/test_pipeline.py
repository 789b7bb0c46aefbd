"""`mlops run`: stage order, the stage cache, and stopping at the first failure."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import run_cli
from mlops.config import load_config
from mlops.lifecycle.loop import run_pipeline, select_stages
from mlops.store import Store


def _run(project: Path, **kw):  # type: ignore[no-untyped-def]
    config = load_config(project / "mlops.yaml")
    with Store.open(project / ".mlops") as store:
        return run_pipeline(config, store, **kw), config


def _statuses(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {s.name: s.status for s in result.stages}


def test_second_run_skips_everything_and_a_train_param_reruns_train_and_after(project: Path):
    first, _ = _run(project)
    assert first.passed, first.to_dict()
    assert _statuses(first) == {"train": "ran", "evaluate": "ran", "package": "ran"}
    model = first.stage("train").outputs["model"]

    second, _ = _run(project)
    assert _statuses(second) == {"train": "skipped", "evaluate": "skipped", "package": "skipped"}
    assert second.stage("train").outputs["model"] == model

    cfg = project / "mlops.yaml"
    cfg.write_text(cfg.read_text().replace("C: 1.0", "C: 0.5"))
    third, _ = _run(project)
    assert _statuses(third) == {"train": "ran", "evaluate": "ran", "package": "ran"}
    assert "config train changed" in third.stage("train").reason
    assert third.stage("train").outputs["model"] != model

    forced, _ = _run(project, stages=["train"], force=True)
    assert _statuses(forced) == {"train": "ran"}


def test_validate_stage_skips_when_only_train_params_change(project: Path):
    from mlops.data.infer import SchemaInferrer
    from mlops.data.readers import read_frame
    from mlops.data.schema import dump_schema

    schema = SchemaInferrer().fit(read_frame([project / "data" / "train.csv"])).schema_
    dump_schema(schema, project / "schema.yaml")
    cfg = project / "mlops.yaml"
    cfg.write_text(cfg.read_text() + "schema: schema.yaml\npipeline: {stages: [validate, train]}\n")
    first, _ = _run(project)
    assert _statuses(first) == {"validate": "ran", "train": "ran"}
    cfg.write_text(cfg.read_text().replace("max_iter: 300", "max_iter: 200"))
    second, _ = _run(project)
    assert _statuses(second) == {"validate": "skipped", "train": "ran"}

    # new data reruns validate and train
    train_csv = project / "data" / "train.csv"
    lines = train_csv.read_text().splitlines()
    train_csv.write_text("\n".join(lines[:-5]) + "\n")
    third, _ = _run(project)
    assert _statuses(third) == {"validate": "ran", "train": "ran"}
    assert "data changed" in third.stage("validate").reason


def test_failing_gate_stops_the_pipeline_with_exit_1_and_is_not_cached(project: Path):
    cfg = project / "mlops.yaml"
    cfg.write_text(cfg.read_text().replace("roc_auc >= 0.6", "roc_auc >= 0.999"))
    result, _ = _run(project)
    assert _statuses(result) == {"train": "ran", "evaluate": "failed", "package": "not run"}
    assert result.exit_code == 1
    assert "gate failed" in result.stage("evaluate").message
    again, _ = _run(project)
    assert _statuses(again) == {"train": "skipped", "evaluate": "failed", "package": "not run"}


def test_select_stages_brings_upstream_along(project: Path):
    config = load_config(project / "mlops.yaml")
    assert select_stages(config, ["evaluate"]) == ["train", "evaluate"]
    assert select_stages(config, None) == ["train", "evaluate", "package"]


def test_cli_run_json_and_exit_codes(project: Path):
    p = run_cli("run", "train", "--json", cwd=project)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert [s["status"] for s in data["stages"]] == ["ran"]
    p = run_cli("run", "train", cwd=project)
    assert p.returncode == 0, p.stderr
    assert "skipped" in p.stdout
    p = run_cli("run", "nonsense", cwd=project)
    assert p.returncode == 2
    assert "no stage named" in p.stderr
