"""`demo`: lay out the churn example and run the whole loop on it, in-process.

run (validate, train, evaluate + promote, package), then for each later month: monitor the batch
against the champion (HTML report under DIR/reports/), and retrain when the policy says so,
promoting the candidate or keeping the champion. Nothing here prints (progress goes to `say`)
and nothing here renders: the caller passes the function that writes a monitor report's page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.atomic import atomic_write_text
from mlops.errors import InputError
from mlops.jsonable import fields_dict

if TYPE_CHECKING:
    from mlops.config import Config
    from mlops.lifecycle.monitor import MonitorResult
    from mlops.store import Store

Progress = Callable[[str], None]
# (path, MonitorResult, monitor history) -> the page written
PageWriter = Callable[[Path, "MonitorResult", list[dict[str, Any]]], Any]


@dataclass
class DemoResult:
    directory: str
    run: dict[str, Any]
    months: list[dict[str, Any]]
    champion: dict[str, Any] | None
    reports_dir: str
    duration_s: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


def lay_out(directory: Path, force: bool = False) -> Path:
    """The churn example plus an inferred schema (so validate runs); returns mlops.yaml."""
    from mlops.data.infer import SchemaInferrer
    from mlops.data.readers import read_frame
    from mlops.data.schema import dump_schema
    from mlops.examples import create_example

    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()) and not force:
        raise InputError(
            f"{directory} is not empty",
            hint="choose another DIR, pass --force to overwrite, or --temp for a fresh directory",
        )
    create_example("churn", directory, force=force)
    cfg = directory / "mlops.yaml"
    text = cfg.read_text(encoding="utf-8")
    if not any(line.startswith("schema:") for line in text.splitlines()):
        schema = SchemaInferrer().fit(read_frame([directory / "data" / "train.csv"])).schema_
        dump_schema(schema, directory / "schema.yaml")
        text += (
            "\nschema: schema.yaml                 # inferred from data/train.csv by mlops demo\n"
        )
    if not any(line.startswith("retrain:") for line in text.splitlines()):
        text += _RETRAIN
    atomic_write_text(cfg, text)
    return cfg


_RETRAIN = """
retrain:
  batches: data/batches/*.csv
  triggers: {drift: true, drift_share: 0.3, performance_drop: 0.05}
  training_set: {policy: reference_plus_recent, window: 2}
  holdout_fraction: 0.3
  min_improvement: 0.001
"""


def run_demo(
    directory: Path,
    write_page: PageWriter,
    force: bool = False,
    progress: Progress | None = None,
) -> DemoResult:
    """Lay out the churn example in directory and run the whole loop on it: `mlops run`, then
    for each later month monitor the batch and let `retrain` decide.

    Args:
        directory: where to lay out the example (must be empty unless force).
        write_page: writes a monitor report's HTML page.
        force: overwrite an example already in directory.
        progress: called with a short message at each step.

    Returns:
        The run's stages, each month's drift and decision, the champion at the end.

    Raises:
        InputError: directory is not empty and force is not set.
    """
    from mlops.config import default_store_path, load_config
    from mlops.lifecycle.loop.pipeline import run_pipeline
    from mlops.store import Store

    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    directory = Path(directory).resolve()
    say(f"laying out the churn example in {directory}")
    config = load_config(lay_out(directory, force=force))
    reports = directory / "reports"
    reports.mkdir(exist_ok=True)
    with Store.open(default_store_path(config)) as store:
        say("mlops run")
        run = run_pipeline(config, store, command="mlops demo", progress=say)
        months: list[dict[str, Any]] = []
        if run.passed:
            for batch in sorted((directory / "data" / "batches").glob("*.csv")):
                months.append(_month(config, store, batch, reports, write_page, say))
        from mlops.lifecycle.loop.retraining import champion_alias

        alias = champion_alias(config)
        holder = store.get_alias("model", config.model.project, alias)
        champion = None
        if holder:
            art = store.get(holder)
            champion = {"id": art.id, "label": art.label, "alias": alias}
    return DemoResult(
        directory=str(directory),
        run=run.to_dict(),
        months=months,
        champion=champion,
        reports_dir=str(reports),
        duration_s=round(time.perf_counter() - t0, 2),
    )


def _month(
    config: Config,
    store: Store,
    batch: Path,
    reports: Path,
    write_page: PageWriter,
    say: Progress,
) -> dict[str, Any]:
    from mlops.lifecycle.loop.retraining import champion_alias, retrain

    month = batch.stem
    spec = [str(batch)]
    html = reports / f"monitor-{month}.html"
    say(f"{month}: monitoring")
    _monitor(config, store, spec, champion_alias(config), html, write_page)
    say(f"{month}: deciding whether to retrain")
    r = retrain(config, store, spec, latest_report=True, command=f"mlops retrain {batch}")
    return {
        "month": month,
        "batch": str(batch),
        "monitor": {
            k: r.monitor.get(k)
            for k in ("report_id", "dataset_drift", "share_drifted", "n_drifted", "n_features")
        }
        | {"drifted": r.monitor.get("drifted") or []},
        "decision": r.decision,
        "reasons": r.reasons,
        "why": r.why,
        "candidate": r.candidate,
        "comparison": {k: v for k, v in (r.comparison or {}).items() if k != "rules"} or None,
        "failed_rules": [
            x["name"] for x in (r.comparison or {}).get("rules", []) if not x["passed"]
        ],
        "record_id": r.record_id,
        "report_html": str(html),
    }


def _monitor(
    config: Config, store: Store, spec: list[str], alias: str, html: Path, write_page: PageWriter
) -> None:
    """Run `mlops monitor` on the batch and write its HTML page."""
    from mlops.lifecycle.monitor import history, monitor

    holder = store.get_alias("model", config.model.project, alias)
    m = monitor(config, store, data=spec, model=holder, command=f"mlops monitor {spec[0]}")
    write_page(html, m, history(store, config.model.project))
