"""The loop end to end from the CLI, the example CI workflow's commands run locally, the demo."""

from __future__ import annotations

import getpass
import json
import os
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from helpers.cli import run_cli
from helpers.projects import write_project
from mlops.examples import template_text

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "churn"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "mlops.yml"
_STOP = {">", ">>", "2>", "2>>", "|", "||", "&&", ";"}


def _schema(project: Path) -> None:
    from mlops.data.infer import SchemaInferrer
    from mlops.data.readers import read_frame
    from mlops.data.schema import dump_schema

    schema = SchemaInferrer().fit(read_frame([project / "data" / "train.csv"])).schema_
    dump_schema(schema, project / "schema.yaml")
    cfg = project / "mlops.yaml"
    cfg.write_text(cfg.read_text() + "\nschema: schema.yaml\n")


def test_the_loop_end_to_end_from_the_cli(project: Path):
    _schema(project)
    run = run_cli("run", "--json", cwd=project)
    assert run.returncode == 0, run.stderr
    stages = {s["name"]: s["status"] for s in json.loads(run.stdout)["stages"]}
    assert stages == {"validate": "ran", "train": "ran", "evaluate": "ran", "package": "ran"}
    again = run_cli("run", "--json", cwd=project)
    assert {s["status"] for s in json.loads(again.stdout)["stages"]} == {"skipped"}

    batch = "data/batches/2026-05.csv"
    mon = run_cli(
        "monitor", batch, "--html", "reports/2026-05.html", "--fail-on", "none", cwd=project
    )
    assert mon.returncode == 0, mon.stderr
    assert (project / "reports" / "2026-05.html").is_file()
    dry = run_cli("retrain", batch, "--latest-report", "--dry-run", "--json", cwd=project)
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["decision"] == "dry-run", planned
    assert planned["reasons"] and "features drifted" in planned["reasons"][0]

    r = run_cli("retrain", batch, "--latest-report", "--json", cwd=project)
    result = json.loads(r.stdout)
    assert result["decision"] == "promoted", result["why"]
    assert r.returncode == 0
    lineage = run_cli("lineage", result["record_id"][:12], cwd=project)
    assert lineage.returncode == 0, lineage.stderr
    for kind in ("monitor-report", "dataset", "evaluation", "model"):
        assert kind in lineage.stdout
    history = run_cli("models", "history", "churn", "--json", cwd=project)
    assert history.returncode == 0, history.stderr
    assert result["run_id"][:12] in history.stdout


def _commands(line: str) -> tuple[list[str], set[int], str | None, list[str] | None] | None:
    """An mlops command line of the workflow: its arguments, the exit codes it allows, the
    file its stdout is redirected to, and the mlops command run when it fails (`A || mlops B`)."""
    words = shlex.split(line)
    if not words or words[0] != "mlops":
        return None
    cut = next((i for i, w in enumerate(words) if w in _STOP), len(words))
    allowed = {0, 1} if "test $? -eq 1" in line else {0}
    stdout = words[cut + 1] if cut < len(words) and words[cut] == ">" else None
    fallback = None
    if cut < len(words) and words[cut] == "||" and words[cut + 1] == "mlops":
        fallback = words[cut + 2 :]
    return words[1:cut], allowed, stdout, fallback


def _run_job(job: dict, project: Path, env: dict[str, str], published: list[str]) -> list[str]:
    """The mlops commands of one job, run in order in project (as a fresh runner would)."""
    ran = []
    for step in job["steps"]:
        published += _uploaded(step)
        for line in str(step.get("run") or "").splitlines():
            parsed = _commands(line.strip())
            if parsed is None:
                continue
            args, allowed, stdout, fallback = parsed
            args = [os.path.expandvars(a) if a.startswith("$") else a for a in args]
            p = run_cli(*args, cwd=project, env=env)
            ran.append(args[0])
            if p.returncode != 0 and fallback is not None:
                p = run_cli(*fallback, cwd=project, env=env)
                ran.append(fallback[0])
            assert p.returncode in allowed, f"{line}\n{p.stderr}"
            if stdout:
                (project / stdout).write_text(p.stdout)
    return ran


def _uploaded(step: dict) -> list[str]:
    """The paths an upload or report step of the workflow publishes."""
    uses, given = str(step.get("uses", "")), step.get("with") or {}
    if uses.startswith("actions/upload-artifact@"):
        return str(given["path"]).split()
    if uses.startswith("mikepenz/action-junit-report@"):
        return [str(given["report_paths"])]
    return []


def test_the_example_workflow_runs_locally_in_order(tmp_path: Path, monkeypatch):
    workflow = yaml.safe_load(WORKFLOW.read_text())
    # the example's own mlops.yaml, on fewer rows (so a looser absolute bound)
    config = template_text("churn.mlops.yaml").replace("roc_auc >= 0.75", "roc_auc >= 0.6")
    env = {"MLOPS_REMOTE_URL": (tmp_path / "remote").as_uri()}  # the secret, as a local remote
    monkeypatch.setenv("MLOPS_REMOTE_URL", env["MLOPS_REMOTE_URL"])
    runs = []
    for i, name in enumerate(["gate", "monitor", "monitor"]):  # each on a fresh runner
        project = write_project(tmp_path / f"runner-{i}", config=config)
        _schema(project)
        published: list[str] = []
        runs.append(_run_job(workflow["jobs"][name], project, env, published))
        for path in published:
            assert (project / path).exists(), path
    gate, first, second = runs
    assert gate == ["run", "evaluate"]
    # the first scheduled run finds an empty remote and trains; the next pulls what it promoted
    assert first == ["remote", "pull", "run", "monitor", "retrain", "push"]
    assert second == ["remote", "pull", "monitor", "retrain", "push"]
    assert (project / "reports" / "monitor.html").is_file()
    gate_xml = tmp_path / "runner-0" / "reports" / "gate.xml"
    suite = ET.parse(gate_xml).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and int(suite.get("tests")) >= 4
    decisions = [
        json.loads((tmp_path / f"runner-{i}" / "retrain.json").read_text())["decision"]
        for i in (1, 2)
    ]
    # the second run monitors the model the first one promoted (trained with May: no drift)
    assert decisions[0] in ("promoted", "kept") and decisions[1] != "dry-run"
    history = run_cli("--json", "models", "history", "churn", cwd=project)
    assert len(history.json()["events"]) >= 1  # the alias history came from the remote


def _actionlint() -> str | None:
    beside = Path(sys.executable).parent / "actionlint"
    return str(beside) if beside.is_file() else shutil.which("actionlint")


def test_the_example_workflow_passes_actionlint():
    actionlint = _actionlint()
    if actionlint is None:
        pytest.skip(
            "no actionlint binary: pip install -e '.[actionlint]' (its build downloads the binary "
            "from GitHub releases)"
        )
    p = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120
    )
    assert (p.returncode, p.stdout, p.stderr) == (0, "", ""), p.stdout + p.stderr


# the crontab's placeholders: where the project and its venv's mlops live
CRON_MLOPS = "/srv/churn/.venv/bin/mlops"
CRON_PROJECT = "/srv/churn"


def _crontab_command() -> str:
    """The command of the crontab's one job: what follows the five schedule fields."""
    lines = [
        ln for ln in (EXAMPLE / "crontab").read_text().splitlines() if ln and not ln.startswith("#")
    ]
    assert len(lines) == 1
    return lines[0].split(None, 5)[5]


@pytest.fixture(scope="module")
def cron_run(tmp_path_factory: pytest.TempPathFactory):
    """The churn example after `mlops run`, with May as the newest batch, and the crontab's
    command run once as cron runs it: /bin/sh, an empty environment but for cron's few variables,
    PATH=/usr/bin:/bin, started in $HOME."""
    mlops_bin = Path(sys.executable).parent / "mlops"
    if not mlops_bin.is_file():
        pytest.skip(f"no mlops console script beside {sys.executable} (pip install -e .)")
    home = tmp_path_factory.mktemp("cron-home")
    init = run_cli("init", "--example", "churn", "churn", cwd=home)
    assert init.returncode == 0, init.stderr
    project = home / "churn"
    run = run_cli("run", cwd=project)
    assert run.returncode == 0, run.stderr
    cfg = project / "mlops.yaml"  # the newest labelled batch, as the export would set it
    cfg.write_text(cfg.read_text().replace("data/batches/2026-06.csv", "data/batches/2026-05.csv"))
    assert not (project / "logs").exists()

    command = _crontab_command()
    assert CRON_MLOPS in command and CRON_PROJECT in command
    command = command.replace(CRON_MLOPS, str(mlops_bin)).replace(CRON_PROJECT, str(project))
    user = getpass.getuser()
    p = subprocess.run(
        [
            "env",
            "-i",
            "SHELL=/bin/sh",
            f"HOME={home}",
            f"LOGNAME={user}",
            f"USER={user}",
            "PATH=/usr/bin:/bin",
            "/bin/sh",
            "-c",
            command,
        ],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return project, p


def test_the_crontab_runs_under_cron(cron_run):
    project, p = cron_run
    err = project / "logs" / "retrain.err"
    assert p.returncode == 0, (p.stderr, err.read_text() if err.exists() else "")
    assert p.stdout == "" and p.stderr == ""  # everything went to the logs
    assert (project / "logs").is_dir() and err.is_file()
    log = (project / "logs" / "retrain.jsonl").read_text()
    assert log.strip()
    # May drifts in four of ten features: retrain, and the candidate beats January's model
    assert json.loads(log)["decision"] == "promoted"


def test_the_crontab_log_is_json_lines(cron_run):
    project, _ = cron_run
    lines = (project / "logs" / "retrain.jsonl").read_text().splitlines()
    assert lines
    for line in lines:
        json.loads(line)


# The demo's story, month by month: gradual drift below the trigger, then May's sudden drift
# retrains and promotes churn:2, and June's candidate beats it again.
STORY = ["no-retrain", "no-retrain", "no-retrain", "promoted", "promoted"]


def _demo(cwd: Path) -> dict:
    p = run_cli("demo", "d", "--json", cwd=cwd, timeout=900)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.slow
def test_demo_tells_the_story(tmp_path: Path):
    d = _demo(tmp_path)
    assert [s["status"] for s in d["run"]["stages"]] == ["ran"] * 4
    assert [m["month"] for m in d["months"]] == [
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
    ]
    assert [m["decision"] for m in d["months"]] == STORY
    assert [m["failed_rules"] for m in d["months"]] == [[]] * 5
    assert d["champion"]["label"] == "churn:3"
    for m in d["months"]:
        assert Path(m["report_html"]).is_file()
    again = run_cli("demo", "d", cwd=tmp_path)
    assert again.returncode == 2 and "not empty" in again.stderr


@pytest.mark.slow
def test_demo_decisions_do_not_depend_on_load(tmp_path: Path):
    """Both cores busy with other work: the same champion and the same decision every month."""
    busy = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        d = _demo(tmp_path)
    finally:
        for p in busy:
            p.kill()
            p.wait()
    assert [m["decision"] for m in d["months"]] == STORY
    assert d["champion"]["label"] == "churn:3"
